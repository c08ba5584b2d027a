import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReadLog, recordStatement, tablesRead, trackedCaller, uncacheableRead, withReadLog, writtenTags, type ReadRules } from './reads.ts';
import { stillCurrent } from './versions.ts';
import type { RecordedEvent } from '../event-store/types.ts';

const rules: ReadRules = {
  tables: new Set(['profiles', 'profile_companies', 'notifications']),
  personal: new Set(['notifications']),
  points: { by_id: (v) => (v[0] as string[]).map((id) => `profile-${id}`) },
  validUntil: () => 0,
  written: (e) => [`s:${e.streamId}`, 't:profiles'],
};

/** What one request's statements come to. */
function readsOf(statements: [unknown, unknown[]?][]): ReadLog {
  const log = new ReadLog(rules);
  withReadLog(log, () => {
    for (const [s, v] of statements) recordStatement(s, v);
  });
  return log;
}

describe('tablesRead', () => {
  it('finds the tables after FROM and JOIN, not functions or subqueries', () => {
    expect(tablesRead(`SELECT * FROM profiles p JOIN profile_companies pc ON pc.profile_id = p.id`)).toEqual(['profiles', 'profile_companies']);
    expect(tablesRead(`SELECT n.id FROM unnest($1::uuid[]) AS n(id) JOIN profiles p ON p.id = n.id`)).toEqual(['profiles']);
    expect(tablesRead(`SELECT * FROM (SELECT id FROM profiles) x WHERE EXISTS (SELECT 1 FROM profile_companies v)`)).toEqual(['profiles', 'profile_companies']);
    expect(tablesRead(`SELECT 1`)).toEqual([]);
  });

  it('is null for anything but a plain read (writes, locks, transactions, CTEs that write)', () => {
    for (const sql of ['BEGIN', 'COMMIT', 'INSERT INTO profiles VALUES (1)', `UPDATE profiles SET x = 1`, 'DELETE FROM profiles',
      'WITH w AS (UPDATE profiles SET x = 1 RETURNING *) SELECT * FROM w', 'SELECT * FROM profiles FOR UPDATE', 'select pg_advisory_lock(1); lock profiles']) {
      expect(tablesRead(sql), sql).toBeNull();
    }
    // Column names that merely contain the words are reads.
    expect(tablesRead('SELECT updated_at, deleted_flag FROM profiles')).toEqual(['profiles']);
  });

  it('is null for what depends on more than the rows: the clock, randomness, sequences, running transactions', () => {
    for (const sql of ['SELECT now()', 'SELECT * FROM profiles WHERE updated_at > current_date', 'SELECT random() FROM profiles', "SELECT nextval('s')",
      'SELECT * FROM notifications WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())', 'SELECT txid_current()', 'SELECT pg_advisory_lock(1)']) {
      expect(tablesRead(sql), sql).toBeNull();
    }
  });

  it('is null for forms whose tables it could miss: comma joins at any depth, quoted names, LATERAL', () => {
    for (const sql of ['SELECT * FROM profiles p, events e', 'SELECT * FROM profiles p JOIN licenses l ON l.profile_id = p.id, events e',
      'SELECT * FROM (SELECT 1 FROM profiles, events) x', 'SELECT * FROM "events"', 'SELECT * FROM profiles p JOIN LATERAL (SELECT 1) x ON true']) {
      expect(tablesRead(sql), sql).toBeNull();
    }
    // Commas elsewhere are fine: select lists, IN lists, function arguments.
    expect(tablesRead('SELECT a, b FROM profiles WHERE id IN (1, 2) AND x = coalesce($1, $2)')).toEqual(['profiles']);
  });

  it('never reports a table that the text does not name after FROM or JOIN (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('profiles', 'profile_companies', 'licenses'), { minLength: 1, maxLength: 3 }), (tables) => {
        const sql = `SELECT 1 FROM ${tables[0]} ${tables.slice(1).map((t, i) => `JOIN ${t} t${i} ON true`).join(' ')}`;
        expect(new Set(tablesRead(sql))).toEqual(new Set(tables));
      }),
    );
  });
});

describe('the read log', () => {
  it('tags a point read by the streams it names and any other read by its tables', () => {
    const log = readsOf([
      [{ name: 'by_id', text: 'SELECT * FROM profiles WHERE id = ANY($1::uuid[])' }, [['a', 'b']]],
      ['SELECT * FROM profile_companies WHERE company_id = $1', ['c']],
    ]);
    expect(log.uncacheable).toBeNull();
    expect([...log.tags].sort()).toEqual(['s:profile-a', 's:profile-b', 't:profile_companies']);
    expect(log.personal).toBe(false);
  });

  it('refuses a table no event writes, a write, and I/O it cannot tag', () => {
    expect(readsOf([['SELECT * FROM events WHERE stream_id = $1', ['x']]]).uncacheable).toMatch(/events/);
    expect(readsOf([['UPDATE profiles SET x = 1']]).uncacheable).toMatch(/not a plain read/);
    const log = new ReadLog(rules);
    withReadLog(log, () => uncacheableRead('another subgraph'));
    expect(log.uncacheable).toBe('another subgraph');
  });

  it('takes "valid until" when the request starts, before the subgraph decides what today is', () => {
    let now = 1_000;
    const log = new ReadLog({ ...rules, validUntil: () => now });
    now = 2_000;
    expect(log.validUntil).toBe(1_000);
  });

  it('a tracked caller: reading the user id keeps the answer per user, the session makes it uncacheable, the scope neither', () => {
    const identity = { userId: 'u', sessionId: 's', role: 'MANAGER', companyId: 'c' };
    const read = (keys: (keyof typeof identity)[]) => {
      const log = new ReadLog(rules);
      const caller = trackedCaller(identity, { personal: ['userId'], uncacheable: ['sessionId'] });
      withReadLog(log, () => keys.forEach((k) => caller[k]));
      return { personal: log.personal, uncacheable: log.uncacheable };
    };
    expect(read(['role', 'companyId'])).toEqual({ personal: false, uncacheable: null });
    expect(read(['userId'])).toEqual({ personal: true, uncacheable: null });
    expect(read(['sessionId']).uncacheable).toMatch(/sessionId/);
  });

  it('marks reads of personal tables', () => {
    expect(readsOf([['SELECT * FROM notifications WHERE $1 = ANY(audience)', ['user:1']]]).personal).toBe(true);
  });

  it('ignores statements outside a request (a feed reader, a scan)', () => {
    expect(() => recordStatement('UPDATE profiles SET x = 1', [])).not.toThrow();
  });

  it('keeps logs of concurrent requests apart', async () => {
    const a = new ReadLog(rules);
    const b = new ReadLog(rules);
    const tick = () => new Promise((r) => setImmediate(r));
    await Promise.all([
      withReadLog(a, async () => {
        await tick();
        recordStatement('SELECT * FROM profiles', []);
      }),
      withReadLog(b, async () => {
        await tick();
        recordStatement('SELECT * FROM profile_companies', []);
      }),
    ]);
    expect([...a.tags]).toEqual(['t:profiles']);
    expect([...b.tags]).toEqual(['t:profile_companies']);
  });
});

describe('writes and versions', () => {
  it('prefixes the tags of committed events with the subgraph, once each', () => {
    const events = [{ streamId: 'profile-a' }, { streamId: 'profile-a' }, { streamId: 'profile-b' }] as RecordedEvent[];
    expect(writtenTags('workforce', rules, events).sort()).toEqual(['workforce/s:profile-a', 'workforce/s:profile-b', 'workforce/t:profiles']);
  });

  it('an answer is current while its epoch holds and no tag was written after the count it was read at', () => {
    const entry = { epoch: 'e1', count: 10 };
    expect(stillCurrent(entry, { epoch: 'e1', versions: [0, 10, 3] })).toBe(true);
    expect(stillCurrent(entry, { epoch: 'e1', versions: [0, 11] })).toBe(false);
    // Redis restarted (versions lost): a new epoch, nothing from before is believed.
    expect(stillCurrent(entry, { epoch: null, versions: [0] })).toBe(false);
    expect(stillCurrent(entry, { epoch: 'e2', versions: [0] })).toBe(false);
  });
});
