import { eventStoreMigration } from '../../../platform/event-store/postgres.ts';
import type { Migration } from '../../../platform/postgres/migrate.ts';

/**
 * Workforce schema. Read tables are projections of the events: `rebuild` truncates them
 * and replays. `position` is the global position of the row's creating event, a stable
 * key for cursor pagination that a rebuild reproduces exactly.
 * Frozen once released: add a migration, never edit one (a test checks the checksums).
 */
export const workforceMigrations: Migration[] = [
  eventStoreMigration,
  {
    version: 2,
    name: 'workforce read tables',
    sql: `
CREATE TABLE companies (
  id uuid PRIMARY KEY, name text NOT NULL, tax_rut text NOT NULL UNIQUE, status text NOT NULL,
  version bigint NOT NULL, position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE offerings (
  id uuid PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, description text,
  position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL
);
CREATE TABLE subscriptions (
  id uuid PRIMARY KEY, company_id uuid NOT NULL, offering_id uuid NOT NULL, seats int NOT NULL,
  starts_on date NOT NULL, ends_on date, status text NOT NULL, cancelled_on date, cancel_reason text,
  position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE INDEX subscriptions_company ON subscriptions (company_id, position);
CREATE TABLE projects (
  id uuid PRIMARY KEY, company_id uuid NOT NULL, name text NOT NULL, faena_code text NOT NULL UNIQUE,
  location text, starts_on date NOT NULL, ends_on date, status text NOT NULL, closed_on date,
  version bigint NOT NULL, position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE INDEX projects_company ON projects (company_id, position);
CREATE INDEX projects_status ON projects (status, position);
CREATE TABLE assignments (
  id uuid PRIMARY KEY, project_id uuid NOT NULL, company_id uuid NOT NULL, name text NOT NULL,
  starts_on date NOT NULL, ends_on date, position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL
);
CREATE INDEX assignments_project ON assignments (project_id, position);
CREATE TABLE profiles (
  id uuid PRIMARY KEY, rut text NOT NULL UNIQUE, first_name text NOT NULL, last_name text NOT NULL,
  full_name text GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED,
  email text, phone text, birth_date date, created_by text NOT NULL,
  version bigint NOT NULL, position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE INDEX profiles_full_name ON profiles (lower(full_name) text_pattern_ops);
CREATE TABLE profile_companies (
  profile_id uuid NOT NULL, company_id uuid NOT NULL, job_title text, supervisor_id uuid,
  started_on date NOT NULL, ended_on date, status text NOT NULL,
  position bigint NOT NULL UNIQUE, updated_at timestamptz NOT NULL,
  PRIMARY KEY (profile_id, company_id)
);
CREATE INDEX profile_companies_company ON profile_companies (company_id, position);
CREATE INDEX profile_companies_supervisor ON profile_companies (supervisor_id);
CREATE TABLE profile_assignments (
  profile_id uuid NOT NULL, assignment_id uuid NOT NULL, project_id uuid NOT NULL, status text NOT NULL,
  assigned_at timestamptz NOT NULL, unassigned_at timestamptz,
  position bigint NOT NULL UNIQUE, PRIMARY KEY (assignment_id, profile_id)
);
CREATE INDEX profile_assignments_profile ON profile_assignments (profile_id, position);
CREATE TABLE licenses (
  id uuid PRIMARY KEY, profile_id uuid NOT NULL, type text NOT NULL, number text NOT NULL,
  issued_on date NOT NULL, expires_on date NOT NULL, revoked boolean NOT NULL DEFAULT false, revoked_on date,
  revoke_reason text, position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE INDEX licenses_profile ON licenses (profile_id, position);
CREATE INDEX licenses_expiry ON licenses (expires_on) WHERE NOT revoked;
`,
  },
  {
    version: 3,
    name: 'personal data per recording company',
    // Empty to begin with, as a rebuild would leave it: every profile event before this
    // migration was recorded under no company. `profiles.email/phone/birth_date` keep each
    // field as last recorded by anyone; `created_for` is the company that created the profile.
    sql: `
CREATE TABLE profile_personal_data (
  profile_id uuid NOT NULL, company_id uuid NOT NULL, email text, phone text, birth_date date,
  position bigint NOT NULL UNIQUE, updated_at timestamptz NOT NULL,
  PRIMARY KEY (profile_id, company_id)
);
ALTER TABLE profiles ADD COLUMN created_for uuid;
`,
  },
  {
    version: 4,
    name: 'notifications',
    // `transaction_id, position`: the NotificationRaised event's xid8 and global position,
    // so the feed reads notifications in commit order (platform/event-store/postgres/commit-order.ts).
    // `audience`: entries such as 'managers:<companyId>'; a reader's entries are matched with &&.
    // Read state is per reader (identity userId), from NotificationsRead events.
    sql: `
CREATE TABLE notifications (
  id uuid PRIMARY KEY, kind text NOT NULL, title text NOT NULL, body text NOT NULL,
  subject_type text NOT NULL, subject_id text NOT NULL, audience text[] NOT NULL, source_event_id text UNIQUE,
  transaction_id xid8 NOT NULL, position bigint NOT NULL UNIQUE, created_at timestamptz NOT NULL
);
CREATE INDEX notifications_commit_order ON notifications (transaction_id, position);
CREATE INDEX notifications_audience ON notifications USING gin (audience);
CREATE TABLE notification_reads (
  reader_id text NOT NULL, notification_id uuid NOT NULL, read_at timestamptz NOT NULL, position bigint NOT NULL,
  PRIMARY KEY (reader_id, notification_id)
);
`,
  },
];

/** The read tables `rebuild` truncates and replays. */
export const workforceReadTables = [
  'companies', 'offerings', 'subscriptions', 'projects', 'assignments', 'profiles',
  'profile_companies', 'profile_assignments', 'licenses', 'profile_personal_data', 'notifications', 'notification_reads',
];
