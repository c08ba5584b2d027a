import { MongoClient } from 'mongodb';
import { MongoEventStore } from '../../../platform/event-store/mongodb.ts';
import { START } from '../../../platform/event-store/types.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { EventStore } from '../../../platform/event-store/port.ts';
import type { SafetyStorage } from '../storage.ts';
import { MongoSafetyStore } from './mongodb.ts';
import type { SafetyStore } from './port.ts';

/** Safety on a MongoDB replica set: the event store and the documents in one database, indexes ensured at start. */
export async function openMongoSafetyStorage(url: string, database: string, log: Logger): Promise<SafetyStorage> {
  const client = new MongoClient(url, { appName: 'angelis-safety', retryWrites: true });
  await client.connect();
  const db = client.db(database);
  const store = new MongoEventStore(client, db);
  const documents = new MongoSafetyStore(db);
  await Promise.all([store.migrate(), documents.migrate()]);
  log.info({ database }, 'safety: MongoDB indexes ensured');
  return {
    kind: 'mongodb',
    store: store as unknown as EventStore<unknown, unknown>,
    documents: documents as SafetyStore<unknown>,
    db: null,
    ready: async () => (await db.command({ ping: 1 })).ok === 1,
    close: () => client.close(),
    // Not atomic on MongoDB: readers may see the documents refilling while it runs.
    async rebuild(onProgress) {
      await documents.clear();
      let after = START;
      let replayed = 0;
      for (;;) {
        const events = await store.readAll(after, 1000);
        if (events.length === 0) return replayed;
        const session = client.startSession();
        try {
          await session.withTransaction(() => documents.project(session, events));
        } finally {
          await session.endSession();
        }
        replayed += events.length;
        after = { transactionId: events[events.length - 1].transactionId, globalPosition: events[events.length - 1].globalPosition };
        onProgress?.(replayed);
      }
    },
  };
}
