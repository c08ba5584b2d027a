import { MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { FakeClientSession, RecordingMongo } from '../../testing/mongodb.ts';
import { StreamVersionConflict } from '../port.ts';
import { EVENT_INDEXES, MongoEventStore, MongoUnitOfWork, TransactionWriteConflict } from './store.ts';

/** What the MongoDB event store sends to the driver, exactly (a recording test double stands in for the driver). */
const meta = { actor: { id: 'tester', kind: 'dev' as const }, companyId: 'c1' };
const setup = () => {
  const mongo = new RecordingMongo();
  return { mongo, store: new MongoEventStore(mongo.client(), mongo.db()) };
};

describe('MongoDB event store: what it sends to the driver', () => {
  it('creates the unique (streamId, streamVersion) index, unique positions, the subjects index, and the counter', async () => {
    const { mongo, store } = setup();
    await store.migrate();
    expect(mongo.sent()).toEqual([
      { call: 'events.createIndexes', args: [EVENT_INDEXES] },
      { call: 'counters.updateOne', args: [{ _id: 'events' }, { $setOnInsert: { seq: 0 } }, { upsert: true }] },
    ]);
    expect(EVENT_INDEXES[0]).toEqual({ key: { streamId: 1, streamVersion: 1 }, name: 'stream_id_stream_version', unique: true });
    expect(EVENT_INDEXES[1]).toEqual({ key: { globalPosition: 1 }, name: 'global_position', unique: true });
  });

  it('a unit of work is one session and transaction: snapshot reads, majority writes; commit ends it', async () => {
    const { mongo, store } = setup();
    const uow = await store.begin();
    await uow.commit();
    expect(mongo.sessions[0].steps).toEqual([
      ['startTransaction', { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' }],
      ['commitTransaction'],
      ['endSession'],
    ]);
    const aborted = new MongoUnitOfWork(new FakeClientSession() as never);
    await aborted.abort(new Error('x'));
    expect((aborted.tx as unknown as FakeClientSession).steps.map((s) => s[0])).toEqual(['startTransaction', 'abortTransaction', 'endSession']);
  });

  it('appends: reads each stream\'s last version in the session, takes positions from the counter in the transaction, inserts in order', async () => {
    const { mongo, store } = setup();
    mongo.answer('events.find', [{ streamVersion: 3 }]).answer('events.find', []).answer('counters.findOneAndUpdate', { _id: 'events', seq: 42 });
    const session = new FakeClientSession();
    const outcomes = await store.appendStreams(session as never, [
      { streamId: 'a', events: [{ type: 'X', data: { n: 1 } }, { type: 'Y', data: { n: 2 }, subjects: ['e1'] }], expectedVersion: 3, metadata: { ...meta, subjects: ['a'] } },
      { streamId: 'b', events: [{ type: 'Z', data: {} }], expectedVersion: 0, metadata: meta },
    ]);
    const sent = mongo.sent();
    expect(sent.slice(0, 3)).toEqual([
      { call: 'events.find', args: [{ streamId: 'a' }, { session: 'session', projection: { streamVersion: 1 } }], cursor: [['sort', { streamVersion: -1 }], ['limit', 1]] },
      { call: 'events.find', args: [{ streamId: 'b' }, { session: 'session', projection: { streamVersion: 1 } }], cursor: [['sort', { streamVersion: -1 }], ['limit', 1]] },
      { call: 'counters.findOneAndUpdate', args: [{ _id: 'events' }, { $inc: { seq: 3 } }, { session: 'session', upsert: true, returnDocument: 'after' }] },
    ]);
    expect(sent[3].call).toBe('events.insertMany');
    const [docs, options] = sent[3].args as [Record<string, unknown>[], unknown];
    expect(options).toEqual({ session: 'session', ordered: true });
    expect(docs.map((d) => [d.streamId, d.streamVersion, d.globalPosition, d.transactionId, d.type])).toEqual([
      ['a', 4, 40, '40', 'X'],
      ['a', 5, 41, '40', 'Y'],
      ['b', 1, 42, '40', 'Z'],
    ]);
    expect(docs[1].metadata).toEqual({ ...meta, subjects: ['a', 'e1'] });
    expect(typeof docs[0]._id).toBe('string');
    expect(outcomes.map((o) => ('conflict' in o ? 'conflict' : o.nextVersion))).toEqual([5, 1]);
  });

  it('a stale expected version writes nothing and says the actual version', async () => {
    const { mongo, store } = setup();
    mongo.answer('events.find', [{ streamVersion: 3 }]);
    const [outcome] = await store.appendStreams(new FakeClientSession() as never, [{ streamId: 'a', events: [{ type: 'X', data: {} }], expectedVersion: 1, metadata: meta }]);
    expect((outcome as { conflict: StreamVersionConflict }).conflict.actualVersion).toBe(3);
    expect(mongo.sent().map((c) => c.call)).toEqual(['events.find']);
  });

  it('a WriteConflict on the counter or a duplicate stream version is a conflict the command handler retries', async () => {
    for (const err of [
      new MongoServerError({ message: 'WriteConflict', code: 112, errorLabels: ['TransientTransactionError'] }),
      new MongoServerError({ message: 'E11000 duplicate key error collection: x.events index: stream_id_stream_version dup key', code: 11000 }),
    ]) {
      const { mongo, store } = setup();
      mongo.answer('events.find', []).answer('counters.findOneAndUpdate', { seq: 1 }).answer('events.insertMany', err);
      await expect(store.appendStreams(new FakeClientSession() as never, [{ streamId: 'a', events: [{ type: 'X', data: {} }], metadata: meta }])).rejects.toBeInstanceOf(TransactionWriteConflict);
    }
    expect(store().uniqueViolation(new MongoServerError({ message: 'E11000 duplicate key error index: ticks_label dup key', code: 11000 }))).toBe('ticks_label');
    function store() {
      return setup().store;
    }
  });

  it('reads in commit order by position, and a stream by version', async () => {
    const { mongo, store } = setup();
    await store.readAll({ transactionId: '5', globalPosition: 17 }, 50);
    await store.readStream('a', { afterVersion: 2 });
    expect(mongo.sent()).toEqual([
      { call: 'events.find', args: [{ globalPosition: { $gt: 17 } }, { readConcern: { level: 'majority' }, readPreference: 'primary' }], cursor: [['sort', { globalPosition: 1 }], ['limit', 50]] },
      { call: 'events.find', args: [{ streamId: 'a', streamVersion: { $gt: 2 } }, {}], cursor: [['sort', { streamVersion: 1 }]] },
    ]);
  });

  it('reads audit trails in one pipeline: one match, then a facet per subject; a tenant sees its own and untenanted entries without personal data', async () => {
    const { mongo, store } = setup();
    mongo.answer('events.aggregate', [{ s0: [], s1: [] }]);
    const found = await store.readBySubjects(['x', 'y'], 3, 10, { tenant: 'c1', personalKeys: ['phone', 'email'] });
    expect(mongo.sent()).toEqual([
      {
        call: 'events.aggregate',
        args: [
          [
            {
              $match: {
                'metadata.subjects': { $in: ['x', 'y'] },
                globalPosition: { $gt: 3 },
                $or: [{ 'metadata.companyId': 'c1' }, { 'metadata.companyId': null, $nor: [{ 'data.phone': { $ne: null } }, { 'data.email': { $ne: null } }] }],
              },
            },
            { $sort: { globalPosition: 1 } },
            { $facet: { s0: [{ $match: { 'metadata.subjects': 'x' } }, { $limit: 10 }], s1: [{ $match: { 'metadata.subjects': 'y' } }, { $limit: 10 }] } },
          ],
        ],
      },
    ]);
    expect([...found.keys()]).toEqual(['x', 'y']);
  });

  it('wakes subscribers from a change stream of inserts', async () => {
    const { mongo, store } = setup();
    const stop = await store.subscribe(() => {});
    await stop();
    expect(mongo.sent()).toEqual([{ call: 'events.watch', args: [[{ $match: { operationType: 'insert' } }]] }]);
  });
});
