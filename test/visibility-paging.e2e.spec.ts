import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { okAs, role, rut } from './support/workforce.ts';

/**
 * Lists filtered by what the caller may see are filtered before the page is cut: walking
 * every page with first/after returns exactly the visible rows, each once, in order, and
 * `hasNextPage` is right on every page, while rows the caller may not see sit between
 * them. For ADMIN, the managers of companies A and B, and a worker employed by both.
 */
let stack: TestStack;
const PAGE = 2;

type Who = 'admin' | 'managerA' | 'managerB' | 'worker';
const WHO: Who[] = ['admin', 'managerA', 'managerB', 'worker'];
const ids = {} as Record<string, string>;
const headers = (who: Who) =>
  ({ admin: role.admin(), managerA: role.manager(ids.A, 'manager.a'), managerB: role.manager(ids.B, 'manager.b'), worker: role.worker(ids.W) })[who];

/** What was created, with who owns it: the expected answers are derived from these. */
const projects: { id: string; company: 'A' | 'B' }[] = [];
const employees: Record<'A' | 'B', string[]> = { A: [], B: [] };
const assignmentsOfA1: { id: string; worker: boolean }[] = [];
const workerProjects = new Set<string>();
/** The worker's profile trail as it was written: under which company, carrying personal data or not. */
const trail: { action: string; company: 'A' | 'B' | null; personal: boolean }[] = [];

const admin = (query: string, variables: Record<string, unknown> = {}) => okAs(stack, headers('admin'), query, variables);

async function hire(who: string, company: 'A' | 'B') {
  await admin(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids[company], p: ids[who] });
  employees[company].push(ids[who]);
  if (who === 'W') trail.push({ action: 'ProfileHired', company, personal: false });
}

async function assignWorker(assignmentId: string, projectId: string) {
  await admin(`mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`, { a: assignmentId, p: ids.W });
  workerProjects.add(projectId);
  trail.push({ action: 'ProfileAssigned', company: projects.find((p) => p.id === projectId)!.company, personal: false });
}

async function createAssignment(projectId: string): Promise<string> {
  return (await admin(`mutation($p: ID!) { createAssignment(input: {projectId: $p, name: "Turno", startsOn: "2026-02-01"}) { id } }`, { p: projectId }))
    .createAssignment.id;
}

async function updateWorker(who: Who, input: Record<string, unknown>, company: 'A' | 'B' | null) {
  await okAs(stack, headers(who), `mutation($p: ID!, $i: UpdateProfileInput!) { updateProfile(id: $p, input: $i) { id } }`, { p: ids.W, i: input });
  trail.push({ action: 'ProfileUpdated', company, personal: true });
}

async function grantWorker(who: Who, company: 'A' | 'B' | null) {
  await okAs(stack, headers(who), `mutation($p: ID!) { grantLicense(input: {profileId: $p, type: "Rigger", number: "R", expiresOn: "2031-01-01"}) { id } }`, { p: ids.W });
  trail.push({ action: 'LicenseGranted', company, personal: false });
}

beforeAll(async () => {
  stack = await startTestStack('vispaging');
  const offering = (await admin(`mutation { createOffering(input: {code: "PAGING", name: "Paging"}) { id } }`)).createOffering.id;
  for (const [key, taxRut] of [['A', rut(76_400_001)], ['B', rut(76_400_002)]] as const) {
    ids[key] = (await admin(`mutation($r: String!, $n: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { r: taxRut, n: `Paging ${key}` })).registerCompany.id;
    await admin(`mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 20}) { id } }`, { c: ids[key], o: offering });
  }
  // Projects of A and B interleaved: A1 B1 A2 B2 ... A6.
  for (let i = 1; i <= 6; i++) {
    for (const company of i <= 5 ? (['A', 'B'] as const) : (['A'] as const)) {
      const id = (await admin(`mutation($c: ID!, $f: String!) { createProject(input: {companyId: $c, name: "P", faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, {
        c: ids[company],
        f: `PG-${company}${i}`,
      })).createProject.id;
      projects.push({ id, company });
      ids[`${company}${i}`] = id;
    }
  }
  const person = async (key: string, body: number) =>
    (ids[key] = (await admin(`mutation($r: String!, $n: String!) { createProfile(input: {rut: $r, firstName: $n, lastName: "Paging"}) { id } }`, { r: rut(body), n: key }))
      .createProfile.id);
  for (const [i, key] of ['S1', 'S2', 'S3', 'S4', 'S5', 'W'].entries()) await person(key, 18_400_001 + i);
  trail.push({ action: 'ProfileCreated', company: null, personal: false });
  // A's employees S1 S2 S3 W S4, B's S5 W: the worker comes after a page of others.
  await hire('S1', 'A');
  await hire('S5', 'B');
  await hire('S2', 'A');
  await hire('S3', 'A');
  await hire('W', 'A');
  await hire('W', 'B');
  await hire('S4', 'A');

  // Five assignments on A1; the worker is on the 2nd and 4th. Also on A2, A5 and B3.
  for (let i = 1; i <= 5; i++) assignmentsOfA1.push({ id: await createAssignment(ids.A1), worker: i === 2 || i === 4 });
  await assignWorker(assignmentsOfA1[1].id, ids.A1);
  await assignWorker(await createAssignment(ids.B3), ids.B3);
  await assignWorker(assignmentsOfA1[3].id, ids.A1);
  await updateWorker('managerA', { phone: '+56 9 1000 0001' }, 'A');
  await updateWorker('managerB', { phone: '+56 9 2000 0002' }, 'B');
  await assignWorker(await createAssignment(ids.A2), ids.A2);
  await grantWorker('managerB', 'B');
  // An ADMIN's change carries the latest personal data, recorded by others: no company sees it.
  await updateWorker('admin', { firstName: 'Wanda' }, null);
  await assignWorker(await createAssignment(ids.A5), ids.A5);
  await grantWorker('admin', null);
  await updateWorker('managerA', { email: 'w@a.example' }, 'A');
});
afterAll(async () => stack?.stop());

interface Connection {
  nodes: Record<string, any>[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * Walks every page (PAGE rows each) of the connection `pick` finds in the answer, checking
 * each page against the rows still expected; returns the ids seen. Null when `pick` finds
 * no connection (the parent is not visible to the caller).
 */
async function walk(who: Who, query: string, variables: Record<string, unknown>, pick: (data: any) => Connection | null, idOf: (node: any) => string, expected: string[]) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const connection = pick(await okAs(stack, headers(who), query, { ...variables, first: PAGE, after }));
    if (connection === null) return null;
    // A full page while rows remain, and hasNextPage exactly when some remain after it.
    const want = Math.max(0, Math.min(PAGE, expected.length - seen.length));
    seen.push(...connection.nodes.map(idOf));
    expect({ page, nodes: connection.nodes.length, hasNextPage: connection.pageInfo.hasNextPage }).toEqual({
      page,
      nodes: want,
      hasNextPage: seen.length < expected.length,
    });
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  expect(new Set(seen).size).toBe(seen.length);
  return seen;
}

const byId = (n: { id: string }) => n.id;

describe.each(WHO)('paging as %s', (who) => {
  const company = (c: 'A' | 'B') => (who === 'admin' || who === 'worker' || who === `manager${c}`);

  it('projects: top level, and a company’s', async () => {
    const visible = (p: { id: string; company: 'A' | 'B' }) =>
      who === 'admin' || who === `manager${p.company}` || (who === 'worker' && workerProjects.has(p.id));
    const top = await walk(who, `query($first: Int, $after: String) { projects(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`, {},
      (d) => d.projects, byId, projects.filter(visible).map((p) => p.id));
    expect(top).toEqual(projects.filter(visible).map((p) => p.id));

    for (const c of ['A', 'B'] as const) {
      const expected = projects.filter((p) => p.company === c && visible(p)).map((p) => p.id);
      const nested = await walk(who, `query($c: ID!, $first: Int, $after: String) { company(id: $c) { projects(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }`,
        { c: ids[c] }, (d) => d.company?.projects ?? null, byId, expected);
      expect(nested).toEqual(company(c) ? expected : null);
    }
  });

  it('a company’s employees', async () => {
    for (const c of ['A', 'B'] as const) {
      const expected = who === 'worker' ? [ids.W] : employees[c];
      const seen = await walk(who, `query($c: ID!, $first: Int, $after: String) { company(id: $c) { employees(first: $first, after: $after) { nodes { profile { id } } pageInfo { hasNextPage endCursor } } } }`,
        { c: ids[c] }, (d) => d.company?.employees ?? null, (n) => n.profile.id, expected);
      expect(seen).toEqual(company(c) ? expected : null);
    }
  });

  it('a project’s assignments', async () => {
    const expected = assignmentsOfA1.filter((a) => who !== 'worker' || a.worker).map((a) => a.id);
    const seen = await walk(who, `query($p: ID!, $first: Int, $after: String) { project(id: $p) { assignments(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }`,
      { p: ids.A1 }, (d) => d.project?.assignments ?? null, byId, expected);
    expect(seen).toEqual(who === 'managerB' ? null : expected);
  });

  it('the audit trail of a profile both companies employ, top level and on the profile', async () => {
    // The whole trail as an ADMIN reads it, matched with what was written, entry by entry.
    const all = (await admin(`query($e: ID!) { auditTrail(entityId: $e, first: 100) { nodes { eventId action } } }`, { e: ids.W })).auditTrail.nodes;
    expect(all.map((n: { action: string }) => n.action)).toEqual(trail.map((t) => t.action));
    const manager = who === 'managerA' ? 'A' : who === 'managerB' ? 'B' : null;
    const expected = all
      .filter((_: unknown, i: number) => manager === null || trail[i].company === manager || (trail[i].company === null && !trail[i].personal))
      .map((n: { eventId: string }) => n.eventId);
    expect(expected.length).toBeGreaterThan(PAGE);
    const top = await walk(who, `query($e: ID!, $first: Int, $after: String) { auditTrail(entityId: $e, first: $first, after: $after) { nodes { eventId } pageInfo { hasNextPage endCursor } } }`,
      { e: ids.W }, (d) => d.auditTrail, (n) => n.eventId, expected);
    expect(top).toEqual(expected);
    const nested = await walk(who, `query($p: ID!, $first: Int, $after: String) { profile(id: $p) { auditTrail(first: $first, after: $after) { nodes { eventId } pageInfo { hasNextPage endCursor } } } }`,
      { p: ids.W }, (d) => d.profile.auditTrail, (n) => n.eventId, expected);
    expect(nested).toEqual(expected);
  });

  it('profiles', async () => {
    const everyone = ['S1', 'S2', 'S3', 'S4', 'S5', 'W'].map((k) => ids[k]);
    const expected = { admin: everyone, managerA: everyone.filter((id) => employees.A.includes(id)), managerB: everyone.filter((id) => employees.B.includes(id)), worker: [ids.W] }[who];
    const seen = await walk(who, `query($first: Int, $after: String) { profiles(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`, {},
      (d) => d.profiles, byId, expected);
    expect(seen).toEqual(expected);
  });
});
