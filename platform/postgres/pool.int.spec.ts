import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts';
import { Db } from './pool.ts';

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
