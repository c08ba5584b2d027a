import type { EventDocument } from '../../platform/event-store/mongodb.ts';
import type { MongoEventConnection } from '../source/mongodb-event-reader.ts';

/**
 * TEST DOUBLE of a MongoDB `events` collection (as MongoEventStore writes it), in memory:
 * `find` gives an iterable cursor that honours the filter `{ globalPosition: { $gt } }`
 * (or `{}`), `sort` on globalPosition and `limit`; `countDocuments`, and `watch` (its change
 * listeners run on `append`). No MongoDB server runs on the development machine; the real
 * driver and server are covered by mongodb-event-reader.mongodb.int.spec.ts.
 */
export class FakeEventsCollection {
  readonly docs: EventDocument[] = [];
  readonly finds: { filter: unknown; options: unknown }[] = [];
  private readonly listeners = new Set<() => void>();

  /** Adds committed events (in position order) and tells the change streams. */
  append(...docs: EventDocument[]): void {
    this.docs.push(...docs);
    this.listeners.forEach((l) => l());
  }

  private select(filter: Record<string, unknown>, options: { sort?: { globalPosition?: 1 | -1 }; limit?: number } = {}): EventDocument[] {
    const keys = Object.keys(filter);
    if (keys.some((k) => k !== 'globalPosition')) throw new Error(`FakeEventsCollection: unsupported filter ${JSON.stringify(filter)}`);
    const after = (filter.globalPosition as { $gt?: number } | undefined)?.$gt ?? -Infinity;
    const direction = options.sort?.globalPosition ?? 1;
    const out = this.docs.filter((d) => d.globalPosition > after).sort((a, b) => direction * (a.globalPosition - b.globalPosition));
    return options.limit ? out.slice(0, options.limit) : out;
  }

  find(filter: Record<string, unknown>, options?: { sort?: { globalPosition?: 1 | -1 }; limit?: number }) {
    this.finds.push({ filter, options });
    const docs = this.select(filter, options);
    return {
      toArray: async () => structuredClone(docs),
      [Symbol.asyncIterator]: async function* () {
        // Copies, as the driver deserialises a fresh document each time.
        for (const d of docs) yield structuredClone(d);
      },
    };
  }

  async countDocuments(filter: Record<string, unknown>): Promise<number> {
    return this.select(filter).length;
  }

  watch() {
    let listener: (() => void) | undefined;
    return {
      on: (event: string, fn: () => void) => {
        if (event === 'change') this.listeners.add((listener = fn));
      },
      close: async () => {
        if (listener) this.listeners.delete(listener);
      },
    };
  }

  /** What MongoEventReader connects to: a Db whose `events` is this collection. */
  connection(): MongoEventConnection {
    const db = { collection: (name: string) => (name === 'events' ? this : {}) };
    return { client: { startSession: () => { throw new Error('FakeEventsCollection: the projector never writes'); } } as never, db: db as never, close: async () => {} };
  }
}
