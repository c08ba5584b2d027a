import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts';
import { Db } from '../postgres/pool.ts';
import { CommandHandler } from './command-handler.ts';
import { eventStoreContract } from './event-store.contract.ts';
import { eventStoreMigration, PostgresEventStore, postgresEventStore as store, StreamVersionConflict, type FusedProjection } from './postgres.ts';
import { START, type EventMetadata, type RecordedEvent } from './types.ts';

const meta: EventMetadata = { actor: { id: 'tester', kind: 'dev' } };

eventStoreContract<pg.PoolClient>('postgres', async () => {
  const d = await createTestDatabase('esc', [{ service: 'es', migrations: [eventStoreMigration] }], 10);
  await d.db.query('CREATE TABLE ticks (stream_id text NOT NULL, label text UNIQUE)');
  const second = new Db({ ...d.settings, size: 5, overflow: 5 });
  return {
    store: new PostgresEventStore(d.db),
    other: new PostgresEventStore(second),
    async projectTicks(tx, events) {
      for (const e of events) await tx.query('INSERT INTO ticks (stream_id, label) VALUES ($1, $2)', [e.streamId, (e.data as { label?: string }).label ?? null]);
      return new Map(events.map((e) => [e.streamId, e.streamVersion]));
    },
    countTicks: async () => (await d.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ticks')).rows[0].n,
    async cleanup() {
      await second.end();
      await d.drop();
    },
  };
});

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('es', [{ service: 'es', migrations: [eventStoreMigration] }], 25);
});
afterAll(async () => t?.drop());

/** Reads from START until `done` holds (bounded): other test files' open transactions may hold readers back. */
async function readAllUntil(done: (events: RecordedEvent[]) => boolean, timeoutMs = 20_000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await store.readAll(t.db.pool, START, 100_000);
    if (done(events) || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('postgres event store: what only PostgreSQL does', () => {
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


  it('names fused statements so that long, different plans never collide on one connection', async () => {
    // Keys share their first 80 characters: a name built from them would be cut at 63 bytes.
    const prefix = 'ProfileUpdated+LicenseGranted+LicenseRenewed+AssignmentCreated+ProjectCreated+';
    const fusedWith = (label: string): FusedProjection => ({
      plan: (_events, first) => ({
        key: `${prefix}${label}`,
        ctes: `marked AS (SELECT $${first}::text AS label, count(*) AS n FROM appended)`,
        params: [label],
        outputs: ['marked'],
        written: (out) => new Map([['marked', out.marked?.[0]]]),
      }),
    });
    const one = new Db({ ...t.settings, size: 1, overflow: 0 });
    try {
      const es = new PostgresEventStore(one);
      for (const label of ['first', 'second', 'first']) {
        const uow = await es.begin();
        const done = await es.appendAndProject(uow, [{ streamId: `fused-${label}`, events: [{ type: 'F', data: {} }], metadata: meta }], fusedWith(label));
        await uow.commit();
        expect(done!.written.get('marked')).toEqual({ label, n: 1 });
      }
    } finally {
      await one.end();
    }
    expect((await store.readStream(t.db.pool, 'fused-first')).length).toBe(2);
  });

  it('append checks the expected version in the caller\'s transaction', async () => {
    await t.db.transaction((tx) => store.append(tx, 's-basic', [{ type: 'A', data: {} }], { expectedVersion: 0, metadata: meta }));
    await expect(
      t.db.transaction((tx) => store.append(tx, 's-basic', [{ type: 'B', data: {} }], { expectedVersion: 0, metadata: meta })),
    ).rejects.toMatchObject({ extensions: { code: 'CONFLICT', actualVersion: 1 } });
    await expect(
      t.db.transaction((tx) => store.append(tx, 's-basic', [{ type: 'B', data: {} }], { expectedVersion: 0, metadata: meta })),
    ).rejects.toBeInstanceOf(StreamVersionConflict);
  });
});

describe('command handler on PostgreSQL: group commit saves statements', () => {
  const counter = { initialState: () => 0, evolve: (n: number) => n + 1 };
  const tick = (streamId: string) => ({
    streamId,
    evolver: counter,
    metadata: meta,
    decide: (n: number) => [{ type: 'Tick', data: { n: n + 1 } }],
    project: projectTicks,
  });
  async function projectTicks(tx: pg.PoolClient, events: RecordedEvent[]) {
    for (const e of events) await tx.query('INSERT INTO ticks (stream_id, label) VALUES ($1, $2)', [e.streamId, (e.data as { label?: string }).label ?? null]);
    return new Map(events.map((e) => [e.streamId, e.streamVersion]));
  }

  beforeAll(async () => {
    await t.db.query('CREATE TABLE ticks (stream_id text NOT NULL, label text UNIQUE)');
  });

  it('commits concurrent commands on different streams together, each with its own result', async () => {
    const handler = new CommandHandler(new PostgresEventStore(t.db));
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

  it('awaits beforeAnswer hooks (cache invalidation) after the commit and before any command of the batch is answered', async () => {
    const handler = new CommandHandler(new PostgresEventStore(t.db));
    const seen: string[] = [];
    handler.beforeAnswer(async (events) => {
      // Committed already: another connection reads the events.
      const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE stream_id = ANY($1)`, [events.map((e) => e.streamId)]);
      await new Promise((r) => setTimeout(r, 50));
      seen.push(`hook:${rows[0].n}`);
    });
    const results = await Promise.all(['h-1', 'h-2', 'h-3'].map((id) => handler.handle(tick(id)).then((r) => (seen.push(`answer:${r.events[0].streamId}`), r))));
    expect(results).toHaveLength(3);
    expect(seen[0]).toMatch(/^hook:[1-3]$/);
    const hooks = seen.filter((s) => s.startsWith('hook:'));
    // Every answer came after a hook that saw its events committed.
    for (const r of results) expect(seen.indexOf(`answer:${r.events[0].streamId}`)).toBeGreaterThan(seen.indexOf(hooks[0]));
  });

  it('calls onUncertainCommit hooks when the connection breaks during COMMIT, before the command fails', async () => {
    const store = new PostgresEventStore(t.db);
    const begin = store.begin.bind(store);
    // The unit of work loses its connection while committing (the outcome is unknown).
    store.begin = async () => {
      const uow = await begin();
      return Object.assign(uow, {
        commit: async () => {
          // COMMIT sent, then the connection is gone: PostgreSQL may or may not have committed.
          (uow as { committing: boolean }).committing = true;
          throw new Error('Connection terminated unexpectedly');
        },
      });
    };
    const handler = new CommandHandler(store);
    const order: string[] = [];
    handler.onUncertainCommit(async () => void order.push('uncertain'));
    handler.beforeAnswer(async () => void order.push('answered'));
    await expect(handler.handle(tick('u-1'))).rejects.toThrow(/Connection terminated/);
    expect(order).toEqual(['uncertain']);
  });
});
