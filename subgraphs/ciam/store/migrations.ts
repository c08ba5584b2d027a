import { eventStoreMigration } from '../../../platform/event-store/postgres.ts';
import type { Migration } from '../../../platform/postgres/migrate.ts';

/**
 * CIAM schema. Read tables are projections of the events (`rebuild` truncates and
 * replays). `position` is the global position of the row's creating event.
 * Frozen once released: add a migration, never edit one.
 */
export const ciamMigrations: Migration[] = [
  eventStoreMigration,
  {
    version: 2,
    name: 'ciam read tables',
    sql: `
CREATE TABLE internal_users (
  id uuid PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL, role text NOT NULL, company_id uuid,
  status text NOT NULL, password_hash text, failed_logins int NOT NULL DEFAULT 0, locked_until timestamptz,
  last_login_at timestamptz, version bigint NOT NULL, position bigint NOT NULL UNIQUE,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE INDEX internal_users_company ON internal_users (company_id, position);
CREATE TABLE worker_accounts (
  profile_id uuid PRIMARY KEY, rut text NOT NULL UNIQUE, company_id uuid NOT NULL,
  failed_logins int NOT NULL DEFAULT 0, locked_until timestamptz, last_login_at timestamptz,
  version bigint NOT NULL, position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE INDEX worker_accounts_company ON worker_accounts (company_id, position);
CREATE TABLE signing_keys (
  kid text PRIMARY KEY, alg text NOT NULL, public_jwk jsonb NOT NULL, encrypted_private_key text NOT NULL,
  activates_at timestamptz NOT NULL, position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL
);
`,
  },
];

/** The read tables `rebuild` truncates and replays. */
export const ciamReadTables = ['internal_users', 'worker_accounts', 'signing_keys'];
