import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { employments, licenses, profiles } from '../../schema/lake/workforce.ts';
import { openDuckDb } from '../lake/duckdb.ts';
import { columnGroups, dremioViewsSql } from './current-state.ts';

let duck: Awaited<ReturnType<typeof openDuckDb>>;
const run = (sql: string) => duck.connection.run(sql);
const rows = async (sql: string) => (await duck.connection.runAndReadAll(sql)).getRowObjectsJson();

beforeAll(async () => {
  duck = await openDuckDb({ pseudonymKey: 'k'.repeat(16) });
  await run(`ATTACH ':memory:' AS lake; CREATE SCHEMA lake.tables; CREATE SCHEMA angelis`);
  // Change rows as the writer produces them: columns an event does not set are NULL.
  await run(`CREATE TABLE lake.tables.licenses AS SELECT * FROM (VALUES
    ('l1', 'p1', 'B', 'N1', DATE '2024-01-01', DATE '2025-01-01', NULL::DATE, NULL, 1, 'LicenseGranted', false),
    ('l1', 'p1', NULL, NULL, NULL, DATE '2027-01-01', NULL, NULL, 5, 'LicenseRenewed', false),
    ('l2', 'p2', 'A', 'N2', DATE '2024-01-01', DATE '2025-01-01', NULL, NULL, 2, 'LicenseGranted', false),
    ('l2', 'p2', NULL, NULL, NULL, NULL, DATE '2024-06-01', 'fraud', 7, 'LicenseRevoked', false)
  ) AS t(license_id, profile_id, type, number, issued_on, expires_on, revoked_on, revoke_reason, _position, _event_type, _deleted)`);
  await run(`CREATE TABLE lake.tables.employments AS SELECT * FROM (VALUES
    ('c1', 'p1', 'Op', DATE '2024-01-01', NULL, 1, 'ProfileHired', false),
    ('c1', 'p1', NULL, NULL, 'boss', 2, 'SupervisorSet', false),
    ('c1', 'p1', NULL, NULL, NULL, 3, 'EmploymentEnded', true),
    ('c1', 'p1', 'Jefe', DATE '2025-01-01', NULL, 4, 'ProfileHired', false),
    ('c1', 'p2', 'Op', DATE '2024-01-01', NULL, 5, 'ProfileHired', false),
    ('c1', 'p2', NULL, NULL, NULL, 6, 'EmploymentEnded', true)
  ) AS t(company_id, profile_id, position, started_on, supervisor_id, _position, _event_type, _deleted)`);
  await run(`CREATE TABLE lake.tables.profiles AS SELECT * FROM (VALUES
    ('p1', 'h-rut', 'Ana', 'Old', 'h-mail', NULL, NULL::DATE, 'sys', 1, 'ProfileCreated', false),
    ('p1', NULL, 'Ana', 'New', NULL, NULL, NULL, NULL, 3, 'ProfileUpdated', false)
  ) AS t(profile_id, rut, first_name, last_name, email, phone, birth_date, created_by, _position, _event_type, _deleted)`);
  for (const t of ['licenses', 'employments', 'profiles']) {
    await run(`ALTER TABLE lake.tables.${t} ADD COLUMN _occurred_at TIMESTAMP DEFAULT TIMESTAMP '2025-01-01 00:00:00'`);
  }
  // The Dremio file's SQL, unchanged.
  await run(dremioViewsSql([licenses, employments, profiles]));
});
afterAll(() => duck?.close());

describe('generated current-state views (run in DuckDB as in Dremio)', () => {
  it('groups columns by the events that write them', () => {
    expect(columnGroups(licenses).map((g) => g.columns)).toEqual([
      ['profile_id'], ['type', 'number', 'issued_on'], ['expires_on'], ['revoked_on', 'revoke_reason'],
    ]);
  });

  it('keeps columns a partial event does not carry, and takes the latest of those it does', async () => {
    expect(await rows('SELECT license_id, type, number, expires_on, revoked_on, revoke_reason FROM angelis.licenses ORDER BY 1')).toEqual([
      { license_id: 'l1', type: 'B', number: 'N1', expires_on: '2027-01-01', revoked_on: null, revoke_reason: null },
      { license_id: 'l2', type: 'A', number: 'N2', expires_on: '2025-01-01', revoked_on: '2024-06-01', revoke_reason: 'fraud' },
    ]);
    expect(await rows('SELECT profile_id, rut, last_name, email, created_by FROM angelis.profiles')).toEqual([
      { profile_id: 'p1', rut: 'h-rut', last_name: 'New', email: null, created_by: 'sys' },
    ]);
  });

  it('drops deleted keys, and forgets what was set before a delete when the key comes back', async () => {
    expect(await rows('SELECT company_id, profile_id, position, supervisor_id, _position FROM angelis.employments')).toEqual([
      { company_id: 'c1', profile_id: 'p1', position: 'Jefe', supervisor_id: null, _position: 4 },
    ]);
  });
});
