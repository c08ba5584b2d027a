import { join } from 'node:path';
import pg from 'pg';
import { afterCheckpoint, commitOrderSelect, EVENTS_CHANNEL } from '../../platform/event-store/postgres.ts';
import type { Checkpoint } from '../../platform/event-store/types.ts';
import type { PoolSettings } from '../../platform/postgres/pool.ts';
import { copyClientStream, copyToFile } from './copy-to-file.ts';

/** CSV separators no JSON text contains raw, so PostgreSQL never quotes or doubles JSON. */
export const CSV_DELIMITER = '\x1f';
export const CSV_QUOTE = '\x1e';

/** A batch of events read into a CSV file, in commit order. */
export interface FetchedBatch {
  file: string;
  rows: number;
  bytes: number;
  from: Checkpoint;
  /** The last event's place in commit order: the next batch starts after it. */
  to: Checkpoint;
  /** occurred_at of the last event, ISO 8601. */
  lastOccurredAt?: string;
}

/**
 * What the consumer reads a source through, whatever keeps its events (PostgreSQL:
 * `EventReader`; MongoDB: `MongoEventReader`): batches in commit order as CSV files of
 * BATCH_CSV_COLUMNS (delimiter CSV_DELIMITER, quote CSV_QUOTE), wake-ups, and lag.
 */
export interface EventSourceReader {
  connect(): Promise<void>;
  /** Calls `listener` whenever the source commits events (a hint: the consumer also polls). */
  onCommit(listener: () => void): () => void;
  /** Up to `limit` events after `after`, in commit order, into a new CSV file in the work folder. */
  fetch(after: Checkpoint, limit: number): Promise<FetchedBatch>;
  /** How many committed events come after `checkpoint`. */
  behind(checkpoint: Checkpoint): Promise<number>;
  /** Events behind and the newest event (for `status`). */
  head(checkpoint: Checkpoint): Promise<{ behind: number; headPosition: number; headOccurredAt?: Date }>;
  close(): Promise<void>;
}

// occurred_at travels as UTC timestamp text (`AT TIME ZONE 'UTC'`, DateStyle ISO):
// "2025-01-01 00:00:05.123456", exact to the microsecond, read by DuckDB as a TIMESTAMP.
// Measured cheaper for PostgreSQL to print than epoch microseconds (numeric arithmetic).
// COPY cannot take bind parameters, so the checkpoint and limit travel as session
// settings (set with bound values). current_setting() is stable, so PostgreSQL still
// uses the (transaction_id, global_position) index and stops at the LIMIT.
const SET_RANGE = `SELECT set_config('angelis.after_tx', $1, false), set_config('angelis.after_pos', $2, false)`;
// The LIMIT must be a constant: with an expression the planner guesses 10% of the table
// and picks a full scan and sort. It is our own validated integer, never input.
const copyBatchSql = (limit: number) => `COPY (
  ${commitOrderSelect({
    columns: `transaction_id::text, global_position, occurred_at AT TIME ZONE 'UTC', stream_id, stream_version, event_id,
         event_type, event_version, data, metadata`,
    after: ["current_setting('angelis.after_tx')", "current_setting('angelis.after_pos')"],
    limit: String(limit),
  })}
) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e')`;

// Index range only (events_commit_order): cheap when the projector is close to the head.
const BEHIND = `SELECT count(*) AS behind FROM events WHERE ${afterCheckpoint('$1', '$2')}`;

const HEAD = `SELECT max(global_position) AS head_position, (SELECT max(occurred_at) FROM events) AS head_occurred_at,
  (SELECT count(*) FROM events WHERE ${afterCheckpoint('$1', '$2')}) AS behind
  FROM events`;

/**
 * Reads one source's event store in commit order, in batches streamed by COPY into
 * files, on one dedicated connection that also LISTENs for commits. Read-only: the
 * projector never writes to a transactional database.
 */
export class EventReader implements EventSourceReader {
  private client: pg.Client | undefined;
  private seq = 0;
  private listeners = new Set<() => void>();

  private readonly settings: PoolSettings;
  private readonly workDir: string;

  constructor(
    settings: PoolSettings,
    workDir: string,
  ) {
    this.settings = settings;
    this.workDir = workDir;
  }

  /** Opens the connection (session TimeZone UTC, read-only) and starts listening. */
  async connect(): Promise<void> {
    const client = new pg.Client({
      host: this.settings.host,
      port: this.settings.port,
      user: this.settings.user,
      password: this.settings.password,
      database: this.settings.database,
      application_name: 'angelis-projector',
      options: '-c TimeZone=UTC -c DateStyle=ISO -c default_transaction_read_only=on',
      // COPY rows go from the socket to the batch file without pg's per-message parsing.
      stream: copyClientStream(),
    });
    await client.connect();
    client.on('notification', () => this.listeners.forEach((l) => l()));
    client.on('error', () => {});
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.client = client;
  }

  /** Calls `listener` whenever a transaction on the source commits events. */
  onCommit(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Streams up to `limit` events after `after` into a new CSV file in the work folder. */
  async fetch(after: Checkpoint, limit: number): Promise<FetchedBatch> {
    const client = this.requireClient();
    const file = join(this.workDir, `batch-${process.pid}-${++this.seq}.csv`);
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new Error(`invalid batch limit ${limit}`);
    await client.query(SET_RANGE, [after.transactionId, String(after.globalPosition)]);
    const { rows, lastLine, bytes } = await copyToFile(client, copyBatchSql(limit), file);
    if (rows === 0 || !lastLine) return { file, rows: 0, bytes, from: after, to: after };
    // The first three fields are numbers and a timestamp: never quoted, safe to split.
    const [transactionId, position, occurredAt] = lastLine.toString('utf8', 0, Math.min(lastLine.length, 200)).split(CSV_DELIMITER);
    return { file, rows, bytes, from: after, to: { transactionId, globalPosition: Number(position) }, lastOccurredAt: utcIso(occurredAt) };
  }

  /** How many committed events come after `checkpoint`. */
  async behind(checkpoint: Checkpoint): Promise<number> {
    const { rows } = await this.requireClient().query(BEHIND, [checkpoint.transactionId, checkpoint.globalPosition]);
    return Number(rows[0].behind ?? 0);
  }

  /**
   * How far the source is ahead of `checkpoint`: events behind, and the newest event (for
   * `status`; it scans the whole table for the latest occurred_at, so not for the loop).
   */
  async head(checkpoint: Checkpoint): Promise<{ behind: number; headPosition: number; headOccurredAt?: Date }> {
    const { rows } = await this.requireClient().query(HEAD, [checkpoint.transactionId, checkpoint.globalPosition]);
    return {
      behind: Number(rows[0].behind ?? 0),
      headPosition: Number(rows[0].head_position ?? 0),
      headOccurredAt: rows[0].head_occurred_at ?? undefined,
    };
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }

  private requireClient(): pg.Client {
    if (!this.client) throw new Error('EventReader is not connected');
    return this.client;
  }
}

/**
 * "2025-01-01 00:00:05.123456" (UTC, DateStyle ISO) as an ISO 8601 string to the
 * millisecond; undefined for what that cannot express (BC, infinity): it only feeds lag.
 */
export function utcIso(timestamp: string | undefined): string | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/.exec(timestamp ?? '');
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}.${(m[5] ?? '').padEnd(3, '0').slice(0, 3)}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
