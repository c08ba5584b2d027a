import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler } from '../platform/event-store/command-handler.ts';
import { PostgresEventStore } from '../platform/event-store/postgres.ts';
import { addDays, todayUtc } from '../platform/domain/input.ts';
import { createLogger } from '../platform/logger.ts';
import { createTestDatabase, type TestDatabase } from '../platform/testing/postgres.ts';
import { WorkforceCommands, type CommandContext } from '../subgraphs/workforce/commands.ts';
import { seedWorkforce } from '../subgraphs/workforce/seed.ts';
import { workforceMigrations, workforceReadTables } from '../subgraphs/workforce/store/migrations.ts';
import { readModel } from '../subgraphs/workforce/store/read-model.ts';
import { rebuildWorkforce } from '../subgraphs/workforce/store/rebuild.ts';

let t: TestDatabase;
let commands: WorkforceCommands;
const ctx: CommandContext = { actor: { id: 'rebuild-test', kind: 'dev' }, correlationId: 'rebuild-test' };

/** Every read table's rows, in position order, as JSON (timestamps to the microsecond). */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of workforceReadTables) {
    // Several read markers share their event's position: the row itself breaks the tie.
    const { rows } = await t.db.query(`SELECT to_jsonb(r) AS row FROM ${table} r ORDER BY position, to_jsonb(r)::text`);
    out[table] = rows;
  }
  return out;
}

beforeAll(async () => {
  t = await createTestDatabase('rebuild', [{ service: 'workforce', migrations: workforceMigrations }]);
  commands = new WorkforceCommands(new CommandHandler(new PostgresEventStore(t.db)), t.db);
  const seeded = await seedWorkforce(commands, createLogger('test', 'silent'), { companies: 2, projectsPerCompany: [2, 1], profiles: 24 });
  // Every kind of change, so every projection statement takes part in the comparison.
  const [companyId] = seeded.companyIds;
  const [p1, p2] = seeded.profileIds;
  await commands.updateProfile(ctx, { id: p1, changes: { email: 'changed@example.cl', phone: null } });
  // Personal data recorded per company: a company's own record (seeded under the hiring
  // company), another company's first record, a name-only change, and an ADMIN's change.
  const [a, b] = seeded.companyIds;
  await commands.updateProfile({ ...ctx, companyId: a }, { id: p1, changes: { phone: '+56 9 1111 1111' } });
  await commands.updateProfile({ ...ctx, companyId: b }, { id: p1, changes: { birthDate: '1980-01-01' } });
  await commands.updateProfile({ ...ctx, companyId: b }, { id: p1, changes: { lastName: 'Recorded' } });
  await commands.updateProfile(ctx, { id: p2, changes: { firstName: 'Admin' } });
  const license = await commands.grantLicense(ctx, { profileId: p1, type: 'Rigger', number: 'R-1', expiresOn: addDays(todayUtc(), 10) });
  await commands.renewLicense(ctx, { id: license, expiresOn: addDays(todayUtc(), 400) });
  await commands.revokeLicense(ctx, { id: license, reason: 'audit' });
  const { rows } = await t.db.query<{ id: string; project_id: string }>(
    `SELECT pa.assignment_id AS id, pa.project_id FROM profile_assignments pa WHERE pa.profile_id = $1`, [p1]);
  await commands.unassignProfile(ctx, { assignmentId: rows[0].id, profileId: p1 });
  await commands.endEmployment(ctx, { companyId, profileId: p1 });
  await commands.closeProject(ctx, { id: seeded.projectIds[2] });
  const subs = await t.db.query<{ id: string }>('SELECT id FROM subscriptions WHERE company_id = $1 ORDER BY position LIMIT 1', [companyId]);
  await commands.cancelSubscription(ctx, { id: subs.rows[0].id, reason: 'downgrade' });
  // Notifications: the seed's assignments raised PROFILE_ASSIGNED; one raised by another
  // domain, a licence expiry notice (in their own streams), and read markers.
  const raised = await commands.raiseNotification(
    ctx,
    { sourceEventId: 'safety-event-1', kind: 'ANOMALY_REPORTED', title: "Fall <b>'risk'", body: '', subjectType: 'Anomaly', subjectId: 'a-1' },
    [`managers:${companyId}`, 'admins'],
  );
  const expiring = await commands.grantLicense(ctx, { profileId: p2, type: 'Crane', number: 'C-1', expiresOn: addDays(todayUtc(), 5) });
  await commands.raiseLicenseExpiring(ctx, { id: expiring, profileId: p2, type: 'Crane', expiresOn: addDays(todayUtc(), 5), daysLeft: 5, threshold: 7, companyIds: [companyId] });
  const assigned = await t.db.query<{ id: string }>(`SELECT id FROM notifications WHERE kind = 'PROFILE_ASSIGNED' ORDER BY position LIMIT 2`);
  await commands.markNotificationsRead(ctx, 'reader-1', [raised, ...assigned.rows.map((r) => r.id)]);
  await commands.markNotificationsRead(ctx, 'reader-2', [raised]);
  // A hire that takes the last seat of a one-seat company: SEATS_RUNNING_OUT, derived from it.
  const small = await commands.registerCompany(ctx, { name: 'One seat', taxRut: '76.543.210-3' });
  const { rows: offerings } = await t.db.query<{ id: string }>('SELECT id FROM offerings ORDER BY position LIMIT 1');
  await commands.subscribe(ctx, { companyId: small, offeringId: offerings[0].id, seats: 1 });
  await commands.hireProfile(ctx, { companyId: small, profileId: p2 });

  // Commands on distinct aggregates at once commit in batches, each batch one statement
  // (append + projection of two event types): the rebuild below proves they wrote what
  // the per-event projection writes, and the rows they answer with are checked against reads.
  const batched = { ...ctx, onWritten: (rows: Map<string, unknown>) => rows.forEach((row, key) => written.set(key, row)) };
  const before = t.db.statements;
  await Promise.all([
    ...seeded.profileIds.slice(2, 22).map((id, i) =>
      i % 2
        ? commands.updateProfile({ ...batched, companyId: i % 4 === 1 ? null : seeded.companyIds[i % 2] }, { id, changes: { firstName: `Batch${i}`, phone: '+56 9 1234 5678' } })
        : commands.grantLicense(batched, { profileId: id, type: 'Welder', number: `W-${i}`, expiresOn: addDays(todayUtc(), 100) }),
    ),
    // Decisions that read (does the profile, the company exist?): their batch runs in a transaction.
    commands.hireProfile(batched, { companyId: seeded.companyIds[1], profileId: seeded.profileIds[22] }),
    commands.createProject(batched, { companyId: seeded.companyIds[0], name: 'Batched', faenaCode: 'BATCH-1', startsOn: todayUtc() }),
  ]);
  batchedStatements = t.db.statements - before;
});
const written = new Map<string, unknown>();
let batchedStatements = 0;
afterAll(async () => t?.drop());

describe('group commit', () => {
  it('22 concurrent commands cost fewer statements than one transaction each', () => {
    // Alone: BEGIN, append, projection, COMMIT = 88 (and the hires' reads).
    expect(batchedStatements).toBeLessThan(44);
  });

  it('a batched command answers with exactly the row a read returns', async () => {
    const profiles = [...written.keys()].filter((k) => k.startsWith('profiles:')).map((k) => k.slice('profiles:'.length));
    const licenses = [...written.keys()].filter((k) => k.startsWith('licenses:')).map((k) => k.slice('licenses:'.length));
    expect(profiles.length).toBe(10);
    expect(licenses.length).toBe(10);
    for (const row of await readModel.profiles(t.db.pool, profiles)) expect(written.get(`profiles:${row.id}`)).toEqual(row);
    for (const row of await readModel.licenses(t.db.pool, licenses)) expect(written.get(`licenses:${row.id}`)).toEqual(row);
  });
});

describe('rebuild', () => {
  it('truncates the read tables and replays the events into identical rows', async () => {
    const before = await snapshot();
    expect(before.profiles.length).toBe(24);
    // One record per profile from the seed (under the hiring company), plus company b's of p1.
    expect(before.profile_personal_data.length).toBe(25);
    // Every kind, derived (assigned, seats) and raised (licence, another domain's).
    expect(new Set(before.notifications.map((n) => (n as { row: { kind: string } }).row.kind))).toEqual(
      new Set(['PROFILE_ASSIGNED', 'SEATS_RUNNING_OUT', 'LICENSE_EXPIRING', 'ANOMALY_REPORTED']),
    );
    expect(before.notification_reads.length).toBe(4);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    // Scribble on a read table so the test fails if rebuild does not really rewrite it.
    await t.db.query(`UPDATE profiles SET first_name = 'garbage'`);
    const replayed = await rebuildWorkforce(t.db);
    expect(replayed).toBe(rows[0].n);
    expect(await snapshot()).toEqual(before);
  });

  it('a command after the rebuild continues from the replayed state', async () => {
    const { rows } = await t.db.query<{ id: string; version: number }>('SELECT id, version FROM profiles ORDER BY position LIMIT 1');
    await commands.updateProfile(ctx, { id: rows[0].id, changes: { firstName: 'Rebuilt' } }, rows[0].version);
    const after = await t.db.query<{ version: number }>('SELECT version FROM profiles WHERE id = $1', [rows[0].id]);
    expect(after.rows[0].version).toBe(rows[0].version + 1);
  });
});
