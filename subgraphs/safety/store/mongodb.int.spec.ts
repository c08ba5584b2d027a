import { randomBytes } from 'node:crypto';
import { MongoClient, type ClientSession } from 'mongodb';
import { describe, it } from 'vitest';
import { MongoEventStore } from '../../../platform/event-store/mongodb.ts';
import { MongoSafetyStore } from './mongodb.ts';
import { safetyStoreContract } from './safety-store.contract.ts';

/** The Safety store contract on a real MongoDB replica set: runs when ANGELIS_MONGO_URL is set (docker compose up -d mongo). */
const url = process.env.ANGELIS_MONGO_URL;

if (url) {
  safetyStoreContract<ClientSession>('mongodb', async () => {
    const client = await new MongoClient(url).connect();
    const db = client.db(`t_safety_${randomBytes(4).toString('hex')}`);
    const events = new MongoEventStore(client, db);
    const documents = new MongoSafetyStore(db);
    await Promise.all([events.migrate(), documents.migrate()]);
    return {
      documents,
      events,
      async cleanup() {
        await db.dropDatabase();
        await client.close();
      },
    };
  });
} else {
  console.log('SKIPPED: safety store contract on MongoDB (set ANGELIS_MONGO_URL to a replica set, e.g. `docker compose up -d mongo`)');
  describe.skip('safety store contract: mongodb (ANGELIS_MONGO_URL unset)', () => it('runs against a MongoDB replica set', () => {}));
}
