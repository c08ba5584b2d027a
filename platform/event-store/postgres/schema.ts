import type { Migration } from '../../postgres/migrate.ts';

/**
 * The events table, shaped like Emmett's PostgreSQL store, and the audit log as a view
 * over it (not a second table).
 */
export const eventStoreMigration: Migration = {
  version: 1,
  name: 'event store',
  sql: `
CREATE TABLE events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
  stream_id       text        NOT NULL,
  stream_version  bigint      NOT NULL CHECK (stream_version > 0),
  event_id        uuid        NOT NULL UNIQUE,
  event_type      text        NOT NULL,
  event_version   int         NOT NULL DEFAULT 1,
  data            jsonb       NOT NULL,
  metadata        jsonb       NOT NULL,
  occurred_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_commit_order ON events (transaction_id, global_position);
CREATE INDEX events_subjects ON events USING gin ((metadata -> 'subjects'));

CREATE VIEW audit_log AS
SELECT global_position               AS position,
       occurred_at,
       metadata -> 'actor' ->> 'id'   AS actor_id,
       metadata -> 'actor' ->> 'kind' AS actor_kind,
       metadata ->> 'companyId'       AS company_id,
       metadata ->> 'correlationId'   AS correlation_id,
       event_type                     AS action,
       stream_id,
       stream_version,
       event_id,
       data,
       metadata -> 'subjects'         AS subjects
FROM events;
`,
};
