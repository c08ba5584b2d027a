import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { MongoClient, type Db, type Filter, type FindOptions } from 'mongodb';
import { MongoEventStore, type EventDocument } from '../../platform/event-store/mongodb.ts';
import type { Unsubscribe } from '../../platform/event-store/port.ts';
import type { Checkpoint } from '../../platform/event-store/types.ts';
import type { EventSourceSettings } from '../../platform/service/definition.ts';
import { BATCH_CSV_COLUMNS } from '../sql/batch-table.ts';
import { CSV_DELIMITER, CSV_QUOTE, type EventSourceReader, type FetchedBatch } from './event-reader.ts';

/** Where a domain on MongoDB keeps its events (the registry's eventSource). */
export type MongoEventSource = Extract<EventSourceSettings, { kind: 'mongodb' }>;

/** An open connection: the database holding `events`, the client (for the change stream), and how to close it. */
export interface MongoEventConnection {
  client: ConstructorParameters<typeof MongoEventStore>[0];
  db: Pick<Db, 'collection'>;
  close(): Promise<void>;
}

/** Opens the source's own client (read only: the projector never writes to a transactional database). */
async function connectMongo(source: MongoEventSource): Promise<MongoEventConnection> {
  // A server not found within 10 s fails the session, which the consumer retries with backoff
  // (and `status` reports the source unreachable instead of waiting the driver's 30 s).
  const client = await new MongoClient(source.url, { appName: 'angelis-projector', serverSelectionTimeoutMS: 10_000 }).connect();
  return { client, db: client.db(source.database), close: () => client.close() };
}

/**
 * Commit order on MongoDB (see platform/event-store/mongodb/store.ts): appending
 * transactions take their positions from a counter document inside the transaction, so
 * they are serialised on it and `globalPosition` follows commit order; once a position is
 * visible every lower one is committed. Majority reads on the primary: what the lake takes
 * can never be rolled back by a failover, and a majority snapshot that holds a position
 * holds every lower one. A cursor that moves to a newer snapshot between getMores only sees
 * positions above those already visible, so the index scan never skips one.
 */
export const READ_OPTIONS = { readConcern: { level: 'majority' }, readPreference: 'primary' } as const satisfies FindOptions;

/** Only the fields a batch row carries. */
export const EVENT_PROJECTION = {
  _id: 1, globalPosition: 1, transactionId: 1, streamId: 1, streamVersion: 1, type: 1, version: 1, data: 1, metadata: 1, occurredAt: 1,
} as const;

/** The find a batch sends: the events after the checkpoint, in position order, at most `limit`. */
export function batchQuery(after: Checkpoint, limit: number): { filter: Filter<EventDocument>; options: FindOptions } {
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new Error(`invalid batch limit ${limit}`);
  return {
    filter: { globalPosition: { $gt: after.globalPosition } },
    options: { sort: { globalPosition: 1 }, limit, projection: EVENT_PROJECTION, ...READ_OPTIONS },
  };
}

/** Bytes collected before a write to the batch file. */
const WRITE_CHUNK = 1 << 20;
const NEEDS_QUOTES = new RegExp(`[${CSV_DELIMITER}${CSV_QUOTE}\\n\\r]`);
const QUOTES = new RegExp(CSV_QUOTE, 'g');

/** A text field as PostgreSQL's CSV writes it: NULL empty, an empty or special string quoted (quote doubled). */
function field(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (value === '' || NEEDS_QUOTES.test(value)) return CSV_QUOTE + value.replace(QUOTES, CSV_QUOTE + CSV_QUOTE) + CSV_QUOTE;
  return value;
}

/** "2025-01-01 00:00:05.123" (UTC): what DuckDB reads as the TIMESTAMP occurred_at. */
function utcTimestamp(date: Date): string {
  return date.toISOString().slice(0, 23).replace('T', ' ');
}

/**
 * One event as a batch CSV line, columns in BATCH_CSV_COLUMNS order. JSON text escapes
 * every control character (the delimiter and quote among them), so data and metadata are
 * never quoted, as in the PostgreSQL reader's output.
 */
export function eventCsvLine(d: EventDocument): string {
  const row: Record<keyof typeof BATCH_CSV_COLUMNS, string> = {
    transaction_id: field(d.transactionId),
    global_position: String(d.globalPosition),
    occurred_at: utcTimestamp(d.occurredAt),
    stream_id: field(d.streamId),
    stream_version: String(d.streamVersion),
    event_id: field(d._id),
    event_type: field(d.type),
    event_version: String(d.version),
    data: field(JSON.stringify(d.data ?? null)),
    metadata: field(JSON.stringify(d.metadata ?? null)),
  };
  return (Object.keys(BATCH_CSV_COLUMNS) as (keyof typeof BATCH_CSV_COLUMNS)[]).map((c) => row[c]).join(CSV_DELIMITER) + '\n';
}

/**
 * Reads a MongoDB event store (`events`, as MongoEventStore writes it) in commit order for
 * the projector: each batch is the events after the checkpoint's position, sorted by
 * position, at most `limit`, written as the same CSV the PostgreSQL reader produces, so the
 * rest of the projector (batch writer, commit log, lease, mapping) is the same. Streamed
 * from the cursor into the file: a batch is never held in memory. Wake-ups come from the
 * store's change stream (MongoEventStore.subscribe). Read-only.
 */
export class MongoEventReader implements EventSourceReader {
  private connection: MongoEventConnection | undefined;
  private store: MongoEventStore | undefined;
  private unsubscribe: Promise<Unsubscribe> | undefined;
  private seq = 0;
  private listeners = new Set<() => void>();

  private readonly source: MongoEventSource;
  private readonly workDir: string;
  private readonly connect_: (source: MongoEventSource) => Promise<MongoEventConnection>;

  constructor(
    source: MongoEventSource,
    workDir: string,
    connect_: (source: MongoEventSource) => Promise<MongoEventConnection> = connectMongo,
  ) {
    this.source = source;
    this.workDir = workDir;
    this.connect_ = connect_;
  }

  async connect(): Promise<void> {
    const connection = await this.connect_(this.source);
    this.connection = connection;
    this.store = new MongoEventStore(connection.client, connection.db);
  }

  onCommit(listener: () => void): () => void {
    this.listeners.add(listener);
    // The change stream opens with the first listener; a failure to open it leaves the poll.
    this.unsubscribe ??= this.requireStore().subscribe(() => this.listeners.forEach((l) => l()));
    this.unsubscribe.catch(() => {});
    return () => this.listeners.delete(listener);
  }

  async fetch(after: Checkpoint, limit: number): Promise<FetchedBatch> {
    const { filter, options } = batchQuery(after, limit);
    const cursor = this.requireStore().events.find(filter, options);
    const file = join(this.workDir, `batch-${process.pid}-${++this.seq}.csv`);
    const out = createWriteStream(file);
    let failed: Error | undefined;
    out.on('error', (err) => (failed ??= err));
    let rows = 0;
    let bytes = 0;
    let last: EventDocument | undefined;
    let chunk = '';
    try {
      for await (const doc of cursor) {
        const line = eventCsvLine(doc);
        chunk += line;
        rows++;
        last = doc;
        if (chunk.length >= WRITE_CHUNK) {
          bytes += await write(out, chunk);
          chunk = '';
        }
      }
      if (chunk) bytes += await write(out, chunk);
    } finally {
      out.end();
      await once(out, 'close').catch(() => {});
    }
    if (failed) throw failed;
    if (!last) return { file, rows: 0, bytes, from: after, to: after };
    return {
      file, rows, bytes, from: after,
      to: { transactionId: last.transactionId, globalPosition: last.globalPosition },
      lastOccurredAt: last.occurredAt.toISOString(),
    };
  }

  async behind(checkpoint: Checkpoint): Promise<number> {
    return this.requireStore().events.countDocuments({ globalPosition: { $gt: checkpoint.globalPosition } }, READ_OPTIONS);
  }

  async head(checkpoint: Checkpoint): Promise<{ behind: number; headPosition: number; headOccurredAt?: Date }> {
    const behind = await this.behind(checkpoint);
    const newest = await this.requireStore().events
      .find({}, { sort: { globalPosition: -1 }, limit: 1, projection: { globalPosition: 1, occurredAt: 1 }, ...READ_OPTIONS })
      .toArray();
    return { behind, headPosition: newest[0]?.globalPosition ?? 0, headOccurredAt: newest[0]?.occurredAt };
  }

  async close(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    await unsubscribe?.then((u) => u(), () => {}).catch(() => {});
    await this.connection?.close().catch(() => {});
    this.connection = undefined;
    this.store = undefined;
  }

  private requireStore(): MongoEventStore {
    if (!this.store) throw new Error('MongoEventReader is not connected');
    return this.store;
  }
}

/** Writes `text`, waiting for the file to drain when it is behind; returns the bytes written. */
async function write(out: WriteStream, text: string): Promise<number> {
  const buffer = Buffer.from(text, 'utf8');
  if (!out.write(buffer)) await once(out, 'drain');
  return buffer.length;
}
