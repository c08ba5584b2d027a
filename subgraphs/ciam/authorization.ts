import type { IncomingMessage } from 'node:http';
import type { Identity } from '../../platform/auth/identity.ts';
import { ForbiddenError, UnauthenticatedError } from '../../platform/errors.ts';
import { actorOf as platformActorOf } from '../../platform/graphql/context.ts';
import type { CommandContext } from './commands.ts';

/** Who may do what in CIAM: one place, read by every resolver. */

/** The client address for rate limits: the first hop the gateway put in x-forwarded-for, else the socket's. */
export function clientAddress(req: IncomingMessage): string | null {
  const raw = req.headers['x-forwarded-for'];
  const first = (Array.isArray(raw) ? raw[0] : raw)?.split(',')[0]?.trim();
  const address = first && /^[0-9a-fA-F.:]{2,45}$/.test(first) ? first : req.socket.remoteAddress;
  return address ?? null;
}

export function requireIdentity(identity: Identity | null): Identity {
  if (!identity) throw new UnauthenticatedError('Log in first');
  return identity;
}

export function requireAdmin(identity: Identity | null): Identity {
  const id = requireIdentity(identity);
  if (id.role !== 'ADMIN') throw new ForbiddenError('Only an ADMIN may do this');
  return id;
}

/** ADMIN, or the MANAGER of this company. */
export function canManageCompany(identity: Identity, companyId: string | null): boolean {
  return identity.role === 'ADMIN' || (identity.role === 'MANAGER' && companyId !== null && identity.companyId === companyId);
}

/** Whether the caller sees a user's private details (email, status, logins, audit). */
export function seesUserDetails(identity: Identity | null, user: { id: string; companyId: string | null }): boolean {
  if (!identity) return false;
  return (identity.kind === 'internal-user' && identity.userId === user.id) || canManageCompany(identity, user.companyId);
}

/** The company a list may cover: ADMIN any (or all), MANAGER only theirs; others are refused. */
export function listScope(identity: Identity | null, companyId: string | null): string | null {
  const id = requireIdentity(identity);
  if (id.role === 'ADMIN') return companyId;
  if (id.role === 'MANAGER' && id.companyId && (companyId === null || companyId === id.companyId)) return id.companyId;
  throw new ForbiddenError('You may list only your own company');
}

/** The event actor for a signed-in caller. */
export function actorOf(identity: Identity): CommandContext['actor'] {
  return platformActorOf(identity)!;
}
