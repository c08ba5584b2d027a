import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../logger.ts';
import { UnauthenticatedError, unauthenticatedRequest } from '../errors.ts';
import type { EventMetadata } from '../event-store/types.ts';
import { IDENTITY_HEADER, SERVICE_USER_PREFIX, verifyIdentity, type Identity, type Role } from '../auth/identity.ts';

/** Who acted, as recorded in event metadata. */
export interface Actor {
  id: string;
  kind: EventMetadata['actor']['kind'];
}

/** What every resolver of every subgraph gets. */
export interface RequestContext {
  /** The caller, verified; null when anonymous. */
  identity: Identity | null;
  /** The caller as event metadata records it (derived from `identity`). */
  actor: Actor | null;
  correlationId: string;
  log: Logger;
}

export const DEV_USER_HEADER = 'x-angelis-dev-user';
export const DEV_ROLE_HEADER = 'x-angelis-dev-role';
export const DEV_COMPANY_HEADER = 'x-angelis-dev-company';
export const DEV_PROFILE_HEADER = 'x-angelis-dev-profile';
export const CORRELATION_HEADER = 'x-correlation-id';

const SAFE_ID = /^[A-Za-z0-9@._:+-]{1,200}$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name];
  return Array.isArray(raw) ? raw[0] : raw;
}


/**
 * A development identity from headers, never in production: `x-angelis-dev-user` names
 * the caller (ADMIN unless `x-angelis-dev-role` says MANAGER or WORKER, with
 * `x-angelis-dev-company` / `x-angelis-dev-profile`). Lets anyone try every role locally.
 */
export function devIdentityFromHeaders(headers: IncomingHttpHeaders, nodeEnv: string): Identity | null {
  if (nodeEnv === 'production') return null;
  const user = header(headers, DEV_USER_HEADER);
  if (!user) return null;
  if (!SAFE_ID.test(user)) throw unauthenticatedRequest(`${DEV_USER_HEADER} must be 1-200 letters, digits or @._:+-`);
  // A service identity is signed by the service itself; a header must not be able to claim one.
  if (user.startsWith(SERVICE_USER_PREFIX)) throw unauthenticatedRequest(`${DEV_USER_HEADER} cannot name a service (${SERVICE_USER_PREFIX}...)`);
  const role = (header(headers, DEV_ROLE_HEADER) ?? 'ADMIN').toUpperCase() as Role;
  if (!['ADMIN', 'MANAGER', 'WORKER'].includes(role)) throw unauthenticatedRequest(`${DEV_ROLE_HEADER} must be ADMIN, MANAGER or WORKER`);
  const companyId = header(headers, DEV_COMPANY_HEADER) ?? null;
  const profileId = header(headers, DEV_PROFILE_HEADER) ?? null;
  if (role === 'MANAGER' && !companyId) throw unauthenticatedRequest(`a MANAGER needs ${DEV_COMPANY_HEADER}`);
  if (role === 'WORKER' && !profileId) throw unauthenticatedRequest(`a WORKER needs ${DEV_PROFILE_HEADER}`);
  for (const id of [companyId, profileId]) if (id !== null && !SAFE_ID.test(id)) throw unauthenticatedRequest('development headers hold ids');
  return {
    userId: role === 'WORKER' ? profileId! : user,
    kind: role === 'WORKER' ? 'profile' : 'internal-user',
    role,
    companyId: role === 'ADMIN' ? null : companyId,
    profileId: role === 'WORKER' ? profileId : null,
    sessionId: 'dev',
    dev: true,
  };
}

/**
 * The caller of a subgraph: the identity the gateway signed (the only kind trusted in
 * production), else a development identity outside production, else anonymous.
 */
export function identityFromSubgraphRequest(headers: IncomingHttpHeaders, nodeEnv: string, identitySecret: string): Identity | null {
  const signed = header(headers, IDENTITY_HEADER);
  if (signed) {
    try {
      return verifyIdentity(signed, identitySecret);
    } catch (err) {
      throw unauthenticatedRequest((err as Error).message);
    }
  }
  return devIdentityFromHeaders(headers, nodeEnv);
}

/** The actor recorded in events for an identity. */
export function actorOf(identity: Identity): Actor;
export function actorOf(identity: Identity | null): Actor | null;
export function actorOf(identity: Identity | null): Actor | null {
  if (!identity) return null;
  return { id: identity.userId, kind: identity.dev ? 'dev' : identity.kind };
}

/** The caller's correlation id if it is sane, else a new one. */
export function correlationIdFrom(headers: IncomingHttpHeaders): string {
  const value = header(headers, CORRELATION_HEADER);
  return value && /^[A-Za-z0-9._-]{8,100}$/.test(value) ? value : randomUUID();
}

/** The identity, or UNAUTHENTICATED. */
export function requireIdentity(identity: Identity | null): Identity {
  if (!identity) throw new UnauthenticatedError(`Sign in first (in development: send the ${DEV_USER_HEADER} header)`);
  return identity;
}

/** The caller as event metadata records it, or UNAUTHENTICATED. */
export function requireActor(ctx: RequestContext): Actor {
  return actorOf(requireIdentity(ctx.identity));
}
