import { z } from 'zod';
import { defineEvent, uuid } from './contract.ts';

/**
 * Identity & Access (CIAM) domain events. Streams: `internal-user-<id>`,
 * `worker-account-<profileId>`, `signing-keys` (one stream: rotation is decided once),
 * `unknown-login-<hash>` (failed logins for accounts that do not exist).
 * Secrets never appear in clear: passwords and invite tokens as hashes, private keys
 * encrypted. The lake projector must drop `passwordHash` and `encryptedPrivateKey`.
 */
const source = 'ciam';

const role = z.enum(['ADMIN', 'MANAGER', 'WORKER']);
const internalRole = z.enum(['ADMIN', 'MANAGER']);
const accountKind = z.enum(['internal-user', 'profile']);
const instant = z.string().datetime();

export const UserInvited = defineEvent({
  source, type: 'UserInvited', version: 1, description: 'An admin invited an internal user; the invite token (hashed here) lets them set a password.',
  data: z.object({
    userId: uuid, email: z.string(), name: z.string(), role: internalRole, companyId: uuid.nullable(),
    inviteTokenHash: z.string(), inviteExpiresAt: instant,
  }),
});
export const PasswordSet = defineEvent({
  source, type: 'PasswordSet', version: 1, description: 'An internal user set their password (argon2 hash); the account is active.',
  data: z.object({ userId: uuid, passwordHash: z.string() }),
});
export const RoleChanged = defineEvent({
  source, type: 'RoleChanged', version: 1, description: "An internal user's role or company changed.",
  data: z.object({ userId: uuid, fromRole: internalRole, toRole: internalRole, fromCompanyId: uuid.nullable(), toCompanyId: uuid.nullable() }),
});
export const WorkerLoginEnabled = defineEvent({
  source, type: 'WorkerLoginEnabled', version: 1, description: 'A worker profile may log in by RUT and one-time code, for a company.',
  data: z.object({ profileId: uuid, rut: z.string(), companyId: uuid }),
});
export const LoginCodeSent = defineEvent({
  source, type: 'LoginCodeSent', version: 1, description: 'The first factor passed (or a worker asked); a one-time code was sent.',
  data: z.object({ accountId: uuid, accountKind, challengeId: z.string(), address: z.string().nullable() }),
});
export const LoginSucceeded = defineEvent({
  source, type: 'LoginSucceeded', version: 1, description: 'A login completed; a session started.',
  data: z.object({ accountId: uuid, accountKind, sessionId: z.string(), role, address: z.string().nullable() }),
});
export const LoginFailed = defineEvent({
  source, type: 'LoginFailed', version: 1, description: 'A login attempt failed; `failures` counts consecutive failures (lockout).',
  data: z.object({
    accountId: uuid.nullable(), accountKind: accountKind.nullable(), identifier: z.string().nullable(),
    reason: z.enum(['WRONG_PASSWORD', 'WRONG_CODE', 'CODE_ATTEMPTS_EXHAUSTED', 'LOCKED', 'NOT_ACTIVE', 'UNKNOWN_ACCOUNT']),
    failures: z.number().int(), address: z.string().nullable(),
  }),
});
export const AccountLocked = defineEvent({
  source, type: 'AccountLocked', version: 1, description: 'Too many consecutive failed logins: the account is locked until `lockedUntil`.',
  data: z.object({ accountId: uuid, accountKind, failures: z.number().int(), lockedUntil: instant }),
});
export const SessionRevoked = defineEvent({
  source, type: 'SessionRevoked', version: 1, description: 'A session ended before its time (logout, logout everywhere, refresh token reuse, role change).',
  data: z.object({
    accountId: uuid, accountKind, sessionId: z.string(),
    reason: z.enum(['LOGOUT', 'LOGOUT_EVERYWHERE', 'REFRESH_TOKEN_REUSED', 'ROLE_CHANGED']),
  }),
});
export const SigningKeyCreated = defineEvent({
  source, type: 'SigningKeyCreated', version: 1, description: 'A new JWT signing key; it signs from `activatesAt`, older keys stay published until their tokens expire.',
  data: z.object({ kid: z.string(), alg: z.string(), publicJwk: z.record(z.string(), z.unknown()), encryptedPrivateKey: z.string(), activatesAt: instant }),
});

export const ciamEvents = {
  UserInvited, PasswordSet, RoleChanged, WorkerLoginEnabled, LoginCodeSent, LoginSucceeded, LoginFailed, AccountLocked,
  SessionRevoked, SigningKeyCreated,
} as const;

type Contracts = typeof ciamEvents;
/** A CIAM event as decided by a command: `{ type, data }` typed per contract. */
export type CiamEvent = {
  [K in keyof Contracts]: { type: K; data: z.infer<Contracts[K]['data']>; subjects?: string[]; version?: number };
}[keyof Contracts];
