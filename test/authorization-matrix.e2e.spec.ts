import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { eventCount, rut } from './support/workforce.ts';

/**
 * One set of operations through the gateway as ADMIN, MANAGER of company A, MANAGER of
 * company B, a WORKER (employed by A) and anonymous: exactly what each sees and may change.
 * Identities come from the development headers, which the gateway turns into the same
 * signed identity a CIAM token gives.
 */
let stack: TestStack;
const ids: Record<string, string> = {};

type Who = 'admin' | 'managerA' | 'managerB' | 'worker' | 'anon';
const WHO: Who[] = ['admin', 'managerA', 'managerB', 'worker', 'anon'];

function headersFor(who: Who): Record<string, string> {
  switch (who) {
    case 'admin':
      return { 'x-angelis-dev-user': 'admin@angelis.test' };
    case 'managerA':
      return { 'x-angelis-dev-user': 'ma@a.test', 'x-angelis-dev-role': 'MANAGER', 'x-angelis-dev-company': ids.A };
    case 'managerB':
      return { 'x-angelis-dev-user': 'mb@b.test', 'x-angelis-dev-role': 'MANAGER', 'x-angelis-dev-company': ids.B };
    case 'worker':
      return { 'x-angelis-dev-user': 'w', 'x-angelis-dev-role': 'WORKER', 'x-angelis-dev-profile': ids.worker };
    case 'anon':
      return {};
  }
}

async function as(who: Who, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headersFor(who) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function admin(query: string, variables: Record<string, unknown> = {}) {
  const res = await as('admin', query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data;
}

const codeOf = (res: { errors?: { extensions?: { code?: string } }[] }) => res.errors?.[0]?.extensions?.code ?? 'OK';

beforeAll(async () => {
  stack = await startTestStack('authz');
  const offering = (await admin(`mutation { createOffering(input: {code: "AUTHZ", name: "Authz"}) { id } }`)).createOffering.id;
  for (const [key, name, taxRut] of [['A', 'Alpha SpA', rut(76_100_001)], ['B', 'Beta SpA', rut(76_100_002)]]) {
    ids[key] = (await admin(`mutation($n: String!, $r: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { n: name, r: taxRut })).registerCompany.id;
    await admin(`mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 10}) { id } }`, { c: ids[key], o: offering });
    ids[`project${key}`] = (
      await admin(`mutation($c: ID!, $f: String!) { createProject(input: {companyId: $c, name: "P", faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, { c: ids[key], f: `AZ${key}` })
    ).createProject.id;
    ids[`assignment${key}`] = (
      await admin(`mutation($p: ID!) { createAssignment(input: {projectId: $p, name: "Turno", startsOn: "2026-02-01"}) { id } }`, { p: ids[`project${key}`] })
    ).createAssignment.id;
  }
  // Each person is recorded by the manager of the company that first employs them: their
  // personal data is that company's record.
  const person = async (key: string, body: number, by: Who) => {
    const res = await as(by, `mutation($r: String!, $n: String!) { createProfile(input: {rut: $r, firstName: $n, lastName: "Test", phone: "+56 9 1234 5678", birthDate: "1990-01-01"}) { id } }`, {
      r: rut(body),
      n: key,
    });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    ids[key] = res.data.createProfile.id;
  };
  const hire = (p: string, c: string) => admin(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids[c], p: ids[p] });
  await person('staffA', 15_000_001, 'managerA');
  await person('worker', 15_000_002, 'managerA');
  await person('staffB', 15_000_003, 'managerB');
  await person('former', 15_000_004, 'managerA');
  await hire('staffA', 'A');
  await hire('worker', 'A');
  await hire('staffB', 'B');
  await hire('former', 'A');
  await admin(`mutation($c: ID!, $p: ID!) { endEmployment(companyId: $c, profileId: $p) { status } }`, { c: ids.A, p: ids.former });
  await hire('former', 'B');
  await admin(`mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`, { a: ids.assignmentA, p: ids.worker });
  for (const p of ['staffA', 'worker', 'staffB']) {
    await admin(`mutation($p: ID!) { grantLicense(input: {profileId: $p, type: "Rigger", number: "R", expiresOn: "2030-01-01"}) { id } }`, { p: ids[p] });
  }
});
afterAll(async () => stack?.stop());

describe('what each caller sees', () => {
  it('companies', async () => {
    const q = `{ companies(first: 50) { nodes { id } } }`;
    const seen = async (who: Who) => {
      const res = await as(who, q);
      return res.errors ? codeOf(res) : res.data.companies.nodes.map((c: { id: string }) => c.id).sort();
    };
    expect(await seen('admin')).toEqual([ids.A, ids.B].sort());
    expect(await seen('managerA')).toEqual([ids.A]);
    expect(await seen('managerB')).toEqual([ids.B]);
    expect(await seen('worker')).toEqual([ids.A]);
    expect(await seen('anon')).toBe('UNAUTHENTICATED');
  });

  it('a company, project and profile by id: another company’s is simply absent', async () => {
    const q = `query($c: ID!, $p: ID!, $pr: ID!) { company(id: $c) { id } project(id: $p) { id } profile(id: $pr) { id } }`;
    const vars = { c: ids.B, p: ids.projectB, pr: ids.staffB };
    const seen = async (who: Who) => {
      const res = await as(who, q, vars);
      return res.errors ? codeOf(res) : [res.data.company?.id ?? null, res.data.project?.id ?? null, res.data.profile?.id ?? null];
    };
    expect(await seen('admin')).toEqual([ids.B, ids.projectB, ids.staffB]);
    expect(await seen('managerA')).toEqual([null, null, null]);
    expect(await seen('managerB')).toEqual([ids.B, ids.projectB, ids.staffB]);
    expect(await seen('worker')).toEqual([null, null, null]);
    expect(await seen('anon')).toBe('UNAUTHENTICATED');
  });

  it('lists of projects, profiles and licences are confined to the caller', async () => {
    const q = `{ projects(first: 50) { nodes { id } } profiles(first: 50) { nodes { id } } licenses(first: 50) { nodes { profile { id } } } }`;
    const seen = async (who: Who) => {
      const d = (await as(who, q)).data;
      return {
        projects: d.projects.nodes.map((n: { id: string }) => n.id).sort(),
        profiles: d.profiles.nodes.map((n: { id: string }) => n.id).sort(),
        licences: d.licenses.nodes.map((n: { profile: { id: string } }) => n.profile.id).sort(),
      };
    };
    expect(await seen('admin')).toEqual({
      projects: [ids.projectA, ids.projectB].sort(),
      profiles: [ids.staffA, ids.worker, ids.staffB, ids.former].sort(),
      licences: [ids.staffA, ids.worker, ids.staffB].sort(),
    });
    // A manager's people are those working for the company now (the former employee left).
    expect(await seen('managerA')).toEqual({ projects: [ids.projectA], profiles: [ids.staffA, ids.worker].sort(), licences: [ids.staffA, ids.worker].sort() });
    expect(await seen('managerB')).toEqual({ projects: [ids.projectB], profiles: [ids.staffB, ids.former].sort(), licences: [ids.staffB] });
    expect(await seen('worker')).toEqual({ projects: [ids.projectA], profiles: [ids.worker], licences: [ids.worker] });
  });

  it('asking for another company by filter is FORBIDDEN for a manager', async () => {
    const res = await as('managerA', `query($c: ID!) { projects(companyId: $c) { nodes { id } } }`, { c: ids.B });
    expect(codeOf(res)).toBe('FORBIDDEN');
  });

  it('offerings and subscriptions: not for workers; a manager sees their company’s subscriptions only', async () => {
    const q = `{ offerings { code } subscriptions { company { id } } }`;
    expect(codeOf(await as('worker', q))).toBe('FORBIDDEN');
    const a = (await as('managerA', q)).data;
    expect(a.subscriptions.map((s: { company: { id: string } }) => s.company.id)).toEqual([ids.A]);
    expect(a.offerings.map((o: { code: string }) => o.code)).toContain('AUTHZ');
    expect((await as('admin', q)).data.subscriptions.length).toBeGreaterThanOrEqual(2);
  });

  it('a former employee stays visible to the old employer, with no personal fields and no other company’s data', async () => {
    const q = `query($p: ID!) { profile(id: $p) { id phone birthDate companies { company { id } status } auditTrail(first: 50) { nodes { action } } } }`;
    const byA = (await as('managerA', q, { p: ids.former })).data.profile;
    expect(byA).toMatchObject({ id: ids.former, phone: null, birthDate: null });
    expect(byA.companies).toEqual([{ company: { id: ids.A }, status: 'ENDED' }]);
    // Its trail shows A's recording, hiring and ending, not B's hiring.
    expect(byA.auditTrail.nodes.map((n: { action: string }) => n.action)).toEqual(['ProfileCreated', 'ProfileHired', 'EmploymentEnded']);
    // The new employer sees none of what A recorded: not the phone, not A's history.
    const byB = (await as('managerB', q, { p: ids.former })).data.profile;
    expect(byB).toMatchObject({ phone: null, birthDate: null });
    expect(byB.companies).toEqual([{ company: { id: ids.B }, status: 'ACTIVE' }]);
    expect(byB.auditTrail.nodes.map((n: { action: string }) => n.action)).toEqual(['ProfileHired']);
    // What A recorded is B's to see only once B records it.
    const own = (await as('managerB', `query($p: ID!) { profile(id: $p) { phone } }`, { p: ids.staffB })).data.profile;
    expect(own).toEqual({ phone: '+56 9 1234 5678' });
  });

  it('a worker sees their own profile whole, and nobody else’s', async () => {
    const q = `query($me: ID!, $other: ID!) { me: profile(id: $me) { phone licenses { type } assignments { assignment { id } } } other: profile(id: $other) { id } }`;
    const res = (await as('worker', q, { me: ids.worker, other: ids.staffA })).data;
    expect(res.me).toEqual({ phone: '+56 9 1234 5678', licenses: [{ type: 'Rigger' }], assignments: [{ assignment: { id: ids.assignmentA } }] });
    expect(res.other).toBeNull();
  });

  it('audit trails: ADMIN any, a manager their company’s, a worker only their own profile', async () => {
    const q = `query($e: ID!) { auditTrail(entityId: $e) { nodes { action } } }`;
    const code = async (who: Who, e: string) => codeOf(await as(who, q, { e }));
    expect([await code('admin', ids.A), await code('managerA', ids.A), await code('managerB', ids.A), await code('worker', ids.A), await code('anon', ids.A)]).toEqual([
      'OK', 'OK', 'FORBIDDEN', 'FORBIDDEN', 'UNAUTHENTICATED',
    ]);
    expect([await code('worker', ids.worker), await code('worker', ids.staffA)]).toEqual(['OK', 'FORBIDDEN']);
  });
});

describe('what each caller may change (a refusal writes nothing)', () => {
  const cases: [string, string, () => Record<string, unknown>, Record<Who, string>][] = [
    [
      'registerCompany',
      `mutation($r: String!) { registerCompany(input: {name: "New", taxRut: $r}) { id } }`,
      () => ({ r: rut(76_100_000 + Math.floor(Math.random() * 80_000)) }),
      { admin: 'OK', managerA: 'FORBIDDEN', managerB: 'FORBIDDEN', worker: 'FORBIDDEN', anon: 'UNAUTHENTICATED' },
    ],
    [
      'createProject in company B',
      `mutation($c: ID!, $f: String!) { createProject(input: {companyId: $c, name: "X", faenaCode: $f, startsOn: "2026-01-01"}) { id } }`,
      () => ({ c: ids.B, f: `X${Math.floor(Math.random() * 1e9)}` }),
      { admin: 'OK', managerA: 'FORBIDDEN', managerB: 'OK', worker: 'FORBIDDEN', anon: 'UNAUTHENTICATED' },
    ],
    [
      'grantLicense to a person of company B',
      `mutation($p: ID!) { grantLicense(input: {profileId: $p, type: "X", number: "1", expiresOn: "2031-01-01"}) { id } }`,
      () => ({ p: ids.staffB }),
      { admin: 'OK', managerA: 'FORBIDDEN', managerB: 'OK', worker: 'FORBIDDEN', anon: 'UNAUTHENTICATED' },
    ],
    [
      'updateProfile of the former employee of A (now at B)',
      `mutation($p: ID!) { updateProfile(id: $p, input: {lastName: "Changed"}) { id } }`,
      () => ({ p: ids.former }),
      { admin: 'OK', managerA: 'FORBIDDEN', managerB: 'OK', worker: 'FORBIDDEN', anon: 'UNAUTHENTICATED' },
    ],
    [
      'assignProfile on a project of company A',
      `mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`,
      () => ({ a: ids.assignmentA, p: ids.staffA }),
      { admin: 'FIRST', managerA: 'OK_OR_CONFLICT', managerB: 'FORBIDDEN', worker: 'FORBIDDEN', anon: 'UNAUTHENTICATED' },
    ],
  ];

  it.each(cases)('%s', async (_name, mutation, variables, expected) => {
    for (const who of WHO) {
      const before = await eventCount(stack);
      const res = await as(who, mutation, variables());
      const code = codeOf(res);
      const want = expected[who];
      if (want === 'FIRST') expect(code).toBe('OK');
      else if (want === 'OK_OR_CONFLICT') expect(['OK', 'CONFLICT']).toContain(code);
      else expect(`${who}: ${code}`).toBe(`${who}: ${want}`);
      if (code !== 'OK') expect(await eventCount(stack)).toBe(before);
    }
  });
});
