import { randomBytes } from 'node:crypto';
import { MongoClient, type ClientSession } from 'mongodb';
import { describe, it } from 'vitest';
import { eventStoreContract } from './event-store.contract.ts';
import { MongoEventStore } from './mongodb.ts';

/**
 * The event store contract on a real MongoDB replica set (transactions and change streams
 * need one): runs when ANGELIS_MONGO_URL is set (`docker compose up -d mongo`), else says
 * clearly that it was skipped.
 */
const url = process.env.ANGELIS_MONGO_URL;

if (url) {
  eventStoreContract<ClientSession>('mongodb', async () => {
    const client = await new MongoClient(url).connect();
    const second = await new MongoClient(url).connect();
    const name = `t_es_${randomBytes(4).toString('hex')}`;
    const db = client.db(name);
    const store = new MongoEventStore(client, db);
    await store.migrate();
    const ticks = db.collection<{ streamId: string; label: string | null }>('ticks');
    // Unique like the PostgreSQL harness's column: nulls do not collide.
    await ticks.createIndex({ label: 1 }, { unique: true, name: 'ticks_label', partialFilterExpression: { label: { $type: 'string' } } });
    return {
      store,
      other: new MongoEventStore(second, second.db(name)),
      async projectTicks(session, events) {
        await ticks.insertMany(events.map((e) => ({ streamId: e.streamId, label: (e.data as { label?: string }).label ?? null })), { session });
        return new Map(events.map((e) => [e.streamId, e.streamVersion]));
      },
      countTicks: () => ticks.countDocuments(),
      async cleanup() {
        await db.dropDatabase();
        await Promise.all([client.close(), second.close()]);
      },
    };
  });
} else {
  console.log('SKIPPED: event store contract on MongoDB (set ANGELIS_MONGO_URL to a replica set, e.g. `docker compose up -d mongo`)');
  describe.skip('event store contract: mongodb (ANGELIS_MONGO_URL unset)', () => it('runs against a MongoDB replica set', () => {}));
}
