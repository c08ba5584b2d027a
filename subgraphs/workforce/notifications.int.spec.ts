import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.ts';
import { addDays, todayUtc } from '../../platform/domain/input.ts';
import { createLogger } from '../../platform/logger.ts';
import { Db } from '../../platform/postgres/pool.ts';
import { notificationsChannel, RedisPubSub } from '../../platform/redis/pubsub.ts';
import { bootDomain } from '../../platform/service/boot.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/postgres.ts';
import type { CommandContext } from './commands.ts';
import { decodeNotificationCursor, encodeNotificationCursor, FEED_HEAD, notificationStore, type FeedPosition } from './store/notifications.ts';
import { workforce, workforceConfig } from './subgraph.ts';
import { checkDigit } from '../../platform/domain/rut.ts';

const rut = (body: number) => `${body}-${checkDigit(String(body))}`;

/**
 * Two Workforce instances on one database and one Redis, as in production: the licence
 * check raises each notice once however many instances run it at the same moment, and
 * every commit that created notifications publishes one wake-up with its highest cursor.
 */
const REDIS_URL = process.env.ANGELIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = createLogger('test', 'silent');
const ctx: CommandContext = { actor: { id: 'notifications-test', kind: 'dev' }, correlationId: 'notifications-test' };
const prefix = `angelis:test:${randomBytes(6).toString('hex')}:`;

let t: TestDatabase;
let secondDb: Db;
let clock = new Date();
const instances: Awaited<ReturnType<typeof bootDomain<any, any, any, any>>>[] = [];
let listener: RedisPubSub;
const wakeUps: string[] = [];
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestDatabase('notify_scan', [], 5);
  secondDb = new Db(t.settings);
  const config = loadConfig({ NODE_ENV: 'test', ANGELIS_NOTIFICATIONS_SCAN_MS: '0' }, [workforceConfig]);
  listener = await RedisPubSub.connect(REDIS_URL);
  await listener.subscribe(notificationsChannel(prefix), (m) => wakeUps.push(m));
  for (const db of [t.db, secondDb]) {
    instances.push(await bootDomain(workforce, config, log, { db, pubsub: await RedisPubSub.connect(REDIS_URL), keyPrefix: prefix, now: () => clock }));
  }
  const commands = instances[0].parts.commands;
  const offering = await commands.createOffering(ctx, { code: 'SCAN', name: 'Scan' });
  ids.A = await commands.registerCompany(ctx, { name: 'Scan A', taxRut: rut(76_400_011) });
  ids.B = await commands.registerCompany(ctx, { name: 'Scan B', taxRut: rut(76_400_012) });
  for (const c of [ids.A, ids.B]) await commands.subscribe(ctx, { companyId: c, offeringId: offering, seats: 50 });
  ids.p = await commands.createProfile(ctx, { rut: rut(18_400_101), firstName: 'Lena', lastName: 'Licensed' });
  await commands.hireProfile(ctx, { companyId: ids.A, profileId: ids.p });
  await commands.hireProfile(ctx, { companyId: ids.B, profileId: ids.p });
  const today = todayUtc(clock);
  const grant = (type: string, days: number) => commands.grantLicense(ctx, { profileId: ids.p, type, number: type, expiresOn: addDays(today, days) });
  ids.in20 = await grant('In20', 20);
  ids.in5 = await grant('In5', 5);
  ids.in40 = await grant('In40', 40);
  ids.revoked = await grant('Revoked', 3);
  await commands.revokeLicense(ctx, { id: ids.revoked });
}, 60_000);

afterAll(async () => {
  for (const i of instances) {
    await i.close();
    await i.options.pubsub.close();
  }
  await listener?.close();
  await secondDb?.end();
  await t?.drop();
});

async function notices() {
  const { rows } = await t.db.query<{ subject_id: string; source_event_id: string; audience: string[] }>(
    `SELECT subject_id, source_event_id, audience FROM notifications WHERE kind = 'LICENSE_EXPIRING' ORDER BY transaction_id, position`,
  );
  return rows;
}

/** Both instances' licence checks at the same moment; the total each raised. */
async function scanBoth(): Promise<number> {
  const raised = await Promise.all(instances.map((i) => i.parts.notifications.scanLicenses()));
  return raised.reduce((a: number, b: number) => a + b, 0);
}

async function highestCursor(): Promise<string> {
  const { rows } = await t.db.query<{ tx: string; position: number }>(`SELECT transaction_id::text AS tx, position FROM notifications ORDER BY transaction_id DESC, position DESC LIMIT 1`);
  return encodeNotificationCursor({ transactionId: rows[0].tx, position: rows[0].position });
}

async function until(check: () => boolean, ms = 5_000, refresh?: () => Promise<void>) {
  const end = Date.now() + ms;
  for (;;) {
    await refresh?.();
    if (check()) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('licence expiry check with two instances', () => {
  it('raises each due notice exactly once: the 30-day one, and the 7-day one for a licence with 7 or fewer days left', async () => {
    expect(await scanBoth()).toBe(2);
    const first = await notices();
    expect(first.map((n) => [n.subject_id, n.source_event_id.split(':').pop()]).sort()).toEqual([[ids.in20, '30'], [ids.in5, '7']].sort());
    // The holder and the managers of both companies they work for.
    for (const n of first) expect([...n.audience].sort()).toEqual([`managers:${ids.A}`, `managers:${ids.B}`, `profile:${ids.p}`].sort());
    // Again, at once: nothing more.
    expect(await scanBoth()).toBe(0);
    expect(await notices()).toEqual(first);
  });

  it('two weeks later: the 7-day notice of the one then due, the 30-day notice of the one that entered the window', async () => {
    clock = new Date(clock.getTime() + 14 * 86_400_000);
    expect(await scanBoth()).toBe(2);
    const all = await notices();
    expect(all.map((n) => `${n.subject_id}:${n.source_event_id.split(':').pop()}`).sort()).toEqual(
      [`${ids.in20}:30`, `${ids.in5}:7`, `${ids.in20}:7`, `${ids.in40}:30`].sort(),
    );
    expect(await scanBoth()).toBe(0);
  });

  it('a renewed licence gets notices for its new expiry', async () => {
    await instances[1].parts.commands.renewLicense(ctx, { id: ids.in5, expiresOn: addDays(todayUtc(clock), 25) });
    expect(await scanBoth()).toBe(1);
  });
});

describe('the feed in commit order', () => {
  it('holds back notifications committed after a transaction that is still running, then gives them after it ends: never one behind a cursor already read', async () => {
    const feed = (after: FeedPosition | null) => notificationStore.feed(t.db.pool, null, 'system:notifications', after, 1000);
    // First catch up with everything committed so far (other tests' transactions on the server hold the horizon back too).
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications');
    let all: { cursor: string }[] = [];
    await until(() => all.length === rows[0].n, 10_000, async () => void (all = await feed(null)));
    const end = decodeNotificationCursor(all[all.length - 1].cursor);
    // The head is where the feed ends.
    expect(await notificationStore.head(t.db.pool)).toEqual(end);
    // A transaction that took its id and is still running (a slow writer).
    const slow = await secondDb.pool.connect();
    try {
      await slow.query('BEGIN');
      await slow.query('SELECT pg_current_xact_id()');
      const raised = await instances[0].parts.commands.raiseNotification(
        ctx, { sourceEventId: 'horizon-1', kind: 'ANOMALY_REPORTED', title: 'Later', body: '', subjectType: 'Anomaly', subjectId: 'x' }, ['admins'],
      );
      // Committed, but behind a running transaction: the feed does not give it yet.
      expect((await t.db.query('SELECT 1 FROM notifications WHERE id = $1', [raised])).rowCount).toBe(1);
      expect(await feed(end)).toEqual([]);
      // Nor does the head move past what the feed gives.
      expect(await notificationStore.head(t.db.pool)).toEqual(end);
      await slow.query('COMMIT');
      let after: { id: string; cursor: string }[] = [];
      await until(() => after.length > 0, 10_000, async () => void (after = await feed(end)));
      expect(after.map((n) => n.id)).toEqual([raised]);
      expect(await notificationStore.head(t.db.pool)).toEqual(decodeNotificationCursor(after[0].cursor));
    } finally {
      slow.release();
    }
  });
});

describe('wake-ups after commit', () => {
  it('a commit that created notifications publishes its highest cursor; one that did not publishes nothing', async () => {
    // Every earlier commit's wake-up has arrived once the last one names the highest cursor.
    const latest = JSON.stringify({ cursor: await highestCursor() });
    await until(() => wakeUps[wakeUps.length - 1] === latest);
    const before = wakeUps.length;
    // No notification: no wake-up.
    await instances[0].parts.commands.updateProfile(ctx, { id: ids.p, changes: { firstName: 'Lenna' } });
    // A profile assigned (derived by the projection): its notification's cursor.
    const project = await instances[1].parts.commands.createProject(ctx, { companyId: ids.A, name: 'Wake', faenaCode: 'WAKE-1', startsOn: '2026-01-01' });
    const assignment = await instances[1].parts.commands.createAssignment(ctx, { projectId: project, name: 'Rigger', startsOn: '2026-01-01' });
    await instances[1].parts.commands.assignProfile(ctx, { assignmentId: assignment, profileId: ids.p });
    await until(() => wakeUps.length > before);
    await new Promise((r) => setTimeout(r, 100));
    expect(wakeUps.slice(before)).toEqual([JSON.stringify({ cursor: await highestCursor() })]);
    const { rows } = await t.db.query(`SELECT kind FROM notifications ORDER BY transaction_id DESC, position DESC LIMIT 1`);
    expect(rows[0].kind).toBe('PROFILE_ASSIGNED');
  });
});

describe('the head of the feed', () => {
  it('is read from the commit-order index, not by scanning the table', async () => {
    // A table of 20,000 notifications (in a schema of its own, rolled back) with statistics,
    // as in production: on a table of a few rows a scan is the planner's right choice.
    const client = await t.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE SCHEMA plan_check');
      await client.query('CREATE TABLE plan_check.notifications (LIKE public.notifications INCLUDING ALL)');
      // Ids of transactions that have committed: below the oldest one still running, however
      // young the server (a freshly initialised cluster is at a few hundred; ids at or above
      // that horizon count as still running, and the head leaves them out).
      const { rows: [{ horizon }] } = await client.query<{ horizon: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon');
      const span = Math.max(1, Math.min(6_667, Number(horizon) - 4));
      await client.query(`INSERT INTO plan_check.notifications (id, kind, title, body, subject_type, subject_id, audience, transaction_id, position, created_at)
        SELECT gen_random_uuid(), 'ANOMALY_REPORTED', 't', 'b', 'Anomaly', 'x', '{admins}', (3 + (i - 1) * $1::bigint / 20000)::text::xid8, i, now() FROM generate_series(1, 20000) i`, [span]);
      await client.query('ANALYZE plan_check.notifications');
      await client.query('SET LOCAL search_path = plan_check');
      const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${FEED_HEAD.text}`);
      const plan = rows[0]['QUERY PLAN'][0].Plan;
      const nodes: Record<string, unknown>[] = [];
      const walk = (n: Record<string, unknown>) => void (nodes.push(n), ((n.Plans as Record<string, unknown>[]) ?? []).forEach(walk));
      walk(plan);
      expect(nodes.map((n) => n['Node Type'])).toEqual(['Limit', 'Index Only Scan']);
      expect(nodes[1]).toMatchObject({ 'Index Name': 'notifications_transaction_id_position_idx', 'Scan Direction': 'Backward', 'Actual Rows': 1 });
      // A few index pages, not the table's.
      expect(Number(plan['Shared Hit Blocks']) + Number(plan['Shared Read Blocks'])).toBeLessThan(10);
      // And it is the last row.
      const head = await client.query(FEED_HEAD.text);
      expect(head.rows).toEqual([{ transactionId: String(3 + Math.floor((19_999 * span) / 20_000)), position: 20000 }]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
