import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../logger.ts';
import { UnauthenticatedError } from '../errors.ts';
import type { EventMetadata } from '../event-store/types.ts';

/** Who is calling. Until Identity & Access lands, only development identities exist. */
export interface Actor {
  id: string;
  kind: EventMetadata['actor']['kind'];
}

/** What every resolver of every subgraph gets. */
export interface RequestContext {
  actor: Actor | null;
  correlationId: string;
  log: Logger;
}

export const DEV_USER_HEADER = 'x-angelis-dev-user';
export const CORRELATION_HEADER = 'x-correlation-id';

const SAFE_ID = /^[A-Za-z0-9@._:+-]{1,200}$/;

/**
 * The acting user from the development header, accepted only outside production.
 * In production there is no way in yet: every request is anonymous.
 */
export function actorFromHeaders(headers: IncomingHttpHeaders, nodeEnv: string): Actor | null {
  if (nodeEnv === 'production') return null;
  const raw = headers[DEV_USER_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return null;
  if (!SAFE_ID.test(value)) {
    const error = new UnauthenticatedError(`${DEV_USER_HEADER} must be 1-200 letters, digits or @._:+-`);
    // Thrown while building the context, before any resolver: answer 401, not 500.
    Object.assign(error.extensions, { http: { status: 401 } });
    throw error;
  }
  return { id: value, kind: 'dev' };
}

/** The caller's correlation id if it is sane, else a new one. */
export function correlationIdFrom(headers: IncomingHttpHeaders): string {
  const raw = headers[CORRELATION_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value && /^[A-Za-z0-9._-]{8,100}$/.test(value) ? value : randomUUID();
}

/** The actor, or UNAUTHENTICATED. */
export function requireActor(ctx: RequestContext): Actor {
  if (!ctx.actor) throw new UnauthenticatedError(`Sign in first (in development: send the ${DEV_USER_HEADER} header)`);
  return ctx.actor;
}
