import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.ts';
import { SqlResultSource } from '../platform/sources/adapter.ts';
import { parseMapping } from '../platform/sources/mapping.ts';
import { InMemoryResultSource } from '../platform/sources/memory.ts';
import { mysqlDriver } from '../platform/sources/mysql.ts';
import type { TestResult } from '../platform/sources/results.ts';
import { createTestMysqlDatabase, type TestMysqlDatabase } from '../platform/testing/mysql.ts';
import { FIT2000_DEFAULT_MAPPING } from '../subgraphs/fit2000/subgraph.ts';
import { startTestStack, type GraphQLResponse, type TestStack } from './support/stack.ts';
import { gqlAs, role, rut, rutSpellings } from './support/workforce.ts';

/**
 * Test results of the external sources through the gateway: Fit2000 read from the real
 * MariaDB (a database of this test's own), SaferApp from an in-memory double (SQL Server
 * cannot run here; its adapter has its own tests). Every role, pages, filters, hostile
 * arguments, the referenced Profile and Project next to the results, batching, and a
 * source that goes down.
 */
let stack: TestStack;
let mysql: TestMysqlDatabase;
let fit2000: SqlResultSource;
const saferapp = new InMemoryResultSource('SAFERAPP', 'sql', 'SaferApp', []);
const ids: Record<string, string> = {};
const ruts = { ana: rut(15_100_001), beto: rut(15_100_002), carla: rut(15_100_003) };
const BULK = 100;
const bulkRuts = Array.from({ length: BULK }, (_, i) => rut(16_200_000 + i));

const FIELDS = `nodes { provider sourceId rut faenaCode takenAt result score profile { fullName } project { name company { name } } } pageInfo { hasNextPage endCursor }`;

async function admin<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return ok(role.admin(), query, variables);
}
async function ok<T = any>(headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await gqlAs<T>(stack, headers, query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data as T;
}
const codes = (res: GraphQLResponse) => (res.errors ?? []).map((e) => e.extensions?.code);

function saferRow(id: number, who: string, faenaCode: string, day: string, result: TestResult['result']): TestResult {
  const takenAt = new Date(`${day}T10:00:00Z`);
  return { provider: 'SAFERAPP', sourceId: String(id), position: id, rut: who, faenaCode, takenAt, result, score: null, updatedAt: takenAt };
}

beforeAll(async () => {
  mysql = await createTestMysqlDatabase([new URL('../schema/sources/fit2000.sql', import.meta.url)]);
  fit2000 = new SqlResultSource('FIT2000', {
    driver: mysqlDriver({ host: mysql.host, port: mysql.port, database: mysql.database, user: mysql.user, password: mysql.password, connectTimeoutMs: 5_000, poolSize: 4 }),
    mapping: FIT2000_DEFAULT_MAPPING,
    mappingVariable: 'ANGELIS_FIT2000_MAPPING',
    sourceName: 'Fit2000',
    log: createLogger('test', 'silent'),
  });
  stack = await startTestStack('results', { sources: { fit2000, saferapp } });
  const offering = (await admin(`mutation { createOffering(input: {code: "RESULTS", name: "Results"}) { id } }`)).createOffering.id;
  for (const [key, name, taxRut] of [['A', 'Minera Resultados SpA', 76_500_001], ['B', 'Otra Faena Ltda', 76_500_002]] as const) {
    ids[key] = (await admin(`mutation($n: String!, $r: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { n: name, r: rut(taxRut) })).registerCompany.id;
    const project = await admin(`mutation($c: ID!, $f: String!, $n: String!) { createProject(input: {companyId: $c, name: $n, faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, {
      c: ids[key],
      f: `F-${key}1`,
      n: `Faena ${key}`,
    });
    ids[`project${key}`] = project.createProject.id;
    await admin(`mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 10}) { id } }`, { c: ids[key], o: offering });
    ids[`assignment${key}`] = (await admin(`mutation($p: ID!) { createAssignment(input: {projectId: $p, name: "Operación", startsOn: "2026-01-01"}) { id } }`, { p: ids[`project${key}`] })).createAssignment.id;
  }
  for (const [key, company] of [['ana', 'A'], ['beto', 'A'], ['carla', 'B']] as const) {
    ids[key] = (await admin(`mutation($r: String!, $n: String!) { createProfile(input: {rut: $r, firstName: $n, lastName: "Prueba"}) { id } }`, { r: ruts[key], n: key })).createProfile.id;
    await admin(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids[company], p: ids[key] });
    await admin(`mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`, { a: ids[`assignment${company}`], p: ids[key] });
  }
  // Fit2000 stores RUTs in its own formats: dotted, plain, dashed.
  await mysql.admin.query('INSERT INTO usuario_faena (user_id, rut, faena) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?), (?, ?, ?)', [
    1, rutSpellings(ruts.ana).dotted, 'F-A1',
    2, rutSpellings(ruts.beto).plain, 'F-A1',
    3, ruts.carla, 'F-B1',
    4, '99.999.999-0', 'F-A1', // a malformed RUT (wrong check digit): counted, never shown
  ]);
  await mysql.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado, puntaje) VALUES
    (1, 1, '2026-09-01 08:00:00', 'APROBADO', 81.5),
    (2, 1, '2026-10-01 08:00:00', 'RECHAZADO', 40),
    (3, 2, '2026-10-02 08:00:00', 'APROBADO', 77),
    (4, 1, '2026-11-01 08:00:00', 'PENDIENTE', NULL),
    (5, 4, '2026-11-02 08:00:00', 'APROBADO', 90),
    (6, 3, '2026-11-03 08:00:00', 'APROBADO', 88)`);
  saferapp.set([saferRow(10, ruts.ana, 'F-A1', '2026-08-15', 'APPROVED'), saferRow(11, ruts.carla, 'F-B1', '2026-08-16', 'REJECTED'), saferRow(12, ruts.ana, 'F-A1', '2026-11-15', 'REJECTED')]);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await fit2000?.close();
  await mysql?.drop();
});

const PROFILE_QUERY = `query($id: ID!) { profile(id: $id) { fullName fit2000Results { ${FIELDS} } saferAppResults { ${FIELDS} } } }`;
const PROJECT_QUERY = `query($id: ID!) { project(id: $id) { name fit2000Results { ${FIELDS} } saferAppResults { ${FIELDS} } } }`;
const sourceIds = (c: { nodes: { sourceId: string }[] }) => c.nodes.map((n) => n.sourceId);

describe('a worker\'s results (Profile.fit2000Results, Profile.saferAppResults)', () => {
  it('an ADMIN sees them joined by RUT whatever the stored format, with the referenced profile and faena', async () => {
    const data = await admin(PROFILE_QUERY, { id: ids.ana });
    expect(data.profile.fit2000Results.nodes).toEqual([
      { provider: 'FIT2000', sourceId: '1', rut: ruts.ana, faenaCode: 'F-A1', takenAt: '2026-09-01T08:00:00.000Z', result: 'APPROVED', score: 81.5, profile: { fullName: 'ana Prueba' }, project: { name: 'Faena A', company: { name: 'Minera Resultados SpA' } } },
      { provider: 'FIT2000', sourceId: '2', rut: ruts.ana, faenaCode: 'F-A1', takenAt: '2026-10-01T08:00:00.000Z', result: 'REJECTED', score: 40, profile: { fullName: 'ana Prueba' }, project: { name: 'Faena A', company: { name: 'Minera Resultados SpA' } } },
      { provider: 'FIT2000', sourceId: '4', rut: ruts.ana, faenaCode: 'F-A1', takenAt: '2026-11-01T08:00:00.000Z', result: 'PENDING', score: null, profile: { fullName: 'ana Prueba' }, project: { name: 'Faena A', company: { name: 'Minera Resultados SpA' } } },
    ]);
    expect(sourceIds(data.profile.saferAppResults)).toEqual(['10', '12']);
    expect(data.profile.saferAppResults.nodes[0]).toMatchObject({ provider: 'SAFERAPP', project: { name: 'Faena A' }, profile: { fullName: 'ana Prueba' } });
  });

  it('every role: ADMIN any, MANAGER of the worker\'s company, the worker; not another company\'s manager nor another worker', async () => {
    const cases: [string, Record<string, string>, boolean][] = [
      ['ADMIN', role.admin(), true],
      ['MANAGER own company', role.manager(ids.A), true],
      ['MANAGER other company', role.manager(ids.B), false],
      ['WORKER own', role.worker(ids.ana), true],
      ['WORKER other', role.worker(ids.beto), false],
    ];
    for (const [who, headers, allowed] of cases) {
      const res = await gqlAs(stack, headers, PROFILE_QUERY, { id: ids.ana });
      if (allowed) {
        expect(res.errors, who).toBeUndefined();
        expect(sourceIds(res.data.profile.fit2000Results), who).toEqual(['1', '2', '4']);
        expect(sourceIds(res.data.profile.saferAppResults), who).toEqual(['10', '12']);
      } else {
        // Either Workforce hides the worker altogether, or the results fields refuse.
        if (res.data.profile !== null) {
          expect(res.data.profile.fit2000Results, who).toBeNull();
          expect(res.data.profile.saferAppResults, who).toBeNull();
          expect(codes(res), `${who}: ${JSON.stringify(res.errors)}`).toEqual(['FORBIDDEN', 'FORBIDDEN']);
        }
        expect(JSON.stringify(res.data), who).not.toContain('sourceId');
      }
    }
  });

  it('a manager still sees a former employee in Workforce, but no longer their results', async () => {
    const dana = (await admin(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "dana", lastName: "Prueba"}) { id } }`, { r: rut(15_100_004) })).createProfile.id;
    await admin(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: dana });
    await mysql.admin.query('INSERT INTO usuario_faena (user_id, rut, faena) VALUES (?, ?, ?)', [50, rut(15_100_004), 'F-A1']);
    await mysql.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado) VALUES (50, 50, '2026-11-10 08:00:00', 'APROBADO')`);
    const query = `query($id: ID!) { profile(id: $id) { fullName fit2000Results { nodes { sourceId } } } }`;
    expect(sourceIds((await ok(role.manager(ids.A), query, { id: dana })).profile.fit2000Results)).toEqual(['50']);
    await admin(`mutation($c: ID!, $p: ID!) { endEmployment(companyId: $c, profileId: $p) { status } }`, { c: ids.A, p: dana });
    const res = await gqlAs(stack, role.manager(ids.A), query, { id: dana });
    expect(res.data.profile).toEqual({ fullName: 'dana Prueba', fit2000Results: null });
    expect(codes(res)).toEqual(['FORBIDDEN']);
    await mysql.admin.query('DELETE FROM ktest WHERE id = 50');
  });

  it('pages across boundaries without gaps or repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const data: any = await admin(`query($id: ID!, $after: String) { profile(id: $id) { fit2000Results(first: 2, after: $after) { nodes { sourceId } pageInfo { hasNextPage endCursor } } } }`, { id: ids.ana, after });
      const page = data.profile.fit2000Results;
      seen.push(...sourceIds(page));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(['1', '2', '4']);
  });

  it('filters by date range and result', async () => {
    const data = await admin(`query($id: ID!) { profile(id: $id) {
      octNov: fit2000Results(from: "2026-10-01", to: "2026-11-01") { nodes { sourceId } }
      rejected: fit2000Results(result: REJECTED) { nodes { sourceId } }
      oneDay: saferAppResults(from: "2026-11-15", to: "2026-11-15") { nodes { sourceId } }
    } }`, { id: ids.ana });
    expect(sourceIds(data.profile.octNov)).toEqual(['2', '4']);
    expect(sourceIds(data.profile.rejected)).toEqual(['2']);
    expect(sourceIds(data.profile.oneDay)).toEqual(['12']);
  });

  it('bad or hostile arguments are coded errors that reach no source', async () => {
    const before = fit2000.statements;
    const bad: [string, Record<string, unknown>, string][] = [
      ['reversed range', { from: '2026-11-01', to: '2026-10-01' }, 'BAD_USER_INPUT'],
      ['range over the limit', { from: '2025-01-01', to: '2026-11-01' }, 'BAD_USER_INPUT'],
      ['not a date', { from: "2026-01-01' OR 1=1 --" }, 'BAD_USER_INPUT'],
      ['unknown result', { result: 'APROBADO' }, 'BAD_USER_INPUT'],
      ['hostile cursor', { after: "'; DROP TABLE ktest; --" }, 'BAD_USER_INPUT'],
      ['page too large', { first: 1000 }, 'BAD_USER_INPUT'],
    ];
    for (const [what, args, code] of bad) {
      const res = await gqlAs(stack, role.admin(), `query($id: ID!, $from: Date, $to: Date, $result: TestOutcome, $after: String, $first: Int) {
        profile(id: $id) { fullName fit2000Results(from: $from, to: $to, result: $result, after: $after, first: $first) { nodes { sourceId } } } }`, { id: ids.ana, ...args });
      expect(codes(res), `${what}: ${JSON.stringify(res.errors)}`).toContain(code);
    }
    expect(fit2000.statements).toBe(before);
    const [rows] = await mysql.admin.query('SELECT count(*) AS n FROM ktest');
    expect(rows).toEqual([{ n: 6 }]);
  });
});

describe('a faena\'s results (Project.fit2000Results, Project.saferAppResults)', () => {
  it('every role: ADMIN and the company\'s MANAGER see all (a malformed source row left out), a WORKER only their own, another company\'s MANAGER none', async () => {
    const cases: [string, Record<string, string>, string[] | null, string[] | null][] = [
      ['ADMIN', role.admin(), ['1', '2', '3', '4'], ['10', '12']],
      ['MANAGER own company', role.manager(ids.A), ['1', '2', '3', '4'], ['10', '12']],
      ['MANAGER other company', role.manager(ids.B), null, null],
      ['WORKER own', role.worker(ids.beto), ['3'], []],
      ['WORKER other company', role.worker(ids.carla), null, null],
    ];
    for (const [who, headers, fit, safer] of cases) {
      const res = await gqlAs(stack, headers, PROJECT_QUERY, { id: ids.projectA });
      if (fit) {
        expect(res.errors, `${who}: ${JSON.stringify(res.errors)}`).toBeUndefined();
        expect(sourceIds(res.data.project.fit2000Results), who).toEqual(fit);
        expect(sourceIds(res.data.project.saferAppResults), who).toEqual(safer);
      } else {
        if (res.data.project !== null) {
          expect(res.data.project.fit2000Results, who).toBeNull();
          expect(res.data.project.saferAppResults, who).toBeNull();
          expect(codes(res), `${who}: ${JSON.stringify(res.errors)}`).toEqual(['FORBIDDEN', 'FORBIDDEN']);
        }
        expect(JSON.stringify(res.data), who).not.toContain('sourceId');
      }
    }
    expect(fit2000.rejected.rut).toBeGreaterThan(0);
  });

  it('the referenced profiles are shown as Workforce shows them to the caller', async () => {
    const data = await ok(role.manager(ids.A), `query($id: ID!) { project(id: $id) { fit2000Results(first: 4) { nodes { sourceId profile { fullName } project { faenaCode company { name } } } } } }`, { id: ids.projectA });
    expect(data.project.fit2000Results.nodes.map((n: any) => [n.sourceId, n.profile?.fullName, n.project.company.name])).toEqual([
      ['1', 'ana Prueba', 'Minera Resultados SpA'],
      ['2', 'ana Prueba', 'Minera Resultados SpA'],
      ['3', 'beto Prueba', 'Minera Resultados SpA'],
      ['4', 'ana Prueba', 'Minera Resultados SpA'],
    ]);
  });
});

describe('batching', () => {
  it(`${BULK} profiles cost one statement per source`, async () => {
    for (let i = 0; i < BULK; i += 20) {
      await Promise.all(
        bulkRuts.slice(i, i + 20).map((r, j) => admin(`mutation($r: String!, $n: String!) { createProfile(input: {rut: $r, firstName: $n, lastName: "Lote"}) { id } }`, { r, n: `w${i + j}` })),
      );
    }
    const values = bulkRuts.map((r, i) => [100 + i, r, 'F-A1']);
    await mysql.admin.query('INSERT INTO usuario_faena (user_id, rut, faena) VALUES ?', [values]);
    await mysql.admin.query('INSERT INTO ktest (user_id, fecha, resultado, puntaje) VALUES ?', [bulkRuts.map((_, i) => [100 + i, '2026-11-20 08:00:00', 'APROBADO', 60 + (i % 40)])]);
    saferapp.set([...(await saferapp.byRuts([ruts.ana, ruts.carla], { from: null, toExclusive: null, result: null, page: { limit: 99, afterPosition: 0 } })), ...bulkRuts.map((r, i) => saferRow(1000 + i, r, 'F-A1', '2026-11-21', 'APPROVED'))]);
    const before = { fit: fit2000.statements, safer: saferapp.statements };
    const data = await admin(`{ profiles(first: 100, search: "Lote") { nodes { rut fit2000Results(first: 5) { nodes { rut score } } saferAppResults(first: 5) { nodes { rut } } } } }`);
    const nodes = data.profiles.nodes as { rut: string; fit2000Results: { nodes: { rut: string }[] }; saferAppResults: { nodes: { rut: string }[] } }[];
    expect(nodes).toHaveLength(BULK);
    for (const n of nodes) {
      expect(n.fit2000Results.nodes.map((r) => r.rut)).toEqual([n.rut]);
      expect(n.saferAppResults.nodes.map((r) => r.rut)).toEqual([n.rut]);
    }
    expect(fit2000.statements - before.fit).toBe(1);
    expect(saferapp.statements - before.safer).toBe(1);
  });
});

describe('a source that is down', () => {
  it('answers SOURCE_UNAVAILABLE at its fields; the rest of the query answers', async () => {
    saferapp.down = true;
    try {
      const res = await gqlAs(stack, role.admin(), PROFILE_QUERY, { id: ids.ana });
      expect(res.data.profile.fullName).toBe('ana Prueba');
      expect(sourceIds(res.data.profile.fit2000Results)).toEqual(['1', '2', '4']);
      expect(res.data.profile.saferAppResults).toBeNull();
      expect(res.errors?.map((e) => ({ code: e.extensions?.code, path: e.path }))).toEqual([{ code: 'SOURCE_UNAVAILABLE', path: ['profile', 'saferAppResults'] }]);
    } finally {
      saferapp.down = false;
    }
  });

  it('a killed source subgraph: SOURCE_UNAVAILABLE naming it, the rest answers', async () => {
    const server = stack.fit2000.server;
    await new Promise<void>((resolve) => {
      server.server.close(() => resolve());
      server.server.closeAllConnections();
    });
    try {
      const res = await gqlAs(stack, role.admin(), PROFILE_QUERY, { id: ids.ana });
      expect(res.data.profile.fullName).toBe('ana Prueba');
      expect(sourceIds(res.data.profile.saferAppResults)).toEqual(['10', '12']);
      expect(res.data.profile.fit2000Results).toBeNull();
      expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.source])).toEqual([['SOURCE_UNAVAILABLE', 'fit2000']]);
    } finally {
      await new Promise<void>((resolve) => server.server.listen(server.port, '127.0.0.1', () => resolve()));
    }
  });

  it('a database whose reads fail under the running adapter: SOURCE_UNAVAILABLE, the rest answers', async () => {
    // Take the table away under the running adapter: its reads fail.
    await mysql.admin.query('RENAME TABLE ktest TO ktest_away');
    try {
      const res = await gqlAs(stack, role.admin(), PROFILE_QUERY, { id: ids.ana });
      expect(res.data.profile.fullName).toBe('ana Prueba');
      expect(res.data.profile.fit2000Results).toBeNull();
      expect(codes(res)).toEqual(['SOURCE_UNAVAILABLE']);
    } finally {
      await mysql.admin.query('RENAME TABLE ktest_away TO ktest');
    }
  });
});
