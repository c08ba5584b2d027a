import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../../platform/postgres/pool.ts';
import { createTestDatabase, type TestDatabase } from '../../../platform/testing/postgres.ts';
import { workforceMigrations } from './migrations.ts';
import { readModel } from './read-model.ts';
import { EVERYTHING, type Scope } from './visible-rows.ts';

/**
 * An index for every lookup the resolvers and commands make: each statement of the read
 * model (store/read-model.ts), for each role's scope, is EXPLAINed with real parameters
 * against read tables holding tens of thousands of rows, and the test fails on a
 * sequential scan of any table larger than LARGE rows. The statements are captured by
 * calling the read model itself with a recording connection, so a new lookup is covered
 * as soon as it is added to `cases` (the type requires a case for every function).
 */
const LARGE = 1_000;
const N = { companies: 2_000, projects: 10_000, assignments: 20_000, profiles: 20_000, licenses: 40_000, subscriptions: 4_000, offerings: 20 };

/** A deterministic uuid per table (`kind`) and row number, so the seed can relate rows without lookups. */
const u = (kind: number, n: number) => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const K = { company: 1, project: 2, assignment: 3, profile: 4, license: 5, subscription: 6, offering: 7 };

const SEED = `
CREATE FUNCTION pg_temp.u(kind int, n int) RETURNS uuid IMMUTABLE LANGUAGE sql AS
  $$ SELECT (lpad(to_hex(kind), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;
INSERT INTO companies SELECT pg_temp.u(${K.company}, n), 'Company ' || n, 'rut-' || n, 'ACTIVE', 1, n, now(), now()
  FROM generate_series(1, ${N.companies}) n;
INSERT INTO offerings SELECT pg_temp.u(${K.offering}, n), 'OFF' || n, 'Offering ' || n, null, n, now() FROM generate_series(1, ${N.offerings}) n;
INSERT INTO subscriptions SELECT pg_temp.u(${K.subscription}, n), pg_temp.u(${K.company}, 1 + n % ${N.companies}), pg_temp.u(${K.offering}, 1 + n % ${N.offerings}),
  10, '2024-01-01', null, 'ACTIVE', null, null, n, now(), now() FROM generate_series(1, ${N.subscriptions}) n;
INSERT INTO projects SELECT pg_temp.u(${K.project}, n), pg_temp.u(${K.company}, 1 + n % ${N.companies}), 'Project ' || n, 'F-' || n, null,
  '2024-01-01', null, CASE WHEN n % 10 = 0 THEN 'CLOSED' ELSE 'ACTIVE' END, null, 1, n, now(), now() FROM generate_series(1, ${N.projects}) n;
INSERT INTO assignments SELECT pg_temp.u(${K.assignment}, n), pg_temp.u(${K.project}, 1 + n % ${N.projects}), pg_temp.u(${K.company}, 1 + (1 + n % ${N.projects}) % ${N.companies}),
  'Crew ' || n, '2024-01-01', null, n, now() FROM generate_series(1, ${N.assignments}) n;
INSERT INTO profiles (id, rut, first_name, last_name, email, phone, birth_date, created_by, version, position, created_at, updated_at, created_for)
  SELECT pg_temp.u(${K.profile}, n), 'rut-' || n, 'Worker', 'Number ' || n, 'w' || n || '@x.test', null, null, 'seed', 1, n, now(), now(),
  pg_temp.u(${K.company}, 1 + n % ${N.companies}) FROM generate_series(1, ${N.profiles}) n;
INSERT INTO profile_companies SELECT pg_temp.u(${K.profile}, n), pg_temp.u(${K.company}, 1 + n % ${N.companies}), null,
  CASE WHEN n > 10 THEN pg_temp.u(${K.profile}, 1 + n % 10) END, '2024-01-01', null, 'ACTIVE', n, now() FROM generate_series(1, ${N.profiles}) n;
INSERT INTO profile_assignments SELECT pg_temp.u(${K.profile}, n), pg_temp.u(${K.assignment}, 1 + n % ${N.assignments}),
  pg_temp.u(${K.project}, 1 + (1 + n % ${N.assignments}) % ${N.projects}), 'ASSIGNED', now(), null, n FROM generate_series(1, ${N.profiles}) n;
INSERT INTO licenses SELECT pg_temp.u(${K.license}, n), pg_temp.u(${K.profile}, 1 + n % ${N.profiles}), 'Type', 'L-' || n, '2024-01-01',
  ('2025-01-01'::date + (n % 3000)), false, null, null, n, now(), now() FROM generate_series(1, ${N.licenses}) n;
INSERT INTO profile_personal_data SELECT pg_temp.u(${K.profile}, n), pg_temp.u(${K.company}, 1 + n % ${N.companies}), 'p' || n || '@x.test', null, null, n, now()
  FROM generate_series(1, ${N.profiles}) n;
ANALYZE;
`;

interface Captured {
  text: string;
  values: unknown[];
}

/** A connection that records each statement instead of running it (answering no rows). */
function recorder(into: Captured[]): Queryable {
  return {
    query: (async (config: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
      into.push(typeof config === 'string' ? { text: config, values: values ?? [] } : { text: config.text, values: config.values ?? [] });
      return { rows: [], rowCount: 0 };
    }) as unknown as Queryable['query'],
  };
}

const scopes: Record<string, Scope> = {
  ADMIN: EVERYTHING,
  MANAGER: { all: false, companyId: u(K.company, 7), profileId: null },
  WORKER: { all: false, companyId: null, profileId: u(K.profile, 7) },
};
const page = { afterPosition: 0, limit: 20 };
const ids = (kind: number) => [u(kind, 5), u(kind, 6), u(kind, 7)];
const today = '2026-01-01';
const filters = [
  { today, status: null, expiringUntil: null },
  { today, status: 'VALID' as const, expiringUntil: '2026-02-01' },
];

/** Every read-model function, called the ways the resolvers and commands call it. */
type Case = (q: Queryable, scope: Scope) => unknown[];
const cases: Record<keyof typeof readModel, Case> = {
  companies: (q) => [readModel.companies(q, ids(K.company))],
  projects: (q) => [readModel.projects(q, ids(K.project))],
  projectsByFaenaCode: (q) => [readModel.projectsByFaenaCode(q, ['F-5', 'F-6'])],
  assignments: (q) => [readModel.assignments(q, ids(K.assignment))],
  profiles: (q) => [readModel.profiles(q, ids(K.profile))],
  profilesByRut: (q) => [readModel.profilesByRut(q, ['rut-5', 'rut-6'])],
  licenses: (q) => [readModel.licenses(q, ids(K.license))],
  offerings: (q) => [readModel.offerings(q, ids(K.offering))],
  subscriptions: (q) => [readModel.subscriptions(q, ids(K.subscription))],
  allOfferings: (q) => [readModel.allOfferings(q)],
  profileCompanies: (q, s) => [readModel.profileCompanies(q, ids(K.profile), null, s), readModel.profileCompanies(q, ids(K.profile), 'ACTIVE', s)],
  reports: (q, s) => [readModel.reports(q, ids(K.profile), s)],
  profileAssignmentsByProfile: (q, s) => [readModel.profileAssignmentsByProfile(q, ids(K.profile), 'ASSIGNED', s)],
  profileAssignmentsByAssignment: (q, s) => [readModel.profileAssignmentsByAssignment(q, ids(K.assignment), 'ASSIGNED', s)],
  licensesByProfile: (q, s) => filters.map((f) => readModel.licensesByProfile(q, ids(K.profile), f, s)),
  subscriptionsByCompany: (q, s) => [readModel.subscriptionsByCompany(q, ids(K.company), s)],
  activeCounts: (q) => [readModel.activeCounts(q, ids(K.company))],
  personalData: (q) => [readModel.personalData(q, ids(K.profile), u(K.company, 7))],
  projectsByCompany: (q, s) => [readModel.projectsByCompany(q, ids(K.company), page, null, s), readModel.projectsByCompany(q, ids(K.company), page, 'ACTIVE', s)],
  employeesByCompany: (q, s) => [readModel.employeesByCompany(q, ids(K.company), page, null, s)],
  assignmentsByProject: (q, s) => [readModel.assignmentsByProject(q, ids(K.project), page, s)],
  listCompanies: (q, s) => [readModel.listCompanies(q, page, null, s), readModel.listCompanies(q, page, 'Company 1', s)],
  listProjects: (q, s) => [readModel.listProjects(q, page, null, null, s), readModel.listProjects(q, page, 'ACTIVE', u(K.company, 7), s)],
  listProfiles: (q, s) => [readModel.listProfiles(q, page, null, null, s), readModel.listProfiles(q, page, 'Number 1', u(K.company, 7), s)],
  listLicenses: (q, s) => filters.flatMap((f) => [readModel.listLicenses(q, page, f, null, s), readModel.listLicenses(q, page, f, u(K.company, 7), s)]),
  listSubscriptions: (q) => [readModel.listSubscriptions(q, u(K.company, 7))],
  profileCompany: (q) => [readModel.profileCompany(q, u(K.profile, 7), u(K.company, 8))],
  profileAssignment: (q) => [readModel.profileAssignment(q, u(K.assignment, 8), u(K.profile, 7))],
  exists: (q) => (['companies', 'offerings', 'profiles'] as const).map((t) => readModel.exists(q, t, u(K.company, 7))),
  rutOf: (q) => [readModel.rutOf(q, u(K.profile, 7))],
  worksFor: (q) => [readModel.worksFor(q, u(K.profile, 7), u(K.company, 8))],
  ownerOf: (q) => (['subscriptions', 'assignments', 'licenses'] as const).map((t) => readModel.ownerOf(q, t, u(K.license, 7))),
};

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function seqScans(node: PlanNode, found: string[] = []): string[] {
  if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) found.push(node['Relation Name']);
  for (const child of node.Plans ?? []) seqScans(child, found);
  return found;
}

/** The sequentially scanned tables over LARGE rows in each captured statement's plan, as readable lines. */
async function sequentialScans(db: TestDatabase['db'], only?: (name: string) => boolean): Promise<{ problems: string[]; explained: Map<string, number> }> {
  const { rows } = await db.pool.query<{ relname: string; n: number }>(
    `SELECT relname, reltuples::bigint AS n FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace`,
  );
  const size = new Map(rows.map((r) => [r.relname, Number(r.n)]));
  const problems: string[] = [];
  const explained = new Map<string, number>();
  for (const [name, call] of Object.entries(cases)) {
    if (only && !only(name)) continue;
    for (const [role, scope] of Object.entries(scopes)) {
      const captured: Captured[] = [];
      await Promise.all(call(recorder(captured), scope));
      explained.set(name, (explained.get(name) ?? 0) + captured.length);
      for (const { text, values } of captured) {
        const { rows: plan } = await db.pool.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
        for (const table of seqScans(plan[0]['QUERY PLAN'][0].Plan)) {
          if ((size.get(table) ?? 0) > LARGE) problems.push(`${name} (${role}): sequential scan of ${table} (${size.get(table)} rows)`);
        }
      }
    }
  }
  return { problems: [...new Set(problems)], explained };
}

describe('Workforce read model: an index for every lookup', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('wf_indexes', [{ service: 'workforce', migrations: workforceMigrations }], 2);
    await database.db.pool.query(SEED);
  }, 120_000);
  afterAll(async () => {
    await database?.drop();
  });

  it('every statement, for every role, reads the large tables through an index', async () => {
    const { problems, explained } = await sequentialScans(database.db);
    // Each read-model function ran at least one statement per role (no silent hole).
    for (const name of Object.keys(cases)) expect(explained.get(name), name).toBeGreaterThanOrEqual(Object.keys(scopes).length);
    expect(problems).toEqual([]);
  }, 120_000);

  it('can fail: with the index on licences by profile dropped, their lookup is reported', async () => {
    await database.db.pool.query('DROP INDEX licenses_profile');
    try {
      const { problems } = await sequentialScans(database.db, (name) => name === 'licensesByProfile');
      expect(problems).toContain(`licensesByProfile (ADMIN): sequential scan of licenses (${N.licenses} rows)`);
    } finally {
      await database.db.pool.query('CREATE INDEX licenses_profile ON licenses (profile_id, position)');
    }
  }, 60_000);
});
