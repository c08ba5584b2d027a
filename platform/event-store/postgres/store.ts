import pg from 'pg';
import { Db, isConnectionError, prepared, run, sqlState, type Queryable } from '../../postgres/pool.ts';
import type { AppendAndProject, AppendOutcome, AuditFilter, EventStore, StreamAppend, Unsubscribe, UnitOfWork } from '../port.ts';
import type { AppendOptions, AppendResult, Checkpoint, DomainEvent, RecordedEvent, WrittenRows } from '../types.ts';
import { appendStreams, type FusedProjection } from './append.ts';
import { commitOrderSelect } from './commit-order.ts';
import { CommitNotifier, EVENTS_CHANNEL } from './notifier.ts';
import { EVENT_COLUMNS, toRecorded, type EventRow } from './rows.ts';
import { PostgresUnitOfWork } from './unit-of-work.ts';

const READ_STREAM = prepared(
  'es_read_stream',
  `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version`,
);

const READ_ALL = prepared('es_read_all', commitOrderSelect({ columns: EVENT_COLUMNS, after: ['$1', '$2'], limit: '$3' }));

const READ_BY_SUBJECTS = prepared(
  'es_read_by_subjects',
  `SELECT s.subject, e.* FROM unnest($1::text[]) AS s(subject)
   CROSS JOIN LATERAL (
     SELECT ${EVENT_COLUMNS} FROM events
     WHERE metadata -> 'subjects' @> jsonb_build_array(s.subject) AND global_position > $2
       AND ($4::text IS NULL
            OR metadata ->> 'companyId' = $4
            OR (metadata ->> 'companyId' IS NULL AND NOT EXISTS (SELECT 1 FROM unnest($5::text[]) k WHERE data ->> k IS NOT NULL)))
     ORDER BY global_position
     LIMIT $3
   ) e`,
);

/**
 * The event store's statements over one PostgreSQL database's `events` table, stateless:
 * each takes the connection or transaction to run on.
 */
export const postgresEventStore = {
  /** Appends one stream's events in the caller's transaction; a stale version is a StreamVersionConflict. */
  async append(tx: Queryable, streamId: string, events: DomainEvent[], options: AppendOptions): Promise<AppendResult> {
    const [outcome] = await postgresEventStore.appendStreams(tx, [{ streamId, events, ...options }]);
    if ('conflict' in outcome) throw outcome.conflict;
    return outcome;
  },

  /**
   * Appends to several distinct streams in one statement (a command batch). Each stream's
   * version check is judged alone: a stream that fails it gets a StreamVersionConflict in
   * its outcome and writes nothing, the others are appended. A concurrent writer racing
   * past a check fails the whole statement (unique index), which the caller's transaction
   * then rolls back.
   */
  async appendStreams(tx: Queryable, appends: StreamAppend[]): Promise<AppendOutcome[]> {
    return (await appendStreams(tx, appends))!.outcomes;
  },

  /** The stream's events after `afterVersion`, in stream order. */
  async readStream(q: Queryable, streamId: string, afterVersion = 0): Promise<RecordedEvent[]> {
    const { rows } = await run<EventRow>(q, READ_STREAM, [streamId, afterVersion]);
    return rows.map(toRecorded);
  },

  /** Up to `limit` events committed after `after`, in commit order (commit-order.ts). */
  async readAll(q: Queryable, after: Checkpoint, limit: number): Promise<RecordedEvent[]> {
    const { rows } = await run<EventRow>(q, READ_ALL, [after.transactionId, after.globalPosition, limit]);
    return rows.map(toRecorded);
  },

  /** Events about each of several entities (audit trails), oldest first, up to `limit` each after `afterPosition`, in one statement (AuditFilter). */
  async readBySubjects(q: Queryable, subjectIds: readonly string[], afterPosition: number, limit: number, filter: AuditFilter | null = null): Promise<Map<string, RecordedEvent[]>> {
    const { rows } = await run<EventRow & { subject: string }>(q, READ_BY_SUBJECTS, [subjectIds, afterPosition, limit, filter?.tenant ?? null, filter?.personalKeys ?? []]);
    const bySubject = new Map<string, RecordedEvent[]>(subjectIds.map((id) => [id, []]));
    for (const row of rows) bySubject.get(row.subject)!.push(toRecorded(row));
    return bySubject;
  },
};

/**
 * The event store port on PostgreSQL: one domain database's `events` table, read tables
 * beside it in the same transactions, commit order by xid8 (commit-order.ts), wake-ups by
 * LISTEN/NOTIFY. Appends and a fused projection can be one statement (FusedProjection).
 */
export class PostgresEventStore implements EventStore<pg.PoolClient, FusedProjection>, AppendAndProject<pg.PoolClient, FusedProjection> {
  readonly adapter = 'postgres';
  private readonly notifier: CommitNotifier;

  readonly db: Db;

  constructor(db: Db) {
    this.db = db;
    this.notifier = new CommitNotifier(db);
  }

  async begin(): Promise<PostgresUnitOfWork> {
    return new PostgresUnitOfWork(this.db, await this.db.connect());
  }

  appendStreams(tx: pg.PoolClient, appends: StreamAppend[]): Promise<AppendOutcome[]> {
    return postgresEventStore.appendStreams(tx, appends);
  }

  /**
   * Append and projection in ONE statement on the unit's connection: inside its transaction
   * if one is open, else atomic on its own (no BEGIN/COMMIT). Null when `fused` cannot
   * take these events.
   */
  appendAndProject(uow: UnitOfWork<pg.PoolClient>, appends: StreamAppend[], fused: FusedProjection): Promise<{ outcomes: AppendOutcome[]; written: WrittenRows } | null> {
    const unit = uow as PostgresUnitOfWork;
    return appendStreams(unit.client, appends, fused, () => unit.sendingAtomic());
  }

  readStream(streamId: string, options: { afterVersion?: number; tx?: pg.PoolClient } = {}): Promise<RecordedEvent[]> {
    return postgresEventStore.readStream(options.tx ?? this.db.pool, streamId, options.afterVersion ?? 0);
  }

  readAll(after: Checkpoint, limit: number): Promise<RecordedEvent[]> {
    return postgresEventStore.readAll(this.db.pool, after, limit);
  }

  readBySubjects(subjectIds: readonly string[], afterPosition: number, limit: number, filter?: AuditFilter | null): Promise<Map<string, RecordedEvent[]>> {
    return postgresEventStore.readBySubjects(this.db.pool, subjectIds, afterPosition, limit, filter);
  }

  /** LISTENs on its own connection (a pooled one would lose the subscription when released). */
  async subscribe(onCommit: () => void): Promise<Unsubscribe> {
    const s = this.db.settings;
    const client = new pg.Client({ host: s.host, port: s.port, user: s.user, password: s.password, database: s.database, application_name: 'angelis-listen' });
    client.on('error', () => {});
    await client.connect();
    client.on('notification', (n) => {
      if (n.channel === EVENTS_CHANNEL) onCommit();
    });
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    return async () => {
      await client.end().catch(() => {});
    };
  }

  announce(): void {
    this.notifier.poke();
  }

  isConnectionError(err: unknown): boolean {
    return isConnectionError(err);
  }

  uniqueViolation(err: unknown): string | null {
    return sqlState(err) === '23505' ? ((err as pg.DatabaseError).constraint ?? null) : null;
  }

  /** The pool belongs to whoever made the Db. */
  async close(): Promise<void> {}
}
