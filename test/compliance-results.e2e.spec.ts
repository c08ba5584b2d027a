import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryResultSource } from '../platform/sources/memory.ts';
import type { TestResult } from '../platform/sources/results.ts';
import { startTestStack, type GraphQLResponse, type TestStack } from './support/stack.ts';
import { gqlAs, role, rut } from './support/workforce.ts';

/**
 * Safety reading the test-result sources through their GraphQL APIs, through the gateway:
 * `Profile.compliance(...).testResults` (latest result per source at the project's faena
 * up to the day) and the merged `Project.testResults` / `Profile.testResults` (both
 * providers, one composite cursor). Both sources are in-memory TEST DOUBLES here (the
 * stack's default; SQL Server cannot run on this machine, and what Safety depends on is
 * the sources' GraphQL answers, which the source subgraphs produce the same way for any
 * adapter; Fit2000 on the real MariaDB is covered by test/test-results.e2e.spec.ts).
 */
let stack: TestStack;
const saferapp = new InMemoryResultSource('SAFERAPP', 'sql', 'SaferApp', []);
const fit2000 = new InMemoryResultSource('FIT2000', 'sql', 'Fit2000', []);
const ids: Record<string, string> = {};
const ruts = { ana: rut(18_300_001), beto: rut(18_300_002), carla: rut(18_300_003) };

function row(provider: 'SAFERAPP' | 'FIT2000', id: number, who: string, faenaCode: string, day: string, result: TestResult['result']): TestResult {
  const takenAt = new Date(`${day}T10:00:00Z`);
  return { provider, sourceId: String(id), position: id, rut: who, faenaCode, takenAt, result, score: null, updatedAt: takenAt };
}

async function ok<T = any>(headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await gqlAs<T>(stack, headers, query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data as T;
}
const admin = <T = any>(query: string, variables: Record<string, unknown> = {}) => ok<T>(role.admin(), query, variables);
const codes = (res: GraphQLResponse) => (res.errors ?? []).map((e) => e.extensions?.code);
/** A row as the merged lists name it: S10 is SaferApp's row 10, F2 Fit2000's row 2. */
const names = (nodes: { provider: string; sourceId: string }[]) => nodes.map((n) => `${n.provider === 'SAFERAPP' ? 'S' : 'F'}${n.sourceId}`);

const SAFERAPP_ROWS = [
  row('SAFERAPP', 10, ruts.ana, 'C-A1', '2026-08-15', 'APPROVED'),
  row('SAFERAPP', 11, ruts.carla, 'C-B1', '2026-08-16', 'REJECTED'),
  row('SAFERAPP', 12, ruts.ana, 'C-A1', '2026-11-15', 'REJECTED'),
  row('SAFERAPP', 13, ruts.ana, 'C-B1', '2026-09-10', 'REJECTED'), // another faena: never counts for C-A1
];

beforeAll(async () => {
  stack = await startTestStack('compliance_results', { sources: { saferapp, fit2000 } });
  const offering = (await admin(`mutation { createOffering(input: {code: "CRES", name: "Compliance results"}) { id } }`)).createOffering.id;
  for (const [key, name, taxRut] of [['A', 'Minera Cumple SpA', 76_600_001], ['B', 'Otra Cumple Ltda', 76_600_002]] as const) {
    ids[key] = (await admin(`mutation($n: String!, $r: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { n: name, r: rut(taxRut) })).registerCompany.id;
    ids[`project${key}`] = (
      await admin(`mutation($c: ID!, $f: String!, $n: String!) { createProject(input: {companyId: $c, name: $n, faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, { c: ids[key], f: `C-${key}1`, n: `Faena ${key}` })
    ).createProject.id;
    await admin(`mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 10}) { id } }`, { c: ids[key], o: offering });
    ids[`assignment${key}`] = (await admin(`mutation($p: ID!) { createAssignment(input: {projectId: $p, name: "Turno", startsOn: "2026-01-01"}) { id } }`, { p: ids[`project${key}`] })).createAssignment.id;
  }
  for (const [key, company] of [['ana', 'A'], ['beto', 'A'], ['carla', 'B']] as const) {
    ids[key] = (await admin(`mutation($r: String!, $n: String!) { createProfile(input: {rut: $r, firstName: $n, lastName: "Cumple"}) { id } }`, { r: ruts[key], n: key })).createProfile.id;
    await admin(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids[company], p: ids[key] });
    await admin(`mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`, { a: ids[`assignment${company}`], p: ids[key] });
  }
  saferapp.set(SAFERAPP_ROWS);
  fit2000.set([
    row('FIT2000', 1, ruts.ana, 'C-A1', '2026-09-01', 'APPROVED'),
    row('FIT2000', 2, ruts.ana, 'C-A1', '2026-10-01', 'REJECTED'),
    row('FIT2000', 3, ruts.beto, 'C-A1', '2026-10-02', 'APPROVED'),
    row('FIT2000', 4, ruts.carla, 'C-B1', '2026-11-03', 'PENDING'),
  ]);
}, 120_000);
afterAll(async () => {
  saferapp.down = false;
  fit2000.down = false;
  await stack?.stop();
});

const COMPLIANCE = `query($w: ID!, $p: ID!, $on: Date) { profile(id: $w) { compliance(projectId: $p, on: $on) {
  compliant testResults { status sources { provider status latest { sourceId takenAt result profile { fullName } project { name } } } } } } }`;
const verdicts = (c: any) => c.testResults.sources.map((s: any) => [s.provider, s.status, s.latest?.sourceId ?? null]);

describe('compliance: the latest test result per source at the project\'s faena up to the day', () => {
  it('APPROVED when each source holding results has its latest approved; results after the day and at other faenas do not count', async () => {
    const c = (await admin(COMPLIANCE, { w: ids.ana, p: ids.projectA, on: '2026-09-15' })).profile.compliance;
    expect(c.testResults.status).toBe('APPROVED');
    expect(verdicts(c)).toEqual([['SAFERAPP', 'APPROVED', '10'], ['FIT2000', 'APPROVED', '1']]);
    expect(c.testResults.sources[1].latest).toEqual({ sourceId: '1', takenAt: '2026-09-01T10:00:00.000Z', result: 'APPROVED', profile: { fullName: 'ana Cumple' }, project: { name: 'Faena A' } });
    // One source with results, the other with none: APPROVED.
    const beto = (await admin(COMPLIANCE, { w: ids.beto, p: ids.projectA, on: '2026-12-01' })).profile.compliance;
    expect(verdicts(beto)).toEqual([['SAFERAPP', 'NO_RESULTS', null], ['FIT2000', 'APPROVED', '3']]);
    expect(beto.testResults.status).toBe('APPROVED');
  });

  it('NOT_APPROVED (and not compliant) when one source\'s latest is rejected or pending', async () => {
    const c = (await admin(COMPLIANCE, { w: ids.ana, p: ids.projectA, on: '2026-10-15' })).profile.compliance;
    expect(verdicts(c)).toEqual([['SAFERAPP', 'APPROVED', '10'], ['FIT2000', 'NOT_APPROVED', '2']]);
    expect(c.testResults.status).toBe('NOT_APPROVED');
    expect(c.compliant).toBe(false);
    const carla = (await admin(COMPLIANCE, { w: ids.carla, p: ids.projectB, on: '2026-12-01' })).profile.compliance;
    expect(verdicts(carla)).toEqual([['SAFERAPP', 'NOT_APPROVED', '11'], ['FIT2000', 'NOT_APPROVED', '4']]);
  });

  it('NO_RESULTS before any result', async () => {
    const c = (await ok(role.worker(ids.ana), COMPLIANCE, { w: ids.ana, p: ids.projectA, on: '2026-08-01' })).profile.compliance;
    expect(verdicts(c)).toEqual([['SAFERAPP', 'NO_RESULTS', null], ['FIT2000', 'NO_RESULTS', null]]);
    expect(c.testResults.status).toBe('NO_RESULTS');
  });

  it('a source down is NOT_AVAILABLE for that source, and compliance still answers from the other', async () => {
    fit2000.down = true;
    try {
      const c = (await admin(COMPLIANCE, { w: ids.ana, p: ids.projectA, on: '2026-10-15' })).profile.compliance;
      expect(verdicts(c)).toEqual([['SAFERAPP', 'APPROVED', '10'], ['FIT2000', 'NOT_AVAILABLE', null]]);
      expect(c.testResults.status).toBe('APPROVED');
      saferapp.down = true;
      const none = (await admin(COMPLIANCE, { w: ids.ana, p: ids.projectA, on: '2026-10-15' })).profile.compliance;
      expect(none.testResults.status).toBe('NOT_AVAILABLE');
    } finally {
      fit2000.down = false;
      saferapp.down = false;
    }
  });

  it('batched: the compliance of several workers in one response costs one statement per source', async () => {
    const before = [saferapp.statements, fit2000.statements];
    const data = await admin(`query($p: ID!) { profiles(first: 100) { nodes { fullName compliance(projectId: $p, on: "2026-12-01") { testResults { status } } } } }`, { p: ids.projectA });
    const status = Object.fromEntries(data.profiles.nodes.map((n: any) => [n.fullName, n.compliance.testResults.status]));
    expect(status).toEqual({ 'ana Cumple': 'NOT_APPROVED', 'beto Cumple': 'APPROVED', 'carla Cumple': 'NO_RESULTS' });
    expect([saferapp.statements - before[0], fit2000.statements - before[1]]).toEqual([1, 1]);
  });
});

const MERGED = `nodes { provider sourceId takenAt result profile { fullName } project { name } } pageInfo { hasNextPage endCursor } unavailableProviders`;
const PROJECT_RESULTS = `query($id: ID!, $first: Int, $after: String, $from: Date, $to: Date, $result: TestOutcome) {
  project(id: $id) { name testResults(first: $first, after: $after, from: $from, to: $to, result: $result) { ${MERGED} } } }`;
const ALL_A = ['S10', 'F1', 'F2', 'F3', 'S12'];

describe('Project.testResults: both providers merged', () => {
  it('in taken-at order, with the referenced profile and project, page after page without repeats or gaps', async () => {
    const all = (await admin(PROJECT_RESULTS, { id: ids.projectA, first: 100 })).project.testResults;
    expect(names(all.nodes)).toEqual(ALL_A);
    expect(all.nodes[0]).toEqual({ provider: 'SAFERAPP', sourceId: '10', takenAt: '2026-08-15T10:00:00.000Z', result: 'APPROVED', profile: { fullName: 'ana Cumple' }, project: { name: 'Faena A' } });
    expect(all.nodes[3].profile).toEqual({ fullName: 'beto Cumple' });
    expect(all.unavailableProviders).toEqual([]);
    const seen: string[] = [];
    const more: boolean[] = [];
    let after: string | null = null;
    do {
      const page: any = (await admin(PROJECT_RESULTS, { id: ids.projectA, first: 2, after })).project.testResults;
      seen.push(...names(page.nodes));
      more.push(page.pageInfo.hasNextPage);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(ALL_A);
    expect(more).toEqual([true, true, false]);
  });

  it('filters by date range and result; bad arguments are BAD_USER_INPUT', async () => {
    const approved = (await admin(PROJECT_RESULTS, { id: ids.projectA, result: 'APPROVED' })).project.testResults;
    expect(names(approved.nodes)).toEqual(['S10', 'F1', 'F3']);
    const autumn = (await admin(PROJECT_RESULTS, { id: ids.projectA, from: '2026-09-01', to: '2026-10-01' })).project.testResults;
    expect(names(autumn.nodes)).toEqual(['F1', 'F2']);
    for (const vars of [{ from: '2026-10-01', to: '2026-09-01' }, { after: 'bm90LWEtY3Vyc29y' }, { first: 0 }, { from: '2025-01-01', to: '2026-06-01' }]) {
      const res = await gqlAs(stack, role.admin(), PROJECT_RESULTS, { id: ids.projectA, ...vars });
      expect(codes(res), JSON.stringify(vars)).toEqual(['BAD_USER_INPUT']);
      expect(res.data?.project?.testResults ?? null).toBeNull();
    }
  });

  it('every role: ADMIN and the company\'s MANAGER all rows, another company\'s MANAGER FORBIDDEN, a WORKER only their own', async () => {
    expect(names((await ok(role.manager(ids.A), PROJECT_RESULTS, { id: ids.projectA })).project.testResults.nodes)).toEqual(ALL_A);
    const other = await gqlAs(stack, role.manager(ids.B), PROJECT_RESULTS, { id: ids.projectA });
    // Workforce hides another company's project from a manager: nothing to hang results on.
    expect(other).toMatchObject({ data: { project: null } });
    expect(other.errors).toBeUndefined();
    expect(names((await ok(role.worker(ids.ana), PROJECT_RESULTS, { id: ids.projectA })).project.testResults.nodes)).toEqual(['S10', 'F1', 'F2', 'S12']);
    expect(names((await ok(role.worker(ids.beto), PROJECT_RESULTS, { id: ids.projectA })).project.testResults.nodes)).toEqual(['F3']);
    // A worker of another company: the project is hidden from them too.
    const carla = await gqlAs(stack, role.worker(ids.carla), PROJECT_RESULTS, { id: ids.projectA });
    expect(carla).toMatchObject({ data: { project: null } });
  });

  it('one provider down: the other\'s rows, and the one that did not answer named', async () => {
    saferapp.down = true;
    try {
      const res = await gqlAs(stack, role.admin(), PROJECT_RESULTS, { id: ids.projectA });
      // The data stays; an error entry at the field names the provider that did not answer.
      expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.source, e.path])).toEqual([['SOURCE_UNAVAILABLE', 'SaferApp', ['project', 'testResults']]]);
      expect(names(res.data.project.testResults.nodes)).toEqual(['F1', 'F2', 'F3']);
      expect(res.data.project.testResults.unavailableProviders).toEqual(['SAFERAPP']);
      expect(res.data.project.name).toBe('Faena A');
    } finally {
      saferapp.down = false;
    }
  });

  it('batched: several projects in one response cost one statement per source', async () => {
    const before = [saferapp.statements, fit2000.statements];
    const data = await admin(`{ projects(first: 100) { nodes { faenaCode testResults { nodes { sourceId } } } } }`);
    const byFaena = Object.fromEntries(data.projects.nodes.map((p: any) => [p.faenaCode, p.testResults.nodes.map((n: any) => n.sourceId)]));
    expect(byFaena).toEqual({ 'C-A1': ['10', '1', '2', '3', '12'], 'C-B1': ['11', '13', '4'] });
    expect([saferapp.statements - before[0], fit2000.statements - before[1]]).toEqual([1, 1]);
  });
});

describe('references from the merged rows (TestResult.profile and .project, resolved by Safety through Workforce)', () => {
  const REFS = `query($id: ID!) { project(id: $id) { testResults(first: 1) { nodes { sourceId
    profile { id fullName rut fit2000Results { nodes { sourceId } } saferAppResults { nodes { sourceId } } safetyForms { nodes { id } } }
    project { id name faenaCode fit2000Results { nodes { sourceId } } saferAppResults { nodes { sourceId } } anomalies { nodes { id } } } } } } }`;
  it('reach Workforce, SaferApp, Fit2000 and Safety itself, for every role that sees the row', async () => {
    for (const [who, headers] of [['ADMIN', role.admin()], ['MANAGER', role.manager(ids.A)], ['WORKER', role.worker(ids.ana)]] as const) {
      const [first] = (await ok(headers, REFS, { id: ids.projectA })).project.testResults.nodes;
      expect(first, who).toEqual({
        sourceId: '10',
        profile: { id: ids.ana, fullName: 'ana Cumple', rut: ruts.ana, fit2000Results: { nodes: [{ sourceId: '1' }, { sourceId: '2' }] }, saferAppResults: { nodes: [{ sourceId: '10' }, { sourceId: '12' }, { sourceId: '13' }] }, safetyForms: { nodes: [] } },
        project: {
          id: ids.projectA,
          name: 'Faena A',
          faenaCode: 'C-A1',
          // A worker sees only their own rows at a faena.
          fit2000Results: { nodes: (who === 'WORKER' ? ['1', '2'] : ['1', '2', '3']).map((sourceId) => ({ sourceId })) },
          saferAppResults: { nodes: [{ sourceId: '10' }, { sourceId: '12' }] },
          anomalies: { nodes: [] },
        },
      });
    }
  });
});

describe('Profile.testResults: a worker\'s results at every faena, both providers merged', () => {
  const PROFILE_RESULTS = `query($id: ID!) { profile(id: $id) { testResults { ${MERGED} } } }`;
  it('the worker, their company\'s manager and an ADMIN see them; another company\'s manager and another worker do not', async () => {
    // Each provider in its own (id) order, merged by taken-at: SaferApp's row 13 (taken 09-10)
    // comes after its row 12 (11-15), as in SaferApp's own list; Fit2000's rows fall between.
    const mine = ['S10', 'F1', 'F2', 'S12', 'S13'];
    for (const headers of [role.admin(), role.manager(ids.A), role.worker(ids.ana)]) {
      expect(names((await ok(headers, PROFILE_RESULTS, { id: ids.ana })).profile.testResults.nodes)).toEqual(mine);
    }
    for (const headers of [role.manager(ids.B), role.worker(ids.beto)]) {
      // Workforce hides the worker from them altogether.
      expect(await gqlAs(stack, headers, PROFILE_RESULTS, { id: ids.ana })).toMatchObject({ data: { profile: null } });
    }
  });

  it('a former employee: their manager still sees the profile, but the sources refuse the results (FORBIDDEN) and compliance counts them NOT_AVAILABLE', async () => {
    const dana = (await admin(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "dana", lastName: "Cumple"}) { id } }`, { r: rut(18_300_004) })).createProfile.id;
    await admin(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: dana });
    saferapp.set([...SAFERAPP_ROWS, row('SAFERAPP', 50, rut(18_300_004), 'C-A1', '2026-09-20', 'APPROVED')]);
    const query = `query($id: ID!, $p: ID!) { profile(id: $id) { fullName testResults { nodes { sourceId } } compliance(projectId: $p, on: "2026-12-01") { testResults { status sources { status } } } } }`;
    const now = (await ok(role.manager(ids.A), query, { id: dana, p: ids.projectA })).profile;
    expect(now.testResults.nodes).toEqual([{ sourceId: '50' }]);
    expect(now.compliance.testResults).toEqual({ status: 'APPROVED', sources: [{ status: 'APPROVED' }, { status: 'NO_RESULTS' }] });
    await admin(`mutation($c: ID!, $p: ID!) { endEmployment(companyId: $c, profileId: $p) { status } }`, { c: ids.A, p: dana });
    const res = await gqlAs(stack, role.manager(ids.A), query, { id: dana, p: ids.projectA });
    expect(res.data.profile).toEqual({ fullName: 'dana Cumple', testResults: null, compliance: { testResults: { status: 'NOT_AVAILABLE', sources: [{ status: 'NOT_AVAILABLE' }, { status: 'NOT_AVAILABLE' }] } } });
    expect(codes(res)).toEqual(['FORBIDDEN']);
    saferapp.set(SAFERAPP_ROWS);
  });
});
