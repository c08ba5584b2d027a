import type { Queryable } from '../../../platform/postgres/pool.ts';
import { prepared, run } from '../../../platform/postgres/pool.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { CiamEvent } from '../../../schema/events/ciam.ts';

/**
 * The inline projection: CIAM events -> read tables, one prepared statement per event.
 * Uses only what the event carries, never now(), so a rebuild reproduces every row.
 * Login events land on the account's table by kind; those about unknown accounts and
 * code-sent events change no row.
 */

const S = {
  UserInvited: prepared(
    'ciam_user_invited',
    `INSERT INTO internal_users (id, version, updated_at, email, name, role, company_id, status, position, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'INVITED', $8, $3)`,
  ),
  PasswordSet: prepared(
    'ciam_password_set',
    `UPDATE internal_users SET status = 'ACTIVE', password_hash = $4, version = $2, updated_at = $3 WHERE id = $1`,
  ),
  RoleChanged: prepared(
    'ciam_role_changed',
    `UPDATE internal_users SET role = $4, company_id = $5, version = $2, updated_at = $3 WHERE id = $1`,
  ),
  WorkerLoginEnabled: prepared(
    'ciam_worker_login_enabled',
    `INSERT INTO worker_accounts (profile_id, version, updated_at, rut, company_id, position, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $3)
     ON CONFLICT (profile_id) DO UPDATE SET rut = EXCLUDED.rut, company_id = EXCLUDED.company_id,
       version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
  ),
  UserFailed: prepared('ciam_user_failed', `UPDATE internal_users SET failed_logins = $4, version = $2, updated_at = $3 WHERE id = $1`),
  WorkerFailed: prepared('ciam_worker_failed', `UPDATE worker_accounts SET failed_logins = $4, version = $2, updated_at = $3 WHERE profile_id = $1`),
  UserLocked: prepared(
    'ciam_user_locked',
    `UPDATE internal_users SET failed_logins = 0, locked_until = $4, version = $2, updated_at = $3 WHERE id = $1`,
  ),
  WorkerLocked: prepared(
    'ciam_worker_locked',
    `UPDATE worker_accounts SET failed_logins = 0, locked_until = $4, version = $2, updated_at = $3 WHERE profile_id = $1`,
  ),
  UserSucceeded: prepared(
    'ciam_user_succeeded',
    `UPDATE internal_users SET failed_logins = 0, locked_until = NULL, last_login_at = $3, version = $2, updated_at = $3 WHERE id = $1`,
  ),
  WorkerSucceeded: prepared(
    'ciam_worker_succeeded',
    `UPDATE worker_accounts SET failed_logins = 0, locked_until = NULL, last_login_at = $3, version = $2, updated_at = $3 WHERE profile_id = $1`,
  ),
  UserVersion: prepared('ciam_user_version', `UPDATE internal_users SET version = $2, updated_at = $3 WHERE id = $1`),
  WorkerVersion: prepared('ciam_worker_version', `UPDATE worker_accounts SET version = $2, updated_at = $3 WHERE profile_id = $1`),
  SigningKeyCreated: prepared(
    'ciam_signing_key_created',
    `INSERT INTO signing_keys (kid, alg, public_jwk, encrypted_private_key, activates_at, position, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  ),
};

type Statement = [keyof typeof S, unknown[]] | null;

function statementFor(event: RecordedEvent<CiamEvent>): Statement {
  const e = event as unknown as CiamEvent;
  const v = event.streamVersion;
  const at = event.occurredAt;
  const pos = event.globalPosition;
  const byKind = (kind: 'internal-user' | 'profile' | null, user: keyof typeof S, worker: keyof typeof S) =>
    kind === 'internal-user' ? user : kind === 'profile' ? worker : null;
  switch (e.type) {
    case 'UserInvited': {
      const d = e.data;
      return [e.type, [d.userId, v, at, d.email, d.name, d.role, d.companyId, pos]];
    }
    case 'PasswordSet':
      return [e.type, [e.data.userId, v, at, e.data.passwordHash]];
    case 'RoleChanged':
      return [e.type, [e.data.userId, v, at, e.data.toRole, e.data.toCompanyId]];
    case 'WorkerLoginEnabled':
      return [e.type, [e.data.profileId, v, at, e.data.rut, e.data.companyId, pos]];
    case 'LoginFailed': {
      const name = e.data.accountId ? byKind(e.data.accountKind, 'UserFailed', 'WorkerFailed') : null;
      return name ? [name, [e.data.accountId, v, at, e.data.failures]] : null;
    }
    case 'AccountLocked': {
      const name = byKind(e.data.accountKind, 'UserLocked', 'WorkerLocked')!;
      return [name, [e.data.accountId, v, at, e.data.lockedUntil]];
    }
    case 'LoginSucceeded':
      return [byKind(e.data.accountKind, 'UserSucceeded', 'WorkerSucceeded')!, [e.data.accountId, v, at]];
    case 'LoginCodeSent':
    case 'SessionRevoked':
      return [byKind(e.data.accountKind, 'UserVersion', 'WorkerVersion')!, [e.data.accountId, v, at]];
    case 'SigningKeyCreated': {
      const d = e.data;
      return [e.type, [d.kid, d.alg, JSON.stringify(d.publicJwk), d.encryptedPrivateKey, d.activatesAt, pos, at]];
    }
  }
}

/** Applies events to the read tables in the caller's transaction. */
export async function projectCiam(tx: Queryable, events: RecordedEvent[]): Promise<void> {
  for (const event of events) {
    const statement = statementFor(event as RecordedEvent<CiamEvent>);
    if (statement) await run(tx, S[statement[0]], statement[1]);
  }
}
