import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler } from '../platform/event-store/command-handler.ts';
import { eventStoreMigration, PostgresEventStore } from '../platform/event-store/postgres.ts';
import { addDays, todayUtc } from '../platform/domain/input.ts';
import { checkDigit } from '../platform/domain/rut.ts';
import { createTestDatabase, type TestDatabase } from '../platform/testing/postgres.ts';
import { workforceLakeSource } from '../schema/lake/workforce.ts';
import { profiles } from '../schema/lake/workforce.ts';
import { WorkforceCommands, type CommandContext } from '../subgraphs/workforce/commands.ts';
import { workforceMigrations } from '../subgraphs/workforce/store/migrations.ts';
import { rebuildWorkforce } from '../subgraphs/workforce/store/rebuild.ts';
import { readCommitLog } from './lake/commit-log.ts';
import { compactSource } from './lake/compaction.ts';
import { openDuckDb } from './lake/duckdb.ts';
import { pseudonym } from './sql/pseudonym.ts';
import { localLakeStorage } from './storage/local.ts';
import { queryLake, TEST_PSEUDONYM_KEY, testConsumer } from './testing/consumer-harness.ts';
import { appendWorkforce, id } from './testing/workforce-events.ts';

let t: TestDatabase;
let dir: string;
const company = id();
const profile = id();
const license = id();
const notification = id();

beforeAll(async () => {
  t = await createTestDatabase('projector', [{ service: 'es', migrations: [eventStoreMigration] }]);
  dir = await mkdtemp(join(tmpdir(), 'projector-int-'));
  await appendWorkforce(t.db, `profile-${profile}`, [
    { type: 'ProfileCreated', data: { profileId: profile, rut: '12.345.678-5', firstName: 'Ana', lastName: 'Soto', email: 'Ana@Example.cl', phone: '+56 9 1111 2222', birthDate: '1990-05-01', createdBy: 'test' } },
    { type: 'LicenseGranted', data: { licenseId: license, profileId: profile, type: 'B', number: 'N-1', issuedOn: '2024-01-01', expiresOn: '2025-01-01' } },
  ]);
  await appendWorkforce(t.db, `company-${company}`, [
    { type: 'CompanyRegistered', data: { companyId: company, name: 'Minera', taxRut: '76.000.000-K', status: 'ACTIVE' } },
    { type: 'ProfileHired', data: { companyId: company, profileId: profile, position: 'Operadora', startedOn: '2024-02-01' } },
  ]);
  await appendWorkforce(t.db, `profile-${profile}`, [
    { type: 'ProfileUpdated', data: { profileId: profile, firstName: 'Ana', lastName: 'Soto Díaz', email: null, phone: '+56 9 1111 2222', birthDate: '1990-05-01' } },
    { type: 'LicenseRenewed', data: { licenseId: license, profileId: profile, expiresOn: '2027-01-01' } },
  ]);
  // Notifications: one raised on its own (in the lake without its free text), and a read marker (not in the lake).
  await appendWorkforce(t.db, `notification-${notification}`, [
    {
      type: 'NotificationRaised',
      data: {
        notificationId: notification, kind: 'LICENSE_EXPIRING', title: 'B expires in 7 days', body: 'Ana Soto, renew it', subjectType: 'License',
        subjectId: license, audience: [`profile:${profile}`, `managers:${company}`], sourceEventId: `license:${license}:2027-01-01:7`,
      },
    },
  ]);
  await appendWorkforce(t.db, `notification-reads-${profile}`, [{ type: 'NotificationsRead', data: { readerId: profile, notificationIds: [notification] } }]);
});
afterAll(async () => {
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('projector into a local lake', () => {
  const lake = () => localLakeStorage(join(dir, 'lake'));

  it('writes raw events and typed change rows; the views give the current state with pseudonyms', async () => {
    await testConsumer(t.settings, lake(), dir, { untilCaughtUp: true }).start();
    const q = (sql: string) => queryLake(lake(), sql, join(dir, 'q'));
    expect(await q('SELECT count(*)::INT AS n, count(DISTINCT global_position)::INT AS d FROM lake.raw.workforce')).toEqual([{ n: 8, d: 8 }]);
    expect(await q('SELECT profile_id, rut, first_name, last_name, email, phone, birth_date FROM angelis.profiles')).toEqual([{
      profile_id: profile, rut: pseudonym(TEST_PSEUDONYM_KEY, 'rut', '12345678-5'), first_name: 'Ana', last_name: 'Soto Díaz',
      email: null, phone: pseudonym(TEST_PSEUDONYM_KEY, 'phone', '56911112222'), birth_date: '1990-05-01',
    }]);
    expect(await q('SELECT tax_rut FROM angelis.companies')).toEqual([{ tax_rut: pseudonym(TEST_PSEUDONYM_KEY, 'rut', '76000000K') }]);
    expect(await q('SELECT expires_on, type FROM angelis.licenses')).toEqual([{ expires_on: '2027-01-01', type: 'B' }]);
    // The notification's free text stays out of its table (the raw event keeps it, like every event's data).
    expect(await q('SELECT notification_id, kind, subject_type, subject_id, source_event_id FROM angelis.notifications')).toEqual([{
      notification_id: notification, kind: 'LICENSE_EXPIRING', subject_type: 'License', subject_id: license, source_event_id: `license:${license}:2027-01-01:7`,
    }]);
    // Raw events keep their shape, with personal fields hashed and nulls left null.
    const raw = await q(`SELECT data FROM lake.raw.workforce WHERE event_type IN ('ProfileCreated', 'ProfileUpdated') ORDER BY global_position`);
    const created = JSON.parse(String(raw[0].data));
    expect(created).toMatchObject({ profileId: profile, firstName: 'Ana', rut: pseudonym(TEST_PSEUDONYM_KEY, 'rut', '123456785') });
    expect(JSON.stringify(raw)).not.toContain('12.345.678-5');
    expect(JSON.parse(String(raw[1].data)).email).toBeNull();
    // Parquet types: BIGINT positions, timezone-free TIMESTAMP, DATE, zstd, date from the Hive folder.
    const types = Object.fromEntries(
      (await q('DESCRIBE lake.tables.profiles')).map((r) => [r.column_name, r.column_type]),
    );
    expect(types).toMatchObject({ _position: 'BIGINT', _occurred_at: 'TIMESTAMP', birth_date: 'DATE', _deleted: 'BOOLEAN', date: 'DATE' });
    const state = await readCommitLog(lake(), 'workforce');
    const anyFile = join(dir, 'lake', [...state.live.keys()][0]);
    const duck = await openDuckDb({ pseudonymKey: TEST_PSEUDONYM_KEY });
    const codecs = (await duck.connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${anyFile}')`)).getRowObjectsJson();
    duck.close();
    expect(codecs).toEqual([{ compression: 'ZSTD' }]);
  });

  it('removes files no commit names on start and resumes after the last commit', async () => {
    const storage = lake();
    const before = await readCommitLog(storage, 'workforce');
    const strays = ['raw/workforce/ProfileCreated/date=2030-01-01/000000000900-000000000901.parquet', 'tables/profiles/date=2030-01-01/workforce-000000000900-000000000901.parquet'];
    for (const s of strays) await storage.put(s, 'not parquet: a batch that never committed');
    await storage.put('tables/profiles/date=2030-01-01/other-000000000001-000000000002.parquet', 'another source: left alone');
    await appendWorkforce(t.db, `profile-${profile}`, [{ type: 'LicenseRevoked', data: { licenseId: license, profileId: profile, revokedOn: '2026-01-01', reason: null } }]);
    await testConsumer(t.settings, storage, dir, { untilCaughtUp: true }).start();
    for (const s of strays) expect(await storage.get(s)).toBeUndefined();
    expect(await storage.get('tables/profiles/date=2030-01-01/other-000000000001-000000000002.parquet')).toBeDefined();
    await storage.delete('tables/profiles/date=2030-01-01/other-000000000001-000000000002.parquet');
    const after = await readCommitLog(storage, 'workforce');
    expect(after.n).toBe(before.n + 1);
    expect(after.events).toBe(9);
    expect(await queryLake(storage, 'SELECT revoked_on FROM angelis.licenses', join(dir, 'q'))).toEqual([{ revoked_on: '2026-01-01' }]);
  });

  it('runs one consumer per source: a second instance waits for the lease', async () => {
    const storage = lake();
    const first = testConsumer(t.settings, storage, join(dir, 'a'));
    void first.start();
    await new Promise((r) => setTimeout(r, 500));
    const secondCommits: number[] = [];
    const second = testConsumer(t.settings, storage, join(dir, 'b'), { onCommit: (r) => secondCommits.push(r.n) });
    void second.start();
    await appendWorkforce(t.db, `company-${company}`, [{ type: 'SupervisorSet', data: { companyId: company, profileId: profile, supervisorId: null } }]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(secondCommits).toEqual([]); // the first instance projected it
    expect((await readCommitLog(storage, 'workforce')).events).toBe(10);
    await first.stop(); // releases the lease at once
    await appendWorkforce(t.db, `company-${company}`, [{ type: 'EmploymentEnded', data: { companyId: company, profileId: profile, endedOn: '2026-02-01' } }]);
    for (let i = 0; i < 50 && secondCommits.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await second.stop();
    expect(secondCommits).toHaveLength(1);
    expect(await queryLake(storage, 'SELECT count(*)::INT AS n FROM angelis.employments', join(dir, 'q'))).toEqual([{ n: 0 }]);
  });

  it('compacts a partition of small files into one, committed like a batch', async () => {
    const storage = localLakeStorage(join(dir, 'small-lake'));
    await testConsumer(t.settings, storage, join(dir, 's'), { untilCaughtUp: true, batchSize: 1 }).start();
    const before = await readCommitLog(storage, 'workforce');
    const [commitsBefore, filesBefore] = [before.n, before.live.size]; // compaction updates the state it is given
    const query = 'SELECT (SELECT count(*) FROM lake.raw.workforce)::INT AS raw, (SELECT count(*) FROM lake.tables.profiles)::INT AS changes';
    const counts = await queryLake(storage, query, join(dir, 'q'));
    const duck = await openDuckDb({ pseudonymKey: TEST_PSEUDONYM_KEY });
    const result = await compactSource({
      storage, duck: duck.connection, source: 'workforce', state: before, minFiles: 2, workDir: join(dir, 'compact'), assertHeld: () => {},
    });
    duck.close();
    expect(result.merged).toBeGreaterThan(0);
    const after = await readCommitLog(storage, 'workforce');
    expect(after.n).toBe(commitsBefore + 1);
    expect(after.live.size).toBe(filesBefore - result.removed + result.merged);
    expect(await queryLake(storage, query, join(dir, 'q'))).toEqual(counts);
    const onDisk = (await storage.list('tables/profiles/')).map((o) => o.path).sort();
    expect(onDisk).toEqual([...after.live.keys()].filter((p) => p.startsWith('tables/profiles/')).sort());
  });

  it('keeps personal data in clear in a table declared restricted', async () => {
    const storage = localLakeStorage(join(dir, 'restricted-lake'));
    const restricted = { ...profiles, name: 'profile_contacts', restricted: true };
    const source = { ...workforceLakeSource, tables: [restricted] };
    await testConsumer(t.settings, storage, join(dir, 'r'), { untilCaughtUp: true, source }).start();
    const rows = await queryLake(storage, 'SELECT rut, phone FROM angelis.profile_contacts', join(dir, 'q'), [source]);
    expect(rows).toEqual([{ rut: '12.345.678-5', phone: '+56 9 1111 2222' }]);
  });
});

describe('notifications of every kind in the lake, as Workforce derives them', () => {
  let w: TestDatabase;
  let wdir: string;
  const ctx: CommandContext = { actor: { id: 'projector-test', kind: 'dev' }, correlationId: 'projector-test' };
  const person = (n: number) => ({ rut: `${10_000_000 + n}-${checkDigit(`${10_000_000 + n}`)}`, firstName: `Person${n}`, lastName: 'Test' });
  // Workforce's read table, as the lake has it (no title, body or audience there).
  const readTable = async () =>
    (await w.db.query(`SELECT id::text AS notification_id, kind, subject_type, subject_id, source_event_id FROM notifications ORDER BY id`)).rows;
  const lakeTable = (lake = 'lake') =>
    queryLake(localLakeStorage(join(wdir, lake)), 'SELECT notification_id, kind, subject_type, subject_id, source_event_id FROM angelis.notifications ORDER BY notification_id', join(wdir, 'q'));

  beforeAll(async () => {
    w = await createTestDatabase('projector_notices', [{ service: 'workforce', migrations: workforceMigrations }]);
    wdir = await mkdtemp(join(tmpdir(), 'projector-notices-'));
    const commands = new WorkforceCommands(new CommandHandler(new PostgresEventStore(w.db)), w.db);
    const offering = await commands.createOffering(ctx, { code: 'CORE', name: 'Core' });
    const companyId = await commands.registerCompany(ctx, { name: 'Minera', taxRut: '76.543.210-3' });
    await commands.subscribe(ctx, { companyId, offeringId: offering, seats: 2 });
    const [p1, p2, p3] = await Promise.all([1, 2, 3].map((n) => commands.createProfile({ ...ctx, companyId }, person(n))));
    // Two seats: the first hire is at 50% (no notice), the second reaches 90% (SEATS_RUNNING_OUT about the subscription).
    await commands.hireProfile(ctx, { companyId, profileId: p1 });
    await commands.hireProfile(ctx, { companyId, profileId: p2 });
    const projectId = await commands.createProject(ctx, { companyId, name: 'Faena', faenaCode: 'F-1', startsOn: todayUtc() });
    const assignmentId = await commands.createAssignment(ctx, { projectId, name: 'Turno A', startsOn: todayUtc() });
    await commands.assignProfile(ctx, { assignmentId, profileId: p1 });
    await commands.raiseNotification(
      ctx,
      { sourceEventId: 'safety-event-1', kind: 'ANOMALY_REPORTED', title: 'Fall risk', body: 'Ana saw it', subjectType: 'Anomaly', subjectId: 'a-1' },
      [`managers:${companyId}`, 'admins'],
    );
    const expiresOn = addDays(todayUtc(), 5);
    const license = await commands.grantLicense(ctx, { profileId: p1, type: 'Crane', number: 'C-1', expiresOn });
    await commands.raiseLicenseExpiring(ctx, { id: license, profileId: p1, type: 'Crane', expiresOn, daysLeft: 5, threshold: 7, companyIds: [companyId] });
    // A hire recorded before hires carried their seats (ProfileHired v1): no notice, in the read table (once rebuilt) and in the lake.
    const other = await commands.registerCompany(ctx, { name: 'Antigua', taxRut: '76.000.000-0' });
    await commands.subscribe(ctx, { companyId: other, offeringId: offering, seats: 1 });
    await appendWorkforce(w.db, `company-${other}`, [{ type: 'ProfileHired', data: { companyId: other, profileId: p3, position: null, startedOn: todayUtc() } }]);
  });
  afterAll(async () => {
    await w?.drop();
    if (wdir) await rm(wdir, { recursive: true, force: true });
  });

  it('has each kind with the ids of the read table, before and after a rebuild', async () => {
    const delivered = await readTable();
    expect(delivered.map((r) => r.kind).sort()).toEqual(['ANOMALY_REPORTED', 'LICENSE_EXPIRING', 'PROFILE_ASSIGNED', 'SEATS_RUNNING_OUT']);
    await testConsumer(w.settings, localLakeStorage(join(wdir, 'lake')), wdir, { untilCaughtUp: true }).start();
    expect(await lakeTable()).toEqual(delivered);
    // The derived ones are their cause's event: the change row's _event_id is the notification's id.
    const caused = await queryLake(
      localLakeStorage(join(wdir, 'lake')),
      `SELECT _event_type, count(*)::INT AS n FROM lake.tables.notifications WHERE notification_id = _event_id GROUP BY 1 ORDER BY 1`,
      join(wdir, 'q'),
    );
    expect(caused).toEqual([{ _event_type: 'ProfileAssigned', n: 1 }, { _event_type: 'ProfileHired', n: 1 }]);
    // One event per batch: a hire that raised no notice gives a batch with no notification row.
    await testConsumer(w.settings, localLakeStorage(join(wdir, 'lake-1')), join(wdir, 'one'), { untilCaughtUp: true, batchSize: 1 }).start();
    expect(await lakeTable('lake-1')).toEqual(delivered);
    // Replayed event by event (the per-event path, not the fused statement the commands took), the read table is the same.
    await rebuildWorkforce(w.db);
    expect(await readTable()).toEqual(delivered);
  });
});

