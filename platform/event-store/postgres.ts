import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ConflictError } from '../errors.ts';
import type { Migration } from '../postgres/migrate.ts';
import { prepared, run, sqlState, type Prepared, type Queryable } from '../postgres/pool.ts';
import type {
  AppendOptions,
  AppendResult,
  Checkpoint,
  DomainEvent,
  EventMetadata,
  RecordedEvent,
  WrittenRows,
} from './types.ts';

/** One stream's part of a multi-stream append. */
export interface StreamAppend extends AppendOptions {
  streamId: string;
  events: DomainEvent[];
}

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

// Several streams in one statement (a command batch): each stream's version check, then
// the events of the streams that pass, in the order given (so global positions follow it).
// A fused projection adds its CTEs over `appended` and one output column per CTE it
// returns rows from (on the first row only).
function appendSql(fused?: { ctes: string; outputs: string[] }): string {
  const outputs = (fused?.outputs ?? []).map((o) => `, CASE WHEN s.i = 1 THEN (SELECT json_agg(${o}) FROM ${o}) END AS ${o}`).join('');
  return `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
       WITH ORDINALITY AS e(stream_id, ord, id, type, ver, data, meta, n)
   ), streams AS (
     SELECT s.stream_id, s.expected, s.i,
            coalesce((SELECT max(stream_version) FROM events WHERE events.stream_id = s.stream_id), 0) AS v
     FROM unnest($8::text[], $9::bigint[]) WITH ORDINALITY AS s(stream_id, expected, i)
   ), appended AS (
     INSERT INTO events (stream_id, stream_version, event_id, event_type, event_version, data, metadata)
     SELECT i.stream_id, s.v + i.ord, i.id, i.type, i.ver, i.data, i.meta
     FROM input i JOIN streams s ON s.stream_id = i.stream_id
     WHERE s.expected IS NULL OR s.v = s.expected
     ORDER BY i.n
     RETURNING global_position, transaction_id::text AS transaction_id, stream_id, stream_version, event_id, occurred_at
   )${fused ? `, ${fused.ctes}` : ''}
   SELECT s.stream_id, s.v AS current_version, a.global_position, a.transaction_id, a.stream_version, a.event_id, a.occurred_at${outputs}
   FROM streams s LEFT JOIN appended a ON a.stream_id = s.stream_id
   ORDER BY a.global_position`;
}
const APPEND = prepared('es_append_streams', appendSql());
/** Parameters of the append part of the statement; a fused projection's come after. */
const APPEND_PARAMS = 9;

/** An event about to be appended, with the id it will have. */
export interface PendingEvent extends DomainEvent {
  eventId: string;
  streamId: string;
}

/**
 * A projection that rides in the append statement: CTEs over the CTE `appended`
 * (event_id, global_position, transaction_id, stream_id, stream_version, occurred_at),
 * so appending and projecting a batch is one statement, atomic without a transaction.
 */
export interface FusedProjection {
  /** The CTEs for these events, their parameters numbered from `firstParam`; null when they cannot be fused. */
  plan(events: PendingEvent[], firstParam: number): FusedPlan | null;
}
export interface FusedPlan {
  /** Names the statement: equal for equal SQL. */
  key: string;
  ctes: string;
  params: unknown[];
  /** CTEs whose rows come back (as JSON) to `written`. */
  outputs: string[];
  written(outputs: Record<string, unknown[] | null>): WrittenRows;
}

const fusedStatements = new Map<string, Prepared>();

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
    const [outcome] = await postgresEventStore.appendStreams(tx, [{ streamId, events, ...options }]);
    if ('conflict' in outcome) throw outcome.conflict;
    return outcome;
  },

  /**
   * Appends to several distinct streams in one statement (a batch of commands). Each
   * stream's version check is judged alone: a stream that fails it gets a
   * StreamVersionConflict in its outcome and writes nothing, the others are appended.
   * A concurrent writer racing past a check fails the whole statement (unique index),
   * which the caller's transaction then rolls back.
   */
  async appendStreams(tx: Queryable, appends: StreamAppend[]): Promise<(AppendResult | { conflict: StreamVersionConflict })[]> {
    return (await appendWith(tx, appends)).outcomes;
  },

  /**
   * appendStreams with the projection in the same statement (FusedProjection), or null
   * when the projection cannot fuse these events (the caller then projects separately).
   * One statement is atomic, so no transaction is needed around it.
   */
  async appendAndProject(
    q: Queryable,
    appends: StreamAppend[],
    fused: FusedProjection,
    /** Called just before the statement is sent (not when the projection cannot fuse). */
    sending?: () => void,
  ): Promise<{ outcomes: (AppendResult | { conflict: StreamVersionConflict })[]; written: WrittenRows } | null> {
    return appendWith(q, appends, fused, sending);
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

async function appendWith(tx: Queryable, appends: StreamAppend[]): Promise<{ outcomes: (AppendResult | { conflict: StreamVersionConflict })[]; written: WrittenRows }>;
async function appendWith(
  tx: Queryable,
  appends: StreamAppend[],
  fused: FusedProjection,
  sending?: () => void,
): Promise<{ outcomes: (AppendResult | { conflict: StreamVersionConflict })[]; written: WrittenRows } | null>;
async function appendWith(
  tx: Queryable,
  appends: StreamAppend[],
  fused?: FusedProjection,
  sending?: () => void,
): Promise<{ outcomes: (AppendResult | { conflict: StreamVersionConflict })[]; written: WrittenRows } | null> {
  const streamIds = appends.map((a) => a.streamId);
  if (new Set(streamIds).size !== streamIds.length) throw new Error('appendStreams needs distinct streams');
  const metas = appends.map(({ metadata: base, events }) => {
    if (events.length === 0) throw new Error('append needs at least one event');
    return events.map((e): EventMetadata =>
      e.subjects?.length ? { ...base, subjects: [...new Set([...(base.subjects ?? []), ...e.subjects])] } : base,
    );
  });
  const flat = appends.flatMap((a, s) =>
    a.events.map((e, i) => ({ streamId: a.streamId, ord: i + 1, e, meta: metas[s][i], eventId: randomUUID() })),
  );
  let statement: Prepared = APPEND;
  let plan: FusedPlan | null = null;
  if (fused) {
    plan = fused.plan(flat.map((f) => ({ ...f.e, eventId: f.eventId, streamId: f.streamId })), APPEND_PARAMS + 1);
    if (!plan) return null;
    const name = `es_append+${plan.key}`;
    statement = fusedStatements.get(name) ?? prepared(name, appendSql(plan));
    fusedStatements.set(name, statement);
  }
  let rows: (Partial<EventRow> & { stream_id: string; current_version: number } & Record<string, unknown>)[];
  sending?.();
  try {
    ({ rows } = await run<Partial<EventRow> & { stream_id: string; current_version: number }>(tx, statement, [
      flat.map((f) => f.streamId),
      flat.map((f) => f.ord),
      flat.map((f) => f.eventId),
      flat.map((f) => f.e.type),
      flat.map((f) => f.e.version ?? 1),
      flat.map((f) => JSON.stringify(f.e.data)),
      flat.map((f) => JSON.stringify(f.meta)),
      streamIds,
      appends.map((a) => a.expectedVersion ?? null),
      ...(plan?.params ?? []),
    ]));
  } catch (err) {
    if (sqlState(err) === '23505' && /stream_id_stream_version/.test((err as pg.DatabaseError).constraint ?? '')) {
      // Which stream lost the race is unknown; with one stream it is that one.
      if (appends.length === 1) throw new StreamVersionConflict(appends[0].streamId, appends[0].expectedVersion, undefined);
    }
    throw err;
  }
  const byStream = new Map<string, typeof rows>();
  for (const row of rows) {
    const list = byStream.get(row.stream_id) ?? [];
    if (row.global_position != null) list.push(row);
    byStream.set(row.stream_id, list);
  }
  const outcomes = appends.map((a, s): AppendResult | { conflict: StreamVersionConflict } => {
    const appended = byStream.get(a.streamId) ?? [];
    if (appended.length === 0) {
      const current = rows.find((r) => r.stream_id === a.streamId)?.current_version;
      return { conflict: new StreamVersionConflict(a.streamId, a.expectedVersion, current) };
    }
    appended.sort((x, y) => x.stream_version! - y.stream_version!);
    const recorded = appended.map((row, i) =>
      toRecorded({
        ...(row as EventRow),
        stream_id: a.streamId,
        event_type: a.events[i].type,
        event_version: a.events[i].version ?? 1,
        data: a.events[i].data as Record<string, unknown>,
        metadata: metas[s][i],
      }),
    );
    return { nextVersion: recorded[recorded.length - 1].streamVersion, events: recorded };
  });
  // Each output column is set on one row only (the first stream's).
  const output = (o: string) => (rows.find((r) => r[o] != null)?.[o] as unknown[] | undefined) ?? null;
  const written = plan ? plan.written(Object.fromEntries(plan.outputs.map((o) => [o, output(o)]))) : new Map();
  return { outcomes, written };
}

/** The checkpoint just past an event. */
export function checkpointOf(event: RecordedEvent): Checkpoint {
  return { transactionId: event.transactionId, globalPosition: event.globalPosition };
}

/**
 * Wakes listeners after commits, outside the command transactions: NOTIFY takes a
 * cluster-wide lock held through the commit's WAL flush, so notifying in every
 * transaction serializes all commits. One NOTIFY in flight at a time, and at most one per
 * `intervalMs`: pokes in between coalesce into one more, sent when the interval is up (a
 * listener reads everything committed since its checkpoint, so one wake-up covers many
 * commits, and under load the round trip is not paid per batch).
 */
export class CommitNotifier {
  private busy = false;
  private pending = false;
  constructor(
    private readonly db: { query(text: string): Promise<unknown> },
    private readonly intervalMs = 5,
  ) {}
  poke(): void {
    if (this.busy) {
      this.pending = true;
      return;
    }
    this.busy = true;
    const started = Date.now();
    this.db
      .query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`)
      .catch(() => {})
      .finally(() => {
        setTimeout(() => {
          this.busy = false;
          if (this.pending) {
            this.pending = false;
            this.poke();
          }
        }, Math.max(0, this.intervalMs - (Date.now() - started))).unref();
      });
  }
}
