/**
 * TEST DOUBLES for the official MongoDB driver: a recording fake of `Collection`, `Db`,
 * `MongoClient.startSession` and `ClientSession`. No MongoDB server can run on the
 * development machine, so adapters' unit tests assert exactly what they send to the driver
 * (filters, updates, options, indexes, pipelines) and script what the driver answers. The
 * real behaviour is covered by the contract suites against a replica set (ANGELIS_MONGO_URL).
 */

export interface RecordedCall {
  collection: string;
  method: string;
  args: unknown[];
  /** Cursor steps chained on a find/aggregate: [['sort', {...}], ['limit', 1]]. */
  cursor: [string, unknown][];
}

/** Scripted answers, per `collection.method`, taken in order (default: an empty answer). */
export type Script = Record<string, unknown[]>;

export class RecordingMongo {
  readonly calls: RecordedCall[] = [];
  readonly sessions: FakeClientSession[] = [];
  private readonly script: Script;

  constructor(script: Script = {}) {
    this.script = script;
  }

  /** Queues the next answer of `collection.method` (a value, or an Error to throw). */
  answer(key: string, value: unknown): this {
    (this.script[key] ??= []).push(value);
    return this;
  }

  private next(key: string, fallback: unknown): unknown {
    const queue = this.script[key];
    const value = queue && queue.length ? queue.shift() : fallback;
    if (value instanceof Error) throw value;
    return value;
  }

  /** The calls made, without the session objects (replaced by 'session'), for exact comparisons. */
  sent(): { call: string; args: unknown[]; cursor?: [string, unknown][] }[] {
    const strip = (v: unknown): unknown => {
      if (v instanceof FakeClientSession) return 'session';
      if (Array.isArray(v)) return v.map(strip);
      if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
      return v;
    };
    return this.calls.map((c) => ({ call: `${c.collection}.${c.method}`, args: strip(c.args) as unknown[], ...(c.cursor.length ? { cursor: c.cursor } : {}) }));
  }

  /** A fake Db: `collection(name)` gives a recording fake Collection. */
  db() {
    return { collection: (name: string) => this.collection(name) } as never;
  }

  /** A fake MongoClient: `startSession()` gives a recording fake ClientSession. */
  client() {
    return {
      startSession: () => {
        const s = new FakeClientSession();
        this.sessions.push(s);
        return s;
      },
    } as never;
  }

  collection(name: string) {
    const record = (method: string, args: unknown[]): RecordedCall => {
      const call = { collection: name, method, args, cursor: [] as [string, unknown][] };
      this.calls.push(call);
      return call;
    };
    const cursor = (call: RecordedCall, key: string) => {
      const c = {
        sort: (s: unknown) => (call.cursor.push(['sort', s]), c),
        limit: (n: unknown) => (call.cursor.push(['limit', n]), c),
        toArray: async () => this.next(key, []),
        // Iterated (streamed) like a driver cursor: yields the scripted answer's documents.
        [Symbol.asyncIterator]: async function* (this: void) {
          yield* (await c.toArray()) as unknown[];
        },
      };
      return c;
    };
    const plain = (method: string, fallback: unknown) => async (...args: unknown[]) => {
      record(method, args);
      return this.next(`${name}.${method}`, fallback);
    };
    return {
      find: (...args: unknown[]) => cursor(record('find', args), `${name}.find`),
      aggregate: (...args: unknown[]) => cursor(record('aggregate', args), `${name}.aggregate`),
      findOne: plain('findOne', null),
      findOneAndUpdate: plain('findOneAndUpdate', null),
      insertMany: plain('insertMany', { acknowledged: true }),
      updateOne: plain('updateOne', { acknowledged: true }),
      bulkWrite: plain('bulkWrite', { ok: 1 }),
      deleteMany: plain('deleteMany', { acknowledged: true }),
      createIndexes: plain('createIndexes', []),
      createIndex: plain('createIndex', ''),
      countDocuments: plain('countDocuments', 0),
      watch: (...args: unknown[]) => {
        record('watch', args);
        return { on: () => {}, close: async () => {} };
      },
    };
  }
}

/** TEST DOUBLE of a ClientSession: records the transaction's life. */
export class FakeClientSession {
  readonly steps: [string, unknown?][] = [];
  private active = false;
  startTransaction(options?: unknown): void {
    this.active = true;
    this.steps.push(['startTransaction', options]);
  }
  async commitTransaction(): Promise<void> {
    this.active = false;
    this.steps.push(['commitTransaction']);
  }
  async abortTransaction(): Promise<void> {
    this.active = false;
    this.steps.push(['abortTransaction']);
  }
  async endSession(): Promise<void> {
    this.steps.push(['endSession']);
  }
  inTransaction(): boolean {
    return this.active;
  }
}
