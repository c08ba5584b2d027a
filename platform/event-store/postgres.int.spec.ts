import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts';
import { CommandHandler } from './command-handler.ts';
import { checkpointOf, EVENTS_CHANNEL, eventStoreMigration, postgresEventStore as store, StreamVersionConflict } from './postgres.ts';
import { START, type Checkpoint, type EventMetadata, type RecordedEvent } from './types.ts';

const meta: EventMetadata = { actor: { id: 'tester', kind: 'dev' } };

/**
 * Reads from START until `done` holds (bounded). A transaction open anywhere on the server
 * holds back what commit-order readers may see, and other test files run beside this one,
 * so "nothing new yet" is not "nothing left".
 */
async function readAllUntil(done: (events: RecordedEvent[]) => boolean, timeoutMs = 20_000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await store.readAll(t.db.pool, START, 100_000);
    if (done(events) || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 50));
  }
}
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('es', [{ service: 'es', migrations: [eventStoreMigration] }], 25);
});
afterAll(async () => t?.drop());

describe('postgres event store', () => {
  it('appends with an expected version and reads the stream back in order', async () => {
    const r1 = await t.db.transaction((tx) =>
      store.append(tx, 's-basic', [{ type: 'A', data: { n: 1 } }, { type: 'B', data: { n: 2 } }], { expectedVersion: 0, metadata: meta }),
    );
    expect(r1.nextVersion).toBe(2);
    expect(r1.events.map((e) => e.streamVersion)).toEqual([1, 2]);
    const events = await store.readStream(t.db.pool, 's-basic');
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['A', { n: 1 }],
      ['B', { n: 2 }],
    ]);
    expect(events[0].metadata.actor.id).toBe('tester');
    expect(events[0].occurredAt).toBeInstanceOf(Date);
  });

  it('refuses a stale expected version and writes nothing', async () => {
    await expect(
      t.db.transaction((tx) => store.append(tx, 's-basic', [{ type: 'C', data: {} }], { expectedVersion: 1, metadata: meta })),
    ).rejects.toMatchObject({ extensions: { code: 'CONFLICT', actualVersion: 2 } });
    expect(await store.readStream(t.db.pool, 's-basic')).toHaveLength(2);
    await expect(
      t.db.transaction((tx) => store.append(tx, 's-basic', [{ type: 'C', data: {} }], { expectedVersion: 0, metadata: meta })),
    ).rejects.toBeInstanceOf(StreamVersionConflict);
  });

  it('finds events by subject for the audit trail', async () => {
    await t.db.transaction((tx) =>
      store.append(tx, 's-subject', [{ type: 'X', data: {}, subjects: ['entity-42'] }], { metadata: { ...meta, subjects: ['s'] } }),
    );
    const found = (await store.readBySubjects(t.db.pool, ['entity-42', 'nobody'], 0, 10)).get('entity-42')!;
    expect(found.map((e) => e.type)).toEqual(['X']);
    expect(found[0].metadata.subjects).toEqual(['s', 'entity-42']);
  });

  it('does not show an event committed with a higher position until earlier transactions finish', async () => {
    const slow = await t.db.connect();
    await slow.query('BEGIN');
    await store.append(slow, 's-slow', [{ type: 'Slow', data: {} }], { metadata: meta });
    await t.db.transaction((tx) => store.append(tx, 's-fast', [{ type: 'Fast', data: {} }], { metadata: meta }));
    const before = await store.readAll(t.db.pool, START, 1000);
    expect(before.map((e) => e.type)).not.toContain('Fast');
    await slow.query('COMMIT');
    t.db.release(slow);
    const after = await readAllUntil((events) => events.some((e) => e.type === 'Slow'));
    const types = after.map((e) => e.type);
    expect(types.indexOf('Slow')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('Slow')).toBeLessThan(types.indexOf('Fast'));
  });

  it('orders by transaction id as a number, not as text', async () => {
    // xids 9 and 10 sort the other way round as text; insert them as a wrapped-around
    // server would have written them, in a separate table-scoped range of positions.
    await t.db.query(`INSERT INTO events (transaction_id, stream_id, stream_version, event_id, event_type, data, metadata)
      VALUES ('10', 'xid-order', 2, gen_random_uuid(), 'Second', '{}', '{}'), ('9', 'xid-order', 1, gen_random_uuid(), 'First', '{}', '{}')`);
    const all = await readAllUntil((events) => events.filter((e) => e.streamId === 'xid-order').length === 2);
    const ours = all.filter((e) => e.streamId === 'xid-order');
    expect(ours.map((e) => [e.transactionId, e.type])).toEqual([['9', 'First'], ['10', 'Second']]);
    expect(all.slice(0, 2).map((e) => e.type)).toEqual(['First', 'Second']);
  });

  it('notifies listeners after a command commits, never for one that rolled back', async () => {
    const listener = new pg.Client({ ...t.settings, database: t.settings.database });
    await listener.connect();
    const got: string[] = [];
    listener.on('notification', (n) => got.push(n.channel));
    await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
    const handler = new CommandHandler(t.db);
    const evolver = { initialState: () => 0, evolve: (n: number) => n + 1 };
    const command = (fail: boolean) => ({
      streamId: 's-notify',
      evolver,
      metadata: meta,
      decide: () => [{ type: 'N', data: {} }],
      project: async () => {
        if (fail) throw new Error('projection refused');
      },
    });
    await expect(handler.handle(command(true))).rejects.toThrow('projection refused');
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual([]);
    await handler.handle(command(false));
    await new Promise((r) => setTimeout(r, 200));
    await listener.end();
    expect(got).toEqual([EVENTS_CHANNEL]);
    expect(await store.readStream(t.db.pool, 's-notify')).toHaveLength(1);
  });

  it('20 concurrent writers on overlapping streams: a polling reader sees every event once, in stream order, and no update is lost', async () => {
    const writers = 20;
    const appendsPerWriter = 15;
    const streams = ['c-0', 'c-1', 'c-2', 'c-3', 'c-4'];
    let expectedTotal = Infinity;
    const seen: RecordedEvent[] = [];

    // Polls with a checkpoint, as the projector does, until it has seen every committed event.
    const reader = (async () => {
      let checkpoint: Checkpoint = START;
      const deadline = Date.now() + 60_000;
      while (seen.filter((e) => e.streamId.startsWith('c-')).length < expectedTotal && Date.now() < deadline) {
        const batch = await store.readAll(t.db.pool, checkpoint, 37);
        for (const e of batch) seen.push(e);
        if (batch.length) checkpoint = checkpointOf(batch[batch.length - 1]);
        else await new Promise((r) => setTimeout(r, 2));
      }
      // One more read: nothing beyond what was committed may show up (no duplicates).
      await new Promise((r) => setTimeout(r, 50));
      for (const e of await store.readAll(t.db.pool, checkpoint, 1000)) seen.push(e);
    })();

    const committed: { writer: number; seq: number }[] = [];
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let seq = 0; seq < appendsPerWriter; seq++) {
          const streamId = streams[(writer + seq) % streams.length];
          // Read-decide-append with an expected version: a conflict means re-read and retry.
          for (;;) {
            const version = (await store.readStream(t.db.pool, streamId)).length;
            try {
              await t.db.transaction((tx) =>
                store.append(tx, streamId, [{ type: 'W', data: { writer, seq } }], { expectedVersion: version, metadata: meta }),
              );
              committed.push({ writer, seq });
              break;
            } catch (err) {
              if (!(err instanceof StreamVersionConflict)) throw err;
            }
          }
        }
      }),
    );
    expectedTotal = committed.length;
    await reader;

    const ours = seen.filter((e) => e.streamId.startsWith('c-'));
    expect(committed).toHaveLength(writers * appendsPerWriter);
    expect(ours).toHaveLength(committed.length);
    expect(new Set(ours.map((e) => e.eventId)).size).toBe(ours.length);
    // Every committed write is there exactly once (no lost update).
    const keys = ours.map((e) => `${(e.data as { writer: number }).writer}:${(e.data as { seq: number }).seq}`);
    expect(new Set(keys)).toEqual(new Set(committed.map((c) => `${c.writer}:${c.seq}`)));
    // Per stream, the reader saw versions 1..n in order.
    for (const s of streams) {
      const versions = ours.filter((e) => e.streamId === s).map((e) => e.streamVersion);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM events WHERE stream_id LIKE 'c-%'`);
    expect(rows[0].n).toBe(ours.length);
  });
});

describe('command handler: group commit', () => {
  const counter = { initialState: () => 0, evolve: (n: number) => n + 1 };
  const tick = (streamId: string, opts: { refuse?: boolean; data?: Record<string, unknown> } = {}) => ({
    streamId,
    evolver: counter,
    metadata: meta,
    decide: (n: number) => {
      if (opts.refuse) throw new GraphQLError('refused by the domain');
      return [{ type: 'Tick', data: { n: n + 1, ...opts.data } }];
    },
    project: projectTicks,
  });
  /** A projection with a unique index, so one command of a batch can break it. */
  async function projectTicks(tx: pg.PoolClient, events: RecordedEvent[]) {
    for (const e of events) await tx.query('INSERT INTO ticks (stream_id, label) VALUES ($1, $2)', [e.streamId, (e.data as { label?: string }).label ?? null]);
    return new Map(events.map((e) => [e.streamId, e.streamVersion]));
  }

  beforeAll(async () => {
    await t.db.query('CREATE TABLE ticks (stream_id text NOT NULL, label text UNIQUE)');
  });

  it('commits concurrent commands on different streams together, each with its own result', async () => {
    const handler = new CommandHandler(t.db);
    const before = t.db.statements;
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => handler.handle(tick(`g-${i}`))));
    const statements = t.db.statements - before;
    expect(results.map((r) => r.version)).toEqual(results.map(() => 1));
    expect(results.map((r) => r.events[0].streamId)).toEqual(results.map((_, i) => `g-${i}`));
    // Alone, each would cost BEGIN, append, projection, COMMIT: 160 statements.
    expect(statements).toBeLessThan(100);
    // The projection's rows of the whole batch come back with each result.
    expect(results[39].written.get('g-39')).toBe(1);
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE stream_id LIKE 'g-%'`);
    expect(rows[0].n).toBe(40);
  });

  it('a refused command fails alone; a command that breaks the batch fails alone and writes nothing', async () => {
    const handler = new CommandHandler(t.db);
    await t.db.query(`INSERT INTO ticks (stream_id, label) VALUES ('outside', 'taken')`);
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => handler.handle(tick(`h-ok-${i}`))),
      handler.handle(tick('h-refused', { refuse: true })),
      handler.handle(tick('h-duplicate', { data: { label: 'taken' } })),
      ...Array.from({ length: 10 }, (_, i) => handler.handle(tick(`h-ok-${10 + i}`))),
    ]);
    const failed = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(failed).toHaveLength(2);
    expect(failed.map((f) => (f.reason as Error).message).sort()).toEqual([
      expect.stringContaining('duplicate key'),
      'refused by the domain',
    ]);
    const { rows } = await t.db.query<{ stream_id: string }>(`SELECT stream_id FROM events WHERE stream_id LIKE 'h-%' ORDER BY stream_id`);
    expect(rows.map((r) => r.stream_id)).toHaveLength(20);
    expect(rows.map((r) => r.stream_id)).not.toContain('h-refused');
    expect(rows.map((r) => r.stream_id)).not.toContain('h-duplicate');
  });

  it('commands on one stream wait for each other: 30 at once end at versions 1..30', async () => {
    const handler = new CommandHandler(t.db);
    const results = await Promise.all(Array.from({ length: 30 }, () => handler.handle(tick('same-stream'))));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const events = await store.readStream(t.db.pool, 'same-stream');
    expect(events.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('a stale cached state in a batch is re-read and decided again; a pinned expectedVersion is a CONFLICT', async () => {
    const a = new CommandHandler(t.db);
    const b = new CommandHandler(t.db);
    await Promise.all(Array.from({ length: 5 }, (_, i) => a.handle(tick(`stale-${i}`))));
    // Another process (handler b) moves every stream on; a's cache is now behind.
    await Promise.all(Array.from({ length: 5 }, (_, i) => b.handle(tick(`stale-${i}`))));
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => a.handle(tick(`stale-${i}`))));
    expect(results.map((r) => r.version)).toEqual([3, 3, 3, 3, 3]);
    expect(results.map((r) => r.events[0].data)).toEqual(results.map(() => ({ n: 3 })));
    await expect(a.handle({ ...tick('stale-0'), expectedVersion: 1 })).rejects.toBeInstanceOf(StreamVersionConflict);
  });

  it("appendStreams judges each stream's expected version alone", async () => {
    await t.db.transaction((tx) => store.append(tx, 'multi-a', [{ type: 'A', data: {} }], { expectedVersion: 0, metadata: meta }));
    const outcomes = await t.db.transaction((tx) =>
      store.appendStreams(tx, [
        { streamId: 'multi-a', events: [{ type: 'A2', data: {} }], expectedVersion: 0, metadata: meta },
        { streamId: 'multi-b', events: [{ type: 'B1', data: {} }, { type: 'B2', data: {} }], expectedVersion: 0, metadata: meta },
      ]),
    );
    expect(outcomes[0]).toMatchObject({ conflict: expect.any(StreamVersionConflict) });
    expect((outcomes[0] as { conflict: StreamVersionConflict }).conflict.actualVersion).toBe(1);
    expect(outcomes[1]).toMatchObject({ nextVersion: 2 });
    expect((await store.readStream(t.db.pool, 'multi-a')).map((e) => e.type)).toEqual(['A']);
    expect((await store.readStream(t.db.pool, 'multi-b')).map((e) => e.type)).toEqual(['B1', 'B2']);
    await expect(
      t.db.transaction((tx) =>
        store.appendStreams(tx, [
          { streamId: 'x', events: [{ type: 'X', data: {} }], metadata: meta },
          { streamId: 'x', events: [{ type: 'X', data: {} }], metadata: meta },
        ]),
      ),
    ).rejects.toThrow('distinct streams');
  });
});
