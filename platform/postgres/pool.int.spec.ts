import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Db, keyed, prepared, run } from './pool.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('pool');
});
afterAll(async () => t?.drop());

describe('Db pool', () => {
  it('replaces a connection the server dropped while it sat idle in the pool', async () => {
    const db = new Db({ ...t.settings, size: 1, overflow: 0, idleCheckMs: 0 });
    try {
      const first = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // The server (or a proxy, or a failover) drops the idle connection behind the pool's back.
      await t.db.query('SELECT pg_terminate_backend($1)', [first.rows[0].pid]);
      await new Promise((r) => setTimeout(r, 100));
      const second = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(second.rows[0].pid).not.toBe(first.rows[0].pid);
    } finally {
      await db.end();
    }
  });

  it('counts the statements requests send, not the pre-ping of an idle connection', async () => {
    const db = new Db({ ...t.settings, size: 1, overflow: 0, idleCheckMs: 0 });
    const sent: unknown[] = [];
    db.observe((statement) => sent.push(statement));
    try {
      await db.query('SELECT 1 AS one');
      // Idle past 0 ms: every later checkout pings the connection first.
      await new Promise((r) => setTimeout(r, 5));
      await db.query('SELECT 2 AS two');
      await db.query('SELECT 3 AS three');
      expect(db.statements).toBe(3);
      // The pings did go to the server (the observer sees every statement).
      expect(sent.filter((s) => typeof s === 'string' && s.includes('pre-ping')).length).toBeGreaterThanOrEqual(1);
    } finally {
      await db.end();
    }
  });

  it('applies the statement timeout', async () => {
    const db = new Db({ ...t.settings, size: 1, overflow: 0, statementTimeoutMs: 100 });
    try {
      await expect(db.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
      expect((await db.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await db.end();
    }
  });

  it('keeps `size` connections and opens up to size + overflow under load', async () => {
    const db = new Db({ ...t.settings, size: 2, overflow: 3 });
    try {
      expect([db.pool.options.min, db.pool.options.max]).toEqual([2, 5]);
      await Promise.all(Array.from({ length: 10 }, () => db.query('SELECT pg_sleep(0.05)')));
      expect(db.pool.totalCount).toBe(5);
    } finally {
      await db.end();
    }
  });

  it('rolls a transaction back when its function throws', async () => {
    await t.db.query('CREATE TABLE tx_probe (n int)');
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (1)');
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect((await t.db.query('SELECT count(*) AS n FROM tx_probe')).rows[0].n).toBe(0);
  });
});

describe('merged key reads (Db.merged)', () => {
  const BY_ID = keyed('test_merged_by_id', 'id', 'SELECT id, name FROM merged_probe WHERE id = ANY($1::uuid[])');
  const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  let db: Db;
  beforeAll(async () => {
    await t.db.query('CREATE TABLE merged_probe (id uuid PRIMARY KEY, name text)');
    for (const [i, id] of ids.entries()) await t.db.query('INSERT INTO merged_probe VALUES ($1, $2)', [id, `row ${i}`]);
    db = new Db({ ...t.settings, size: 2, overflow: 0 });
  });
  afterAll(async () => db?.end());
  const names = (r: { rows: { id: string; name: string }[] }, keys: string[]) => keys.map((k) => r.rows.find((row) => row.id === k)?.name ?? null);

  it("sends concurrent requests' reads as one statement; each request is observed with its own keys, in its own context", async () => {
    const requests = new AsyncLocalStorage<string>();
    const seen: { request: string | undefined; keys: unknown }[] = [];
    db.observe((_statement, values) => seen.push({ request: requests.getStore(), keys: values?.[0] }));
    const statements = db.statements;
    const merged = db.merging.statements;
    const asks = [[ids[0]], [ids[1], ids[2]], [ids[2], randomUUID()], [ids[0]]];
    const results = await Promise.all(asks.map((keys, n) => requests.run(`r${n}`, () => run(db.merged, BY_ID, [keys]))));
    expect(db.statements - statements).toBe(1);
    expect(db.merging.statements - merged).toBe(1);
    expect(results.map((r, n) => names(r as never, asks[n]))).toEqual([['row 0'], ['row 1', 'row 2'], ['row 2', null], ['row 0']]);
    // Only the rows of its own keys, as the statement alone would give.
    expect(results.map((r) => r.rows.map((row) => row.id).sort())).toEqual([[ids[0]], [ids[1], ids[2]].sort(), [ids[2]], [ids[0]]]);
    expect(results.map((r) => r.rowCount)).toEqual([1, 2, 1, 1]);
    expect(seen).toEqual(asks.map((keys, n) => ({ request: `r${n}`, keys })));
    // Each request holds rows of its own: changing one changes no other request's.
    (results[0].rows[0] as { name: string }).name = 'changed';
    expect((results[3].rows.find((r) => r.id === ids[0]) as { name: string }).name).toBe('row 0');
    db.observe(() => {});
  });

  it("a request's malformed key fails that request alone", async () => {
    const asks = [[ids[0]], ['not-a-uuid'], [ids[3]]];
    const results = await Promise.allSettled(asks.map((keys) => run(db.merged, BY_ID, [keys])));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: '22P02' });
    expect(names((results[0] as PromiseFulfilledResult<never>).value, [ids[0]])).toEqual(['row 0']);
    expect(names((results[2] as PromiseFulfilledResult<never>).value, [ids[3]])).toEqual(['row 3']);
  });

  it('sends other statements as they are: not keyed, more than one parameter, or text', async () => {
    const statements = db.statements;
    const merged = db.merging.statements;
    const plain = prepared('test_not_keyed', 'SELECT id, name FROM merged_probe WHERE id = ANY($1::uuid[])');
    const two = keyed('test_keyed_two', 'id', 'SELECT id, name FROM merged_probe WHERE id = ANY($1::uuid[]) AND name <> $2');
    await Promise.all([
      run(db.merged, plain, [[ids[0]]]),
      run(db.merged, plain, [[ids[1]]]),
      run(db.merged, two, [[ids[0]], 'x']),
      run(db.merged, two, [[ids[1]], 'x']),
      run(db.merged, 'SELECT name FROM merged_probe WHERE id = ANY($1::uuid[])', [[ids[2]]]),
    ]);
    expect(db.statements - statements).toBe(5);
    expect(db.merging.statements).toBe(merged);
  });

  it('carries at most 1,000 keys in one statement', async () => {
    const sizes: number[] = [];
    const query = db.pool.query;
    (db.pool as { query: unknown }).query = (...args: [{ values: unknown[][] }]) => (sizes.push(args[0].values[0].length), (query as (...a: unknown[]) => unknown)(...args));
    const asks = Array.from({ length: 5 }, (_, n) => [ids[n % ids.length], ...Array.from({ length: 299 }, () => randomUUID())]);
    const results = await Promise.all(asks.map((keys) => run(db.merged, BY_ID, [keys]))).finally(() => ((db.pool as { query: unknown }).query = query));
    expect(sizes).toEqual([900, 600]);
    expect(results.map((r, n) => names(r as never, [asks[n][0]]))).toEqual(asks.map((keys) => [`row ${ids.indexOf(keys[0])}`]));
  });
});
