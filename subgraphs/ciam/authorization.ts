import type { Identity } from '../../platform/auth/identity.ts';
import { ForbiddenError } from '../../platform/errors.ts';
import { requireIdentity } from '../../platform/graphql/context.ts';

/** Who may do what in CIAM: one place, read by every resolver. */

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
  // The company first: when it decides, the answer does not depend on who the caller is (response cache: shared, not per user).
  return canManageCompany(identity, user.companyId) || (identity.kind === 'internal-user' && identity.userId === user.id);
}

/** The company a list may cover: ADMIN any (or all), MANAGER only theirs; others are refused. */
export function listScope(identity: Identity | null, companyId: string | null): string | null {
  const id = requireIdentity(identity);
  if (id.role === 'ADMIN') return companyId;
  if (id.role === 'MANAGER' && id.companyId && (companyId === null || companyId === id.companyId)) return id.companyId;
  throw new ForbiddenError('You may list only your own company');
}

