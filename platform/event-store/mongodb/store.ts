import { randomUUID } from 'node:crypto';
import type { ChangeStream, ClientSession, Collection, Db, IndexDescription, MongoClient } from 'mongodb';
import { duplicateKeyIndex, isMongoConnectionError, isTransientTransactionError } from '../../mongodb/errors.ts';
import { StreamVersionConflict, type AppendOutcome, type AuditFilter, type EventStore, type StreamAppend, type Unsubscribe, type UnitOfWork } from '../port.ts';
import type { Checkpoint, EventMetadata, RecordedEvent } from '../types.ts';

/**
 * The event store port on MongoDB (a replica set: transactions and change streams need one).
 *
 * Layout: collection `events`, one document per event, `_id` = event id; collection
 * `counters` holds `{ _id: 'events', seq }`.
 *
 * Optimistic concurrency: a unique index on (streamId, streamVersion); an append reads the
 * stream's last version in its transaction and writes the next ones.
 *
 * COMMIT ORDER (what readAll and the projector follow). Every appending transaction
 * allocates its events' global positions by incrementing the counter document INSIDE the
 * transaction, before inserting them. The guarantee relied on: MongoDB transactions detect
 * write-write conflicts on a document (snapshot isolation, first writer wins) — a transaction
 * that writes the counter while another uncommitted transaction has written it, or after
 * one committed a write to it since its snapshot, fails with WriteConflict
 * (TransientTransactionError) and is retried from the start. So appending transactions are
 * serialised on the counter: positions are handed out in commit order, a transaction that
 * aborts takes its increment back with it, and once position p is visible every position
 * below it is committed. A reader that follows `globalPosition > checkpoint` (majority
 * reads on the primary) therefore never skips an event written concurrently. The price:
 * appends of one store do not commit in parallel (group commit amortises it): a writer
 * that overlaps an open appending transaction is refused at once with WriteConflict (MongoDB
 * does not make it wait), which surfaces as a StreamVersionConflict that the command handler
 * retries with backoff (the contract suite admits this refusal).
 * Wake-ups come from a change stream on `events` (it only reports committed inserts).
 */
export interface EventDocument {
  _id: string;
  globalPosition: number;
  transactionId: string;
  streamId: string;
  streamVersion: number;
  type: string;
  version: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  occurredAt: Date;
}

export const EVENT_INDEXES: IndexDescription[] = [
  { key: { streamId: 1, streamVersion: 1 }, name: 'stream_id_stream_version', unique: true },
  { key: { globalPosition: 1 }, name: 'global_position', unique: true },
  { key: { 'metadata.subjects': 1, globalPosition: 1 }, name: 'subjects' },
];

/** A unit of work: one session, its transaction started at once (nothing is sent until the first operation). */
export class MongoUnitOfWork implements UnitOfWork<ClientSession> {
  committing = false;
  readonly tx: ClientSession;

  constructor(tx: ClientSession) {
    this.tx = tx;
    tx.startTransaction({ readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' });
  }
  async commit(): Promise<void> {
    try {
      this.committing = true;
      await this.tx.commitTransaction();
    } finally {
      await this.tx.endSession();
    }
  }
  async abort(_err: unknown): Promise<void> {
    try {
      if (this.tx.inTransaction()) await this.tx.abortTransaction();
    } catch {
      // The server drops an unfinished transaction by itself.
    } finally {
      await this.tx.endSession().catch(() => {});
    }
  }
}

/** Lost a race on the counter document: like a stale version, reload and retry. */
export class TransactionWriteConflict extends StreamVersionConflict {}

function toRecorded(d: EventDocument): RecordedEvent {
  return {
    globalPosition: d.globalPosition,
    transactionId: d.transactionId,
    streamId: d.streamId,
    streamVersion: d.streamVersion,
    eventId: d._id,
    type: d.type,
    version: d.version,
    data: d.data,
    metadata: d.metadata,
    occurredAt: d.occurredAt,
  };
}

/** The audit filter of port.ts as a MongoDB filter. */
export function auditFilterQuery(filter: AuditFilter | null | undefined): Record<string, unknown> {
  if (!filter) return {};
  return {
    $or: [
      { 'metadata.companyId': filter.tenant },
      // `null` matches a missing companyId too; $ne: null matches a present, non-null value.
      { 'metadata.companyId': null, $nor: filter.personalKeys.map((k) => ({ [`data.${k}`]: { $ne: null } })) },
    ],
  };
}

export class MongoEventStore implements EventStore<ClientSession, never> {
  readonly adapter = 'mongodb';
  readonly events: Collection<EventDocument>;
  readonly counters: Collection<{ _id: string; seq: number }>;

  private readonly client: Pick<MongoClient, 'startSession'>;

  constructor(
    client: Pick<MongoClient, 'startSession'>,
    db: Pick<Db, 'collection'>,
  ) {
    this.client = client;
    this.events = db.collection<EventDocument>('events');
    this.counters = db.collection<{ _id: string; seq: number }>('counters');
  }

  /** Creates the indexes (idempotent). */
  async migrate(): Promise<void> {
    await this.events.createIndexes(EVENT_INDEXES);
    // The counter exists before the first transaction uses it (no implicit creation inside one).
    await this.counters.updateOne({ _id: 'events' }, { $setOnInsert: { seq: 0 } }, { upsert: true });
  }

  async begin(): Promise<MongoUnitOfWork> {
    return new MongoUnitOfWork(this.client.startSession());
  }

  private async lastVersion(session: ClientSession, streamId: string): Promise<number> {
    const last = await this.events.find({ streamId }, { session, projection: { streamVersion: 1 } }).sort({ streamVersion: -1 }).limit(1).toArray();
    return last[0]?.streamVersion ?? 0;
  }

  async appendStreams(session: ClientSession, appends: StreamAppend[]): Promise<AppendOutcome[]> {
    const streamIds = appends.map((a) => a.streamId);
    if (new Set(streamIds).size !== streamIds.length) throw new Error('appendStreams needs distinct streams');
    for (const a of appends) if (a.events.length === 0) throw new Error('append needs at least one event');
    try {
      // One operation at a time: a transaction's operations must not overlap.
      const current: number[] = [];
      for (const a of appends) current.push(await this.lastVersion(session, a.streamId));
      const passing = appends.map((a, i) => a.expectedVersion === undefined || a.expectedVersion === current[i]);
      const total = appends.reduce((n, a, i) => n + (passing[i] ? a.events.length : 0), 0);
      if (total === 0) return appends.map((a, i) => ({ conflict: new StreamVersionConflict(a.streamId, a.expectedVersion, current[i]) }));
      // The counter, inside the transaction: what serialises appends into commit order (see above).
      const counter = await this.counters.findOneAndUpdate({ _id: 'events' }, { $inc: { seq: total } }, { session, upsert: true, returnDocument: 'after' });
      let position = counter!.seq - total;
      const transactionId = String(position + 1);
      const occurredAt = new Date();
      const docs: EventDocument[] = [];
      const outcomes: AppendOutcome[] = appends.map((a, i) => {
        if (!passing[i]) return { conflict: new StreamVersionConflict(a.streamId, a.expectedVersion, current[i]) };
        const recorded = a.events.map((e, j): EventDocument => {
          const metadata = e.subjects?.length ? { ...a.metadata, subjects: [...new Set([...(a.metadata.subjects ?? []), ...e.subjects])] } : a.metadata;
          return {
            _id: randomUUID(),
            globalPosition: ++position,
            transactionId,
            streamId: a.streamId,
            streamVersion: current[i] + j + 1,
            type: e.type,
            version: e.version ?? 1,
            data: e.data as Record<string, unknown>,
            metadata,
            occurredAt,
          };
        });
        docs.push(...recorded);
        return { nextVersion: current[i] + a.events.length, events: recorded.map(toRecorded) };
      });
      await this.events.insertMany(docs, { session, ordered: true });
      return outcomes;
    } catch (err) {
      if (isTransientTransactionError(err) || duplicateKeyIndex(err) === 'stream_id_stream_version') {
        throw new TransactionWriteConflict(appends[0].streamId, appends.length === 1 ? appends[0].expectedVersion : undefined, undefined);
      }
      throw err;
    }
  }

  async readStream(streamId: string, options: { afterVersion?: number; tx?: ClientSession } = {}): Promise<RecordedEvent[]> {
    const docs = await this.events
      .find({ streamId, streamVersion: { $gt: options.afterVersion ?? 0 } }, options.tx ? { session: options.tx } : {})
      .sort({ streamVersion: 1 })
      .toArray();
    return docs.map(toRecorded);
  }

  async readAll(after: Checkpoint, limit: number): Promise<RecordedEvent[]> {
    // Majority reads: what a reader passes can never be rolled back by a failover. A majority
    // snapshot that holds a position holds every lower one (their commits precede it in the oplog).
    const docs = await this.events
      .find({ globalPosition: { $gt: after.globalPosition } }, { readConcern: { level: 'majority' }, readPreference: 'primary' })
      .sort({ globalPosition: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toRecorded);
  }

  /** One aggregation for every subject: a $facet per subject, each filtered, sorted and cut. */
  async readBySubjects(subjectIds: readonly string[], afterPosition: number, limit: number, filter?: AuditFilter | null): Promise<Map<string, RecordedEvent[]>> {
    const out = new Map<string, RecordedEvent[]>(subjectIds.map((id) => [id, []]));
    if (subjectIds.length === 0) return out;
    const [facets] = await this.events.aggregate<Record<string, EventDocument[]>>(readBySubjectsPipeline(subjectIds, afterPosition, limit, filter)).toArray();
    subjectIds.forEach((id, i) => out.set(id, (facets?.[`s${i}`] ?? []).map(toRecorded)));
    return out;
  }

  async subscribe(onCommit: () => void): Promise<Unsubscribe> {
    const stream: ChangeStream = this.events.watch([{ $match: { operationType: 'insert' } }]);
    stream.on('change', () => onCommit());
    stream.on('error', () => {});
    return async () => {
      await stream.close().catch(() => {});
    };
  }

  /** The change stream tells every subscriber; nothing to send. */
  announce(): void {}

  isConnectionError(err: unknown): boolean {
    return isMongoConnectionError(err);
  }

  uniqueViolation(err: unknown): string | null {
    return duplicateKeyIndex(err);
  }

  /** The client belongs to whoever opened it. */
  async close(): Promise<void> {}
}

/** The audit-trail pipeline: the events' collection matched once, then a facet per subject. */
export function readBySubjectsPipeline(subjectIds: readonly string[], afterPosition: number, limit: number, filter?: AuditFilter | null): object[] {
  const tenant = auditFilterQuery(filter);
  return [
    { $match: { 'metadata.subjects': { $in: [...subjectIds] }, globalPosition: { $gt: afterPosition }, ...tenant } },
    { $sort: { globalPosition: 1 } },
    {
      $facet: Object.fromEntries(subjectIds.map((id, i) => [`s${i}`, [{ $match: { 'metadata.subjects': id } }, { $limit: limit }]])),
    },
  ];
}
