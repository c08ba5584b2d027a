import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ConflictError } from '../errors.ts';
import type { Migration } from '../postgres/migrate.ts';
import { prepared, run, sqlState, type Queryable } from '../postgres/pool.ts';
import type {
  AppendOptions,
  AppendResult,
  Checkpoint,
  DomainEvent,
  EventMetadata,
  RecordedEvent,
} from './types.ts';

/** The channel every domain database notifies on commit; the projector listens to it. */
export const EVENTS_CHANNEL = 'angelis_events';

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

const APPEND = prepared(
  'es_append',
  `WITH current AS (
     SELECT coalesce(max(stream_version), 0) AS v FROM events WHERE stream_id = $1
   ), appended AS (
     INSERT INTO events (stream_id, stream_version, event_id, event_type, event_version, data, metadata)
     SELECT $1, current.v + e.ord, e.id, e.type, e.ver, e.data, e.meta
     FROM current,
          unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[]) WITH ORDINALITY AS e(id, type, ver, data, meta, ord)
     WHERE $2::bigint IS NULL OR current.v = $2::bigint
     RETURNING global_position, transaction_id::text AS transaction_id, stream_version, event_id, occurred_at
   )
   SELECT a.*, c.v AS current_version
   FROM current c LEFT JOIN appended a ON true
   ORDER BY a.stream_version`,
);

const COLUMNS = `global_position, transaction_id::text AS transaction_id, stream_id, stream_version, event_id,
  event_type, event_version, data, metadata, occurred_at`;

const READ_STREAM = prepared(
  'es_read_stream',
  `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version`,
);

// Commit order: an event is read only once every transaction that could commit before
// it has finished, so a reader never skips an event committed late with a lower position.
const READ_ALL = prepared(
  'es_read_all',
  `SELECT ${COLUMNS} FROM events
   WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
     AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
   -- Qualified: unqualified, ORDER BY would pick the text alias of the select list
   -- and sort '10' before '9' (and skip the index).
   ORDER BY events.transaction_id, events.global_position
   LIMIT $3`,
);

const READ_BY_SUBJECTS = prepared(
  'es_read_by_subjects',
  `SELECT s.subject, e.* FROM unnest($1::text[]) AS s(subject)
   CROSS JOIN LATERAL (
     SELECT ${COLUMNS} FROM events
     WHERE metadata -> 'subjects' @> jsonb_build_array(s.subject) AND global_position > $2
     ORDER BY global_position
     LIMIT $3
   ) e`,
);

interface EventRow {
  global_position: number;
  transaction_id: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  event_type: string;
  event_version: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  occurred_at: Date;
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    globalPosition: row.global_position,
    transactionId: row.transaction_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    eventId: row.event_id,
    type: row.event_type,
    version: row.event_version,
    data: row.data,
    metadata: row.metadata,
    occurredAt: row.occurred_at,
  };
}

/** Thrown when the stream is not at the expected version; carries the actual one. */
export class StreamVersionConflict extends ConflictError {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number | undefined,
    readonly actualVersion: number | undefined,
  ) {
    super(
      actualVersion === undefined
        ? `${streamId} was changed concurrently; reload and retry`
        : `${streamId} is at version ${actualVersion}, not ${expectedVersion}; reload and retry`,
      { streamId, expectedVersion, actualVersion },
    );
  }
}

/** Event store over one PostgreSQL database's `events` table. Stateless: pass the connection. */
export const postgresEventStore = {
  /**
   * Appends events in the caller's transaction. The version check and the insert are one
   * statement; a concurrent writer that slips between them hits the unique
   * (stream_id, stream_version) index, and both cases surface as StreamVersionConflict.
   */
  async append(tx: Queryable, streamId: string, events: DomainEvent[], options: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const base = options.metadata;
    const metas: EventMetadata[] = events.map((e) =>
      e.subjects?.length ? { ...base, subjects: [...new Set([...(base.subjects ?? []), ...e.subjects])] } : base,
    );
    let rows: (Partial<EventRow> & { current_version: number })[];
    try {
      ({ rows } = await run<Partial<EventRow> & { current_version: number }>(tx, APPEND, [
        streamId,
        options.expectedVersion ?? null,
        events.map(() => randomUUID()),
        events.map((e) => e.type),
        events.map((e) => e.version ?? 1),
        events.map((e) => JSON.stringify(e.data)),
        metas.map((m) => JSON.stringify(m)),
      ]));
    } catch (err) {
      if (sqlState(err) === '23505' && /stream_id_stream_version/.test((err as pg.DatabaseError).constraint ?? '')) {
        throw new StreamVersionConflict(streamId, options.expectedVersion, undefined);
      }
      throw err;
    }
    if (rows.length === 0 || rows[0].global_position == null) {
      throw new StreamVersionConflict(streamId, options.expectedVersion, rows[0]?.current_version);
    }
    const recorded = rows.map((row, i) =>
      toRecorded({
        ...(row as EventRow),
        stream_id: streamId,
        event_type: events[i].type,
        event_version: events[i].version ?? 1,
        data: events[i].data as Record<string, unknown>,
        metadata: metas[i],
      }),
    );
    return { nextVersion: recorded[recorded.length - 1].streamVersion, events: recorded };
  },

  /** The stream's events after `afterVersion`, in stream order. */
  async readStream(q: Queryable, streamId: string, afterVersion = 0): Promise<RecordedEvent[]> {
    const { rows } = await run<EventRow>(q, READ_STREAM, [streamId, afterVersion]);
    return rows.map(toRecorded);
  },

  /** Up to `limit` events committed after `after`, in commit order. */
  async readAll(q: Queryable, after: Checkpoint, limit: number): Promise<RecordedEvent[]> {
    const { rows } = await run<EventRow>(q, READ_ALL, [after.transactionId, after.globalPosition, limit]);
    return rows.map(toRecorded);
  },

  /**
   * Events about each of several entities (audit trails), oldest first, up to `limit`
   * each after `afterPosition`, in one statement.
   */
  async readBySubjects(q: Queryable, subjectIds: readonly string[], afterPosition: number, limit: number): Promise<Map<string, RecordedEvent[]>> {
    const { rows } = await run<EventRow & { subject: string }>(q, READ_BY_SUBJECTS, [subjectIds, afterPosition, limit]);
    const bySubject = new Map<string, RecordedEvent[]>(subjectIds.map((id) => [id, []]));
    for (const row of rows) bySubject.get(row.subject)!.push(toRecorded(row));
    return bySubject;
  },
};

/** The checkpoint just past an event. */
export function checkpointOf(event: RecordedEvent): Checkpoint {
  return { transactionId: event.transactionId, globalPosition: event.globalPosition };
}

/**
 * Wakes listeners after commits, outside the command transactions: NOTIFY takes a
 * cluster-wide lock held through the commit's WAL flush, so notifying in every
 * transaction serializes all commits. One NOTIFY in flight at a time; pokes while one is
 * in flight coalesce into one more.
 */
export class CommitNotifier {
  private inFlight = false;
  private pending = false;
  constructor(private readonly db: { query(text: string): Promise<unknown> }) {}
  poke(): void {
    if (this.inFlight) {
      this.pending = true;
      return;
    }
    this.inFlight = true;
    this.db
      .query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`)
      .catch(() => {})
      .finally(() => {
        this.inFlight = false;
        if (this.pending) {
          this.pending = false;
          this.poke();
        }
      });
  }
}
