import type { Queryable } from '../../../platform/postgres/pool.ts';
import { prepared, run } from '../../../platform/postgres/pool.ts';
import type { Page } from '../../../platform/graphql/pagination.ts';

/** Reads of the CIAM read tables: every list is keyset-paginated on `position`. */

export interface InternalUserRow {
  id: string;
  email: string;
  name: string;
  role: 'ADMIN' | 'MANAGER';
  companyId: string | null;
  status: 'INVITED' | 'ACTIVE';
  passwordHash: string | null;
  failedLogins: number;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  version: number;
  position: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface WorkerAccountRow {
  profileId: string;
  rut: string;
  companyId: string;
  failedLogins: number;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  version: number;
  position: number;
  createdAt: Date;
}

export interface SigningKeyRow {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  encryptedPrivateKey: string;
  activatesAt: Date;
  createdAt: Date;
}

const USER = `id, email, name, role, company_id AS "companyId", status, password_hash AS "passwordHash",
  failed_logins AS "failedLogins", locked_until AS "lockedUntil", last_login_at AS "lastLoginAt", version, position,
  created_at AS "createdAt", updated_at AS "updatedAt"`;
const WORKER = `profile_id AS "profileId", rut, company_id AS "companyId", failed_logins AS "failedLogins",
  locked_until AS "lockedUntil", last_login_at AS "lastLoginAt", version, position, created_at AS "createdAt"`;

const Q = {
  users: prepared('ciam_users', `SELECT ${USER} FROM internal_users WHERE id = ANY($1::uuid[])`),
  userByEmail: prepared('ciam_user_by_email', `SELECT ${USER} FROM internal_users WHERE email = $1`),
  listUsers: prepared(
    'ciam_list_users',
    `SELECT ${USER} FROM internal_users
     WHERE position > $1 AND ($3::uuid IS NULL OR company_id = $3)
       AND ($4::text IS NULL OR lower(name) LIKE '%' || $4 || '%' OR email LIKE '%' || $4 || '%')
     ORDER BY position LIMIT $2`,
  ),
  workers: prepared('ciam_workers', `SELECT ${WORKER} FROM worker_accounts WHERE profile_id = ANY($1::uuid[])`),
  workerByRut: prepared('ciam_worker_by_rut', `SELECT ${WORKER} FROM worker_accounts WHERE rut = $1`),
  listWorkers: prepared(
    'ciam_list_workers',
    `SELECT ${WORKER} FROM worker_accounts WHERE position > $1 AND ($3::uuid IS NULL OR company_id = $3) ORDER BY position LIMIT $2`,
  ),
  keys: prepared(
    'ciam_signing_keys',
    `SELECT kid, alg, public_jwk AS "publicJwk", encrypted_private_key AS "encryptedPrivateKey", activates_at AS "activatesAt",
            created_at AS "createdAt"
     FROM signing_keys ORDER BY position`,
  ),
};

export const readModel = {
  async users(q: Queryable, ids: readonly string[]) {
    return (await run<InternalUserRow>(q, Q.users, [ids])).rows;
  },
  async userByEmail(q: Queryable, email: string) {
    return (await run<InternalUserRow>(q, Q.userByEmail, [email])).rows[0] ?? null;
  },
  /** Up to `limit + 1` users after the page's position, optionally of one company / matching a search. */
  async listUsers(q: Queryable, page: Page, companyId: string | null, search: string | null) {
    return (await run<InternalUserRow>(q, Q.listUsers, [page.afterPosition, page.limit + 1, companyId, search])).rows;
  },
  async workers(q: Queryable, profileIds: readonly string[]) {
    return (await run<WorkerAccountRow>(q, Q.workers, [profileIds])).rows;
  },
  async workerByRut(q: Queryable, rut: string) {
    return (await run<WorkerAccountRow>(q, Q.workerByRut, [rut])).rows[0] ?? null;
  },
  async listWorkers(q: Queryable, page: Page, companyId: string | null) {
    return (await run<WorkerAccountRow>(q, Q.listWorkers, [page.afterPosition, page.limit + 1, companyId])).rows;
  },
  /** Every signing key, oldest first. */
  async signingKeys(q: Queryable) {
    return (await run<SigningKeyRow>(q, Q.keys, [])).rows;
  },
};
