import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { client, daysFromToday, eventCount, rut, rutSpellings, today } from './support/workforce.ts';

/**
 * Issue 2's user-facing behaviour through the gateway: every query and mutation of the
 * Workforce schema and the rules users rely on. One stack for the file; tests build on
 * each other's data in order, each with its own companies/profiles where it counts rows.
 */

let stack: TestStack;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  stack = await startTestStack('wfapi');
  api = client(stack);
});
afterAll(async () => stack?.stop());

const ALICE = 'alice@angelis.test';
const BOB = 'bob@angelis.test';

// --- operations -------------------------------------------------------------------------

const REGISTER = `mutation($input: RegisterCompanyInput!) {
  registerCompany(input: $input) { id name taxRut status version createdAt seats activeProfileCount }
}`;
const CREATE_OFFERING = `mutation($input: CreateOfferingInput!) { createOffering(input: $input) { id code name description } }`;
const SUBSCRIBE = `mutation($input: SubscribeInput!, $v: Int) {
  subscribe(input: $input, expectedVersion: $v) { id seats startsOn endsOn status cancelledOn company { id } offering { id code } }
}`;
const CANCEL = `mutation($id: ID!, $reason: String, $v: Int) { cancelSubscription(id: $id, reason: $reason, expectedVersion: $v) { id status cancelledOn } }`;
const CREATE_PROJECT = `mutation($input: CreateProjectInput!) {
  createProject(input: $input) { id faenaCode name location startsOn endsOn status closedOn version company { id name } }
}`;
const CLOSE_PROJECT = `mutation($id: ID!, $v: Int) { closeProject(id: $id, expectedVersion: $v) { id status closedOn version } }`;
const CREATE_ASSIGNMENT = `mutation($input: CreateAssignmentInput!, $v: Int) {
  createAssignment(input: $input, expectedVersion: $v) { id name startsOn endsOn status project { id faenaCode } }
}`;
const CREATE_PROFILE = `mutation($input: CreateProfileInput!) {
  createProfile(input: $input) { id rut firstName lastName fullName email phone birthDate version createdBy { id } createdAt updatedAt }
}`;
const UPDATE_PROFILE = `mutation($id: ID!, $input: UpdateProfileInput!, $v: Int) {
  updateProfile(id: $id, input: $input, expectedVersion: $v) { id firstName lastName fullName email phone birthDate version }
}`;
const HIRE = `mutation($input: HireProfileInput!, $v: Int) {
  hireProfile(input: $input, expectedVersion: $v) { profile { id } company { id } position startedOn endedOn status supervisor { id } }
}`;
const END_EMPLOYMENT = `mutation($companyId: ID!, $profileId: ID!, $endedOn: Date, $v: Int) {
  endEmployment(companyId: $companyId, profileId: $profileId, endedOn: $endedOn, expectedVersion: $v) { status endedOn }
}`;
const SET_SUPERVISOR = `mutation($companyId: ID!, $profileId: ID!, $supervisorId: ID, $v: Int) {
  setSupervisor(companyId: $companyId, profileId: $profileId, supervisorId: $supervisorId, expectedVersion: $v) {
    profile { id } supervisor { id } status
  }
}`;
const ASSIGN = `mutation($assignmentId: ID!, $profileId: ID!, $v: Int) {
  assignProfile(assignmentId: $assignmentId, profileId: $profileId, expectedVersion: $v) {
    status assignedAt unassignedAt profile { id } assignment { id }
  }
}`;
const UNASSIGN = `mutation($assignmentId: ID!, $profileId: ID!, $v: Int) {
  unassignProfile(assignmentId: $assignmentId, profileId: $profileId, expectedVersion: $v) { status assignedAt unassignedAt }
}`;
const GRANT = `mutation($input: GrantLicenseInput!, $v: Int) {
  grantLicense(input: $input, expectedVersion: $v) { id type number issuedOn expiresOn status expiresInDays revokedOn profile { id } }
}`;
const RENEW = `mutation($id: ID!, $expiresOn: Date!, $v: Int) { renewLicense(id: $id, expiresOn: $expiresOn, expectedVersion: $v) { id expiresOn status expiresInDays } }`;
const REVOKE = `mutation($id: ID!, $reason: String, $v: Int) { revokeLicense(id: $id, reason: $reason, expectedVersion: $v) { id status revokedOn } }`;
const AUDIT = `query($id: ID!, $first: Int, $after: String) {
  auditTrail(entityId: $id, first: $first, after: $after) {
    nodes { position eventId action streamId actorId actorKind correlationId occurredAt data }
    pageInfo { hasNextPage endCursor }
  }
}`;

// --- fixtures ---------------------------------------------------------------------------

let nextRut = 20_000_000;
let nextFaena = 0;
const freshRut = () => rut(++nextRut);
const freshFaena = () => `F-${process.pid % 1000}-${++nextFaena}`;

async function registerCompany(name: string, user = ALICE) {
  return (await api.ok(REGISTER, { input: { name, taxRut: freshRut() } }, user)).registerCompany;
}
let offeringId: string;
async function offering() {
  if (!offeringId) offeringId = (await api.ok(CREATE_OFFERING, { input: { code: 'base', name: 'Base plan' } })).createOffering.id;
  return offeringId;
}
async function subscribe(companyId: string, seats: number, extra: Record<string, unknown> = {}) {
  return (await api.ok(SUBSCRIBE, { input: { companyId, offeringId: await offering(), seats, ...extra } })).subscribe;
}
async function createProfile(firstName: string, lastName: string, extra: Record<string, unknown> = {}, user = ALICE) {
  return (await api.ok(CREATE_PROFILE, { input: { rut: freshRut(), firstName, lastName, ...extra } }, user)).createProfile;
}
async function hire(companyId: string, profileId: string, extra: Record<string, unknown> = {}) {
  return (await api.ok(HIRE, { input: { companyId, profileId, ...extra } })).hireProfile;
}
async function createProject(companyId: string, extra: Record<string, unknown> = {}) {
  return (await api.ok(CREATE_PROJECT, { input: { companyId, name: 'Faena', faenaCode: freshFaena(), startsOn: '2024-01-01', ...extra } }))
    .createProject;
}
/** A company with `seats` seats and `n` hired profiles. */
async function staffedCompany(name: string, seats: number, people: string[]) {
  const company = await registerCompany(name);
  await subscribe(company.id, seats);
  const profiles = [];
  for (const p of people) {
    const profile = await createProfile(p, 'Staff');
    await hire(company.id, profile.id);
    profiles.push(profile);
  }
  return { company, profiles };
}

// --- companies, offerings, subscriptions ------------------------------------------------

describe('companies, offerings and subscriptions', () => {
  it('registerCompany normalises the tax RUT; company(id) and companies read it back', async () => {
    const taxRut = freshRut();
    const { registerCompany: c } = await api.ok(REGISTER, { input: { name: '  Minera Atacama  ', taxRut: rutSpellings(taxRut).dotted } });
    expect(c).toMatchObject({ name: 'Minera Atacama', taxRut, status: 'ACTIVE', version: 1, seats: 0, activeProfileCount: 0 });
    expect(Date.parse(c.createdAt)).toBeGreaterThan(Date.now() - 60_000);

    const { company } = await api.ok(`query($id: ID!) { company(id: $id) { id name taxRut version } }`, { id: c.id });
    expect(company).toEqual({ id: c.id, name: 'Minera Atacama', taxRut, version: 1 });

    const { companies } = await api.ok(`{ companies(first: 100) { nodes { id } } }`);
    expect(companies.nodes.map((n: { id: string }) => n.id)).toContain(c.id);
  });

  it('companies(search) matches part of the name ignoring case', async () => {
    const c = await registerCompany('Constructora Ñuble Sur');
    const search = async (s: string) =>
      (await api.ok(`query($s: String) { companies(search: $s) { nodes { id } } }`, { s })).companies.nodes.map((n: { id: string }) => n.id);
    expect(await search('ñuble')).toEqual([c.id]);
    expect(await search('CONSTRUCTORA ÑUBLE')).toEqual([c.id]);
    expect(await search('Ñuble Norte')).toEqual([]);
  });

  it('a second company with the same tax RUT, in another spelling, is a CONFLICT and writes nothing', async () => {
    const taxRut = freshRut();
    await api.ok(REGISTER, { input: { name: 'First', taxRut } });
    const before = await eventCount(stack);
    const { error } = await api.fail(REGISTER, { input: { name: 'Second', taxRut: rutSpellings(taxRut).plain } });
    expect(error.extensions?.code).toBe('CONFLICT');
    expect(error.message).toMatch(/tax RUT is already registered/);
    expect(await eventCount(stack)).toBe(before);
  });

  it('createOffering upper-cases the code; offerings lists it; a duplicate code is a CONFLICT', async () => {
    const { createOffering: o } = await api.ok(CREATE_OFFERING, { input: { code: 'safety-pro', name: 'Safety Pro', description: 'Forms and anomalies' } });
    expect(o).toMatchObject({ code: 'SAFETY-PRO', name: 'Safety Pro', description: 'Forms and anomalies' });
    const { offerings } = await api.ok(`{ offerings { id code name description } }`);
    expect(offerings).toContainEqual(o);
    const { error } = await api.fail(CREATE_OFFERING, { input: { code: 'SAFETY-PRO', name: 'Again' } });
    expect(error.extensions?.code).toBe('CONFLICT');
  });

  it('subscribe starts today by default and adds seats; cancelSubscription takes them away', async () => {
    const c = await registerCompany('Subscriber');
    const s1 = await subscribe(c.id, 3);
    expect(s1).toMatchObject({ seats: 3, startsOn: today(), endsOn: null, status: 'ACTIVE', cancelledOn: null, company: { id: c.id }, offering: { code: 'BASE' } });
    const s2 = await subscribe(c.id, 4, { startsOn: daysFromToday(-10), endsOn: daysFromToday(10) });
    const future = await subscribe(c.id, 50, { startsOn: daysFromToday(1) });
    const expired = await subscribe(c.id, 70, { startsOn: daysFromToday(-30), endsOn: daysFromToday(-1) });
    expect(expired.status).toBe('EXPIRED');

    const seatsOf = async () => (await api.ok(`query($id: ID!) { company(id: $id) { seats version } }`, { id: c.id })).company;
    expect(await seatsOf()).toEqual({ seats: 7, version: 5 });

    const { cancelSubscription } = await api.ok(CANCEL, { id: s2.id, reason: 'budget' });
    expect(cancelSubscription).toEqual({ id: s2.id, status: 'CANCELLED', cancelledOn: today() });
    expect(await seatsOf()).toEqual({ seats: 3, version: 6 });

    const { error } = await api.fail(CANCEL, { id: s2.id });
    expect(error.extensions?.code).toBe('CONFLICT');

    const q = `query($c: ID!, $s: SubscriptionStatus) {
      subscriptions(companyId: $c, status: $s) { id }
      company(id: $c) { all: subscriptions { id } cancelled: subscriptions(status: CANCELLED) { id } }
    }`;
    const all = await api.ok(q, { c: c.id });
    expect(all.subscriptions.map((x: { id: string }) => x.id)).toEqual([s1.id, s2.id, future.id, expired.id]);
    expect(all.company.all).toEqual(all.subscriptions);
    expect(all.company.cancelled).toEqual([{ id: s2.id }]);
    expect((await api.ok(q, { c: c.id, s: 'EXPIRED' })).subscriptions).toEqual([{ id: expired.id }]);
    expect((await api.ok(q, { c: c.id, s: 'ACTIVE' })).subscriptions).toEqual([{ id: s1.id }]);
    // Not started yet: listed as SCHEDULED, and its 50 seats were not counted above.
    expect((await api.ok(q, { c: c.id, s: 'SCHEDULED' })).subscriptions).toEqual([{ id: future.id }]);
  });
});

// --- profiles ---------------------------------------------------------------------------

describe('profiles', () => {
  it('createProfile normalises the RUT and records the creating user; profile(id) reads it back', async () => {
    const r = freshRut();
    const { createProfile: p } = await api.ok(
      CREATE_PROFILE,
      { input: { rut: rutSpellings(r).dotted, firstName: 'Ana', lastName: 'Pérez', email: 'Ana@Mina.CL', phone: '+56 9 1234 5678', birthDate: '1990-04-01' } },
      BOB,
    );
    expect(p).toMatchObject({
      rut: r, firstName: 'Ana', lastName: 'Pérez', fullName: 'Ana Pérez', email: 'ana@mina.cl', phone: '+56 9 1234 5678',
      birthDate: '1990-04-01', version: 1, createdBy: { id: BOB },
    });
    const { profile } = await api.ok(`query($id: ID) { profile(id: $id) { id rut fullName createdBy { id } } }`, { id: p.id });
    expect(profile).toEqual({ id: p.id, rut: r, fullName: 'Ana Pérez', createdBy: { id: BOB } });
  });

  it('profile(rut) finds the profile from any common spelling of its RUT', async () => {
    const p = await createProfile('Rut', 'Lookup');
    const { dotted, dashed, plain } = rutSpellings(p.rut);
    expect(dotted).toMatch(/^\d{2}\.\d{3}\.\d{3}-[\dK]$/);
    for (const spelling of [dotted, dashed, plain, ` ${dotted} `, dashed.toLowerCase()]) {
      const { profile } = await api.ok(`query($r: String) { profile(rut: $r) { id rut } }`, { r: spelling });
      expect(profile, spelling).toEqual({ id: p.id, rut: p.rut });
    }
    const { profile: none } = await api.ok(`query($r: String) { profile(rut: $r) { id } }`, { r: freshRut() });
    expect(none).toBeNull();
  });

  it('a RUT with a K check digit works end to end', async () => {
    // 10000013-K: its check digit is worked out by hand in rut.unit.spec.ts.
    const { createProfile: p } = await api.ok(CREATE_PROFILE, { input: { rut: '10.000.013-k', firstName: 'Kappa', lastName: 'Digit' } });
    expect(p.rut).toBe('10000013-K');
    expect((await api.ok(`{ profile(rut: "10000013K") { id } }`)).profile).toEqual({ id: p.id });
  });

  it('a second profile with the same RUT, in another spelling, is a CONFLICT and writes nothing', async () => {
    const p = await createProfile('Uno', 'Solo');
    const before = await eventCount(stack);
    const { error } = await api.fail(CREATE_PROFILE, { input: { rut: rutSpellings(p.rut).plain, firstName: 'Dos', lastName: 'Copia' } });
    expect(error.extensions?.code).toBe('CONFLICT');
    expect(error.message).toMatch(/RUT already exists/);
    expect(await eventCount(stack)).toBe(before);
  });

  it('a wrong RUT check digit is refused with a message that says so', async () => {
    const { error } = await api.fail(CREATE_PROFILE, { input: { rut: '12.345.678-9', firstName: 'X', lastName: 'Y' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rut' });
    expect(error.message).toMatch(/wrong check digit \(expected 5\)/);
  });

  it('updateProfile keeps fields left out, clears fields set to null, bumps the version; a no-op changes nothing', async () => {
    const p = await createProfile('Luis', 'Rojas', { email: 'luis@mina.cl', phone: '+56 2 2345 6789', birthDate: '1985-01-02' });
    const u1 = (await api.ok(UPDATE_PROFILE, { id: p.id, input: { lastName: 'Rojas Vidal' } })).updateProfile;
    expect(u1).toEqual({
      id: p.id, firstName: 'Luis', lastName: 'Rojas Vidal', fullName: 'Luis Rojas Vidal', email: 'luis@mina.cl', phone: '+56 2 2345 6789',
      birthDate: '1985-01-02', version: 2,
    });
    const u2 = (await api.ok(UPDATE_PROFILE, { id: p.id, input: { email: null, birthDate: null } })).updateProfile;
    expect(u2).toMatchObject({ lastName: 'Rojas Vidal', email: null, phone: '+56 2 2345 6789', birthDate: null, version: 3 });

    const before = await eventCount(stack);
    const u3 = (await api.ok(UPDATE_PROFILE, { id: p.id, input: { firstName: 'Luis' } })).updateProfile;
    expect(u3.version).toBe(3);
    expect(await eventCount(stack)).toBe(before);
  });

  it('profiles(search) matches any part of the full name ignoring case, and treats LIKE wildcards literally', async () => {
    const tag = `Zq${process.pid}`;
    const a = await createProfile(`María ${tag}`, 'Núñez');
    const b = await createProfile(`José ${tag}`, 'Núñez');
    const pct = await createProfile(`Cien ${tag}`, '100%Seguro');
    const under = await createProfile(`Snake ${tag}`, 'a_b');
    const search = async (s: string) =>
      (await api.ok(`query($s: String) { profiles(search: $s, first: 100) { nodes { id } } }`, { s })).profiles.nodes.map((n: { id: string }) => n.id);

    expect(await search(tag.toUpperCase())).toEqual([a.id, b.id, pct.id, under.id]);
    expect(await search(`maría ${tag.toLowerCase()} núñez`)).toEqual([a.id]);
    expect(await search(`${tag} NÚÑEZ`)).toEqual([a.id, b.id]);
    // Unescaped, "%" and "_" would match every profile.
    expect(await search('%')).toEqual([pct.id]);
    expect(await search('0%s')).toEqual([pct.id]);
    expect(await search('a_b')).toEqual([under.id]);
    expect(await search('_')).toEqual([under.id]);
    expect(await search('\\')).toEqual([]);
  });
});

// --- employment, seats, supervision -----------------------------------------------------

describe('employment, seats and supervision', () => {
  it("seats bound hires: the company's seats in force limit its active profiles; ending an employment frees a seat", async () => {
    const c = await registerCompany('Seats Ltda');
    await subscribe(c.id, 2);
    await subscribe(c.id, 40, { startsOn: daysFromToday(5) }); // not in force yet
    const [p1, p2, p3] = [await createProfile('One', 'Seat'), await createProfile('Two', 'Seat'), await createProfile('Three', 'Seat')];

    const h1 = await hire(c.id, p1.id, { position: 'Operator', startedOn: daysFromToday(-30) });
    expect(h1).toEqual({
      profile: { id: p1.id }, company: { id: c.id }, position: 'Operator', startedOn: daysFromToday(-30), endedOn: null, status: 'ACTIVE', supervisor: null,
    });
    expect((await hire(c.id, p2.id)).startedOn).toBe(today());

    const before = await eventCount(stack);
    const { error } = await api.fail(HIRE, { input: { companyId: c.id, profileId: p3.id } });
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/2 active profiles and 2 seats/);
    expect(await eventCount(stack)).toBe(before);

    const ended = await api.ok(END_EMPLOYMENT, { companyId: c.id, profileId: p1.id, endedOn: today() });
    expect(ended.endEmployment).toEqual({ status: 'ENDED', endedOn: today() });
    await hire(c.id, p3.id);

    const { company } = await api.ok(
      `query($id: ID!) { company(id: $id) {
        seats activeProfileCount
        active: employees(status: ACTIVE) { nodes { profile { id } } }
        ended: employees(status: ENDED) { nodes { profile { id } endedOn } }
      } }`,
      { id: c.id },
    );
    expect(company.seats).toBe(2);
    expect(company.activeProfileCount).toBe(2);
    expect(company.active.nodes.map((n: { profile: { id: string } }) => n.profile.id).sort()).toEqual([p2.id, p3.id].sort());
    expect(company.ended.nodes).toEqual([{ profile: { id: p1.id }, endedOn: today() }]);

    // Hiring the same active profile again is a conflict, not a second seat.
    expect((await api.fail(HIRE, { input: { companyId: c.id, profileId: p2.id } })).error.extensions?.code).toBe('CONFLICT');
  });

  it('a profile can work for several companies; profiles(companyId) lists only active employees', async () => {
    const { company: c1, profiles: [p, q] } = await staffedCompany('Multi Uno', 5, ['Pia', 'Quinn']);
    const { company: c2 } = await staffedCompany('Multi Dos', 5, []);
    await hire(c2.id, p.id, { position: 'Advisor' });
    await api.ok(END_EMPLOYMENT, { companyId: c1.id, profileId: q.id });

    const { profile } = await api.ok(`query($id: ID) { profile(id: $id) { companies { company { id } position status } active: companies(status: ACTIVE) { company { id } } } }`, { id: p.id });
    expect(profile.companies).toEqual([
      { company: { id: c1.id }, position: null, status: 'ACTIVE' },
      { company: { id: c2.id }, position: 'Advisor', status: 'ACTIVE' },
    ]);
    const ids = async (companyId: string) =>
      (await api.ok(`query($c: ID) { profiles(companyId: $c) { nodes { id } } }`, { c: companyId })).profiles.nodes.map((n: { id: string }) => n.id);
    expect(await ids(c1.id)).toEqual([p.id]);
    expect(await ids(c2.id)).toEqual([p.id]);
  });

  it('setSupervisor sets a supervisor that a profile sees in its companies, with the reports on the other side', async () => {
    const { company: c, profiles: [boss, mid, worker] } = await staffedCompany('Jerarquía', 5, ['Boss', 'Mid', 'Worker']);
    const set = (profileId: string, supervisorId: string | null) => api.ok(SET_SUPERVISOR, { companyId: c.id, profileId, supervisorId });
    expect((await set(mid.id, boss.id)).setSupervisor).toEqual({ profile: { id: mid.id }, supervisor: { id: boss.id }, status: 'ACTIVE' });
    await set(worker.id, mid.id);

    const q = `query($id: ID) { profile(id: $id) { companies { company { id } supervisor { id fullName } reports { id } } } }`;
    const midView = (await api.ok(q, { id: mid.id })).profile.companies[0];
    expect(midView).toEqual({ company: { id: c.id }, supervisor: { id: boss.id, fullName: 'Boss Staff' }, reports: [{ id: worker.id }] });
    expect((await api.ok(q, { id: boss.id })).profile.companies[0]).toMatchObject({ supervisor: null, reports: [{ id: mid.id }] });

    // Clearing with null.
    expect((await set(worker.id, null)).setSupervisor.supervisor).toBeNull();
    expect((await api.ok(q, { id: mid.id })).profile.companies[0].reports).toEqual([]);
  });

  it('refuses self-supervision and supervision cycles of two and three, writing nothing', async () => {
    const { company: c, profiles: [a, b, d] } = await staffedCompany('Ciclos', 5, ['Ana', 'Beto', 'Dora']);
    const set = (profileId: string, supervisorId: string | null) => api.ok(SET_SUPERVISOR, { companyId: c.id, profileId, supervisorId });
    const refuse = async (profileId: string, supervisorId: string, pattern: RegExp) => {
      const before = await eventCount(stack);
      const { error } = await api.fail(SET_SUPERVISOR, { companyId: c.id, profileId, supervisorId });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'supervisorId' });
      expect(error.message).toMatch(pattern);
      expect(await eventCount(stack)).toBe(before);
    };
    await refuse(a.id, a.id, /cannot supervise itself/);
    await set(a.id, b.id); // a -> b
    await refuse(b.id, a.id, /cycle/); // b -> a would close a -> b -> a
    await set(b.id, d.id); // a -> b -> d
    await refuse(d.id, a.id, /cycle/); // d -> a would close a -> b -> d -> a

    // Someone who does not work for the company cannot supervise.
    const outsider = await createProfile('Out', 'Sider');
    await refuse(a.id, outsider.id, /does not work for this company/);
  });

  it("ending the supervisor's employment leaves its reports without a supervisor", async () => {
    const { company: c, profiles: [boss, worker] } = await staffedCompany('Salida', 5, ['Jefa', 'Obrero']);
    await api.ok(SET_SUPERVISOR, { companyId: c.id, profileId: worker.id, supervisorId: boss.id });
    await api.ok(END_EMPLOYMENT, { companyId: c.id, profileId: boss.id });
    const { profile } = await api.ok(`query($id: ID) { profile(id: $id) { companies { supervisor { id } } } }`, { id: worker.id });
    expect(profile.companies).toEqual([{ supervisor: null }]);
  });
});

// --- projects and assignments -----------------------------------------------------------

describe('projects and assignments', () => {
  it('createProject upper-cases the faena code; project(id) and project(faenaCode) find it', async () => {
    const c = await registerCompany('Proyectos SA');
    const code = freshFaena().toLowerCase();
    const { createProject: p } = await api.ok(CREATE_PROJECT, {
      input: { companyId: c.id, name: 'Faena Sur', faenaCode: code, location: 'Antofagasta', startsOn: '2026-01-01', endsOn: '2026-12-31' },
    });
    expect(p).toMatchObject({
      faenaCode: code.toUpperCase(), name: 'Faena Sur', location: 'Antofagasta', startsOn: '2026-01-01', endsOn: '2026-12-31',
      status: 'ACTIVE', closedOn: null, version: 1, company: { id: c.id, name: 'Proyectos SA' },
    });
    const q = `query($id: ID, $code: String) { project(id: $id, faenaCode: $code) { id faenaCode } }`;
    expect((await api.ok(q, { id: p.id })).project).toEqual({ id: p.id, faenaCode: p.faenaCode });
    expect((await api.ok(q, { code })).project).toEqual({ id: p.id, faenaCode: p.faenaCode });
    expect((await api.ok(q, { code: 'NO-SUCH-FAENA' })).project).toBeNull();

    const before = await eventCount(stack);
    const { error } = await api.fail(CREATE_PROJECT, { input: { companyId: c.id, name: 'Dup', faenaCode: code.toUpperCase(), startsOn: '2026-01-01' } });
    expect(error.extensions?.code).toBe('CONFLICT');
    expect(error.message).toMatch(/faena code already exists/);
    expect(await eventCount(stack)).toBe(before);
  });

  it('projects walks every page with first/after, filtered by status and company', async () => {
    const c = await registerCompany('Paginas');
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await createProject(c.id, { name: `P${i}` }));
    for (const i of [1, 4]) await api.ok(CLOSE_PROJECT, { id: created[i].id });

    const walk = async (vars: Record<string, unknown>) => {
      const pages: string[][] = [];
      let after: string | null = null;
      for (;;) {
        type Page = { projects: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
        const { projects }: Page = await api.ok<Page>(
          `query($first: Int, $after: String, $status: ProjectStatus, $c: ID) {
            projects(first: $first, after: $after, status: $status, companyId: $c) { nodes { id status } pageInfo { hasNextPage endCursor } }
          }`,
          { ...vars, after },
        );
        pages.push(projects.nodes.map((n) => n.id));
        if (!projects.pageInfo.hasNextPage) break;
        expect(projects.pageInfo.endCursor).toEqual(expect.any(String));
        after = projects.pageInfo.endCursor;
        expect(pages.length).toBeLessThan(10);
      }
      return pages;
    };
    const ids = created.map((p) => p.id);
    expect(await walk({ first: 3, c: c.id })).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)]);
    expect(await walk({ first: 2, c: c.id, status: 'ACTIVE' })).toEqual([[ids[0], ids[2]], [ids[3], ids[5]], [ids[6]]]);
    expect(await walk({ first: 2, c: c.id, status: 'CLOSED' })).toEqual([[ids[1], ids[4]]]);
    // An exact multiple of the page size has no empty trailing page.
    expect(await walk({ first: 7, c: c.id })).toEqual([ids]);

    // Without a company filter the walk covers these projects too, each exactly once.
    const everything = (await walk({ first: 4 })).flat();
    expect(new Set(everything).size).toBe(everything.length);
    expect(everything.filter((id) => ids.includes(id))).toEqual(ids);

    // The company's own projects field pages the same way.
    const { company } = await api.ok(
      `query($id: ID!) { company(id: $id) { projects(first: 4, status: ACTIVE) { nodes { id } pageInfo { hasNextPage endCursor } } } }`,
      { id: c.id },
    );
    expect(company.projects.nodes.map((n: { id: string }) => n.id)).toEqual([ids[0], ids[2], ids[3], ids[5]]);
    expect(company.projects.pageInfo.hasNextPage).toBe(true);
  });

  it("closeProject closes once; a closed project takes no new assignment nor profile", async () => {
    const { company: c, profiles: [w] } = await staffedCompany('Cierre', 3, ['Wilma']);
    const p = await createProject(c.id);
    const { createAssignment: a } = await api.ok(CREATE_ASSIGNMENT, { input: { projectId: p.id, name: 'Driller', startsOn: '2024-02-01' } });
    const { closeProject } = await api.ok(CLOSE_PROJECT, { id: p.id });
    expect(closeProject).toEqual({ id: p.id, status: 'CLOSED', closedOn: today(), version: 3 });

    const before = await eventCount(stack);
    const noAssignment = await api.fail(CREATE_ASSIGNMENT, { input: { projectId: p.id, name: 'Late', startsOn: '2024-03-01' } });
    expect(noAssignment.error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(noAssignment.error.message).toMatch(/closed/);
    const noProfile = await api.fail(ASSIGN, { assignmentId: a.id, profileId: w.id });
    expect(noProfile.error.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await api.fail(CLOSE_PROJECT, { id: p.id })).error.extensions?.code).toBe('CONFLICT');
    expect(await eventCount(stack)).toBe(before);

    const { assignment } = await api.ok(`query($id: ID!) { assignment(id: $id) { status project { status } } }`, { id: a.id });
    expect(assignment).toEqual({ status: 'ENDED', project: { status: 'CLOSED' } });
  });

  it("createAssignment: dates must sit inside the project's; an open end inherits the project's end", async () => {
    const c = await registerCompany('Fechas');
    const p = await createProject(c.id, { startsOn: '2026-01-01', endsOn: '2030-12-31' });
    const create = (input: Record<string, unknown>) => api.ok(CREATE_ASSIGNMENT, { input: { projectId: p.id, name: 'Role', ...input } });
    const refuse = async (input: Record<string, unknown>, field: string) => {
      const before = await eventCount(stack);
      const { error } = await api.fail(CREATE_ASSIGNMENT, { input: { projectId: p.id, name: 'Role', ...input } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(await eventCount(stack)).toBe(before);
    };
    const inside = (await create({ name: 'Geologist', startsOn: '2026-01-01', endsOn: '2030-12-31' })).createAssignment;
    expect(inside).toMatchObject({ name: 'Geologist', startsOn: '2026-01-01', endsOn: '2030-12-31', status: 'ACTIVE', project: { id: p.id } });
    expect((await create({ startsOn: '2026-03-01' })).createAssignment.endsOn).toBe('2030-12-31');
    await refuse({ startsOn: '2025-12-31', endsOn: '2026-06-01' }, 'startsOn');
    await refuse({ startsOn: '2026-06-01', endsOn: '2031-01-01' }, 'endsOn');
    await refuse({ startsOn: '2026-06-01', endsOn: '2026-05-31' }, 'endsOn');
    await refuse({ startsOn: '2031-02-01' }, 'startsOn');

    const open = await createProject(c.id, { startsOn: '2026-01-01' });
    const { createAssignment } = await api.ok(CREATE_ASSIGNMENT, { input: { projectId: open.id, name: 'Open', startsOn: '2026-01-01' } });
    expect(createAssignment.endsOn).toBeNull();
  });

  it('assignProfile/unassignProfile put employees on assignments; both sides list them', async () => {
    const { company: c, profiles: [w1, w2] } = await staffedCompany('Turnos', 3, ['Uno', 'Dos']);
    const p = await createProject(c.id);
    const { createAssignment: a } = await api.ok(CREATE_ASSIGNMENT, { input: { projectId: p.id, name: 'Shift A', startsOn: '2024-02-01' } });

    const on = (await api.ok(ASSIGN, { assignmentId: a.id, profileId: w1.id })).assignProfile;
    expect(on).toMatchObject({ status: 'ASSIGNED', unassignedAt: null, profile: { id: w1.id }, assignment: { id: a.id } });
    await api.ok(ASSIGN, { assignmentId: a.id, profileId: w2.id });
    expect((await api.fail(ASSIGN, { assignmentId: a.id, profileId: w1.id })).error.extensions?.code).toBe('CONFLICT');

    const off = (await api.ok(UNASSIGN, { assignmentId: a.id, profileId: w2.id })).unassignProfile;
    expect(off.status).toBe('UNASSIGNED');
    expect(Date.parse(off.unassignedAt)).toBeGreaterThanOrEqual(Date.parse(off.assignedAt));
    expect((await api.fail(UNASSIGN, { assignmentId: a.id, profileId: w2.id })).error.extensions?.code).toBe('BAD_USER_INPUT');

    const { assignment } = await api.ok(
      `query($id: ID!) { assignment(id: $id) { name status assigned: profiles { profile { id } } gone: profiles(status: UNASSIGNED) { profile { id } } } }`,
      { id: a.id },
    );
    expect(assignment).toEqual({ name: 'Shift A', status: 'ACTIVE', assigned: [{ profile: { id: w1.id } }], gone: [{ profile: { id: w2.id } }] });
    const { profile } = await api.ok(`query($id: ID) { profile(id: $id) { assignments { assignment { id project { faenaCode } } } } }`, { id: w1.id });
    expect(profile.assignments).toEqual([{ assignment: { id: a.id, project: { faenaCode: p.faenaCode } } }]);

    const { project } = await api.ok(`query($id: ID) { project(id: $id) { assignments(first: 5) { nodes { id } pageInfo { hasNextPage } } } }`, { id: p.id });
    expect(project.assignments).toEqual({ nodes: [{ id: a.id }], pageInfo: { hasNextPage: false } });

    // Only the company's own employees can be assigned.
    const stranger = await createProfile('Extra', 'Ño');
    const { error } = await api.fail(ASSIGN, { assignmentId: a.id, profileId: stranger.id });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'profileId' });
  });
});

// --- licences ---------------------------------------------------------------------------

describe('licences', () => {
  let owner: { id: string };
  let soon: { id: string };
  let later: { id: string };
  let past: { id: string };
  let revoked: { id: string };
  let company: { id: string };

  const grant = async (profileId: string, type: string, issuedOn: string, expiresOn: string) =>
    (await api.ok(GRANT, { input: { profileId, type, number: `${type}-1`, issuedOn, expiresOn } })).grantLicense;

  beforeAll(async () => {
    ({ company, profiles: [owner] } = await staffedCompany('Licencias', 2, ['Lic']));
    soon = await grant(owner.id, 'Soon', daysFromToday(-300), daysFromToday(10));
    later = await grant(owner.id, 'Later', daysFromToday(-300), daysFromToday(40));
    past = await grant(owner.id, 'Past', daysFromToday(-300), daysFromToday(-1));
    revoked = await grant(owner.id, 'Revoked', daysFromToday(-300), daysFromToday(5));
    await api.ok(REVOKE, { id: revoked.id });
  });

  it('grantLicense records the licence with its status and days to expiry; issuedOn defaults to today', async () => {
    const other = await createProfile('Grant', 'Ee');
    const { grantLicense } = await api.ok(GRANT, { input: { profileId: other.id, type: 'Crane', number: 'GR-77', expiresOn: daysFromToday(365) } });
    expect(grantLicense).toMatchObject({
      type: 'Crane', number: 'GR-77', issuedOn: today(), expiresOn: daysFromToday(365), status: 'VALID', expiresInDays: 365, revokedOn: null,
      profile: { id: other.id },
    });
    const { profile } = await api.ok(`query($id: ID) { profile(id: $id) { licenses(status: EXPIRED) { id status expiresInDays } } }`, { id: owner.id });
    expect(profile.licenses).toEqual([{ id: past.id, status: 'EXPIRED', expiresInDays: -1 }]);
  });

  it('revokeLicense revokes once; a second revoke is a CONFLICT', async () => {
    const other = await createProfile('Revo', 'Cada');
    const l = await grant(other.id, 'Rig', daysFromToday(-10), daysFromToday(10));
    const { revokeLicense } = await api.ok(REVOKE, { id: l.id, reason: 'Suspended' });
    expect(revokeLicense).toEqual({ id: l.id, status: 'REVOKED', revokedOn: today() });
    const before = await eventCount(stack);
    expect((await api.fail(REVOKE, { id: l.id })).error.extensions?.code).toBe('CONFLICT');
    expect(await eventCount(stack)).toBe(before);
  });

  it('licenses(expiringWithinDays) lists valid licences expiring in the window, on a profile and across a company', async () => {
    const q = `query($id: ID, $c: ID, $days: Int) {
      profile(id: $id) { licenses(expiringWithinDays: $days) { id expiresInDays } }
      licenses(companyId: $c, expiringWithinDays: $days) { nodes { id } }
    }`;
    const r30 = await api.ok(q, { id: owner.id, c: company.id, days: 30 });
    // The revoked one (5 days) and the expired one are not "expiring".
    expect(r30.profile.licenses).toEqual([{ id: soon.id, expiresInDays: 10 }]);
    expect(r30.licenses.nodes).toEqual([{ id: soon.id }]);
    const r40 = await api.ok(q, { id: owner.id, c: company.id, days: 40 });
    expect(r40.profile.licenses.map((l: { id: string }) => l.id)).toEqual([soon.id, later.id]);
    const r9 = await api.ok(q, { id: owner.id, c: company.id, days: 9 });
    expect(r9.profile.licenses).toEqual([]);
  });

  it('licenses(status) filters across a company', async () => {
    const q = `query($c: ID, $s: LicenseStatus) { licenses(companyId: $c, status: $s, first: 50) { nodes { id status } } }`;
    expect((await api.ok(q, { c: company.id, s: 'REVOKED' })).licenses.nodes).toEqual([{ id: revoked.id, status: 'REVOKED' }]);
    expect((await api.ok(q, { c: company.id, s: 'EXPIRED' })).licenses.nodes).toEqual([{ id: past.id, status: 'EXPIRED' }]);
    const valid = (await api.ok(q, { c: company.id, s: 'VALID' })).licenses.nodes.map((n: { id: string }) => n.id);
    expect(valid).toEqual(expect.arrayContaining([soon.id, later.id]));
    expect(valid).not.toContain(past.id);
    expect(valid).not.toContain(revoked.id);
  });

  it('renewLicense moves the expiry later only, and can bring an expired licence back', async () => {
    const other = await createProfile('Reno', 'Vada');
    const expired = await grant(other.id, 'Old', daysFromToday(-400), daysFromToday(-3));
    const { renewLicense } = await api.ok(RENEW, { id: expired.id, expiresOn: daysFromToday(100) });
    expect(renewLicense).toEqual({ id: expired.id, expiresOn: daysFromToday(100), status: 'VALID', expiresInDays: 100 });
    const { error } = await api.fail(RENEW, { id: soon.id, expiresOn: daysFromToday(5) });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresOn' });
    expect((await api.fail(RENEW, { id: revoked.id, expiresOn: daysFromToday(500) })).error.extensions?.code).toBe('CONFLICT');
  });
});

// --- expectedVersion --------------------------------------------------------------------

describe('expectedVersion', () => {
  it('on a company: stale is a CONFLICT that writes nothing; current succeeds and bumps the version', async () => {
    const c = await registerCompany('Versiones');
    const input = { companyId: c.id, offeringId: await offering(), seats: 1 };
    const stale = await api.fail(SUBSCRIBE, { input, v: 0 });
    expect(stale.error.extensions?.code).toBe('CONFLICT');
    expect(stale.error.message).toMatch(/version 1, not 0/);
    const ok = await api.ok(`mutation($input: SubscribeInput!, $v: Int) { subscribe(input: $input, expectedVersion: $v) { company { version } } }`, { input, v: 1 });
    expect(ok.subscribe.company.version).toBe(2);

    const before = await eventCount(stack);
    expect((await api.fail(SUBSCRIBE, { input, v: 1 })).error.extensions?.code).toBe('CONFLICT');
    expect((await api.fail(SUBSCRIBE, { input, v: 3 })).error.extensions?.code).toBe('CONFLICT');
    expect(await eventCount(stack)).toBe(before);

    const p = await createProfile('Ver', 'Sion');
    const hired = await api.ok(`mutation($input: HireProfileInput!, $v: Int) { hireProfile(input: $input, expectedVersion: $v) { company { version } } }`, {
      input: { companyId: c.id, profileId: p.id }, v: 2,
    });
    expect(hired.hireProfile.company.version).toBe(3);
  });

  it('on a profile: updateProfile and grantLicense check the profile version', async () => {
    const p = await createProfile('Vera', 'Sion');
    expect((await api.ok(UPDATE_PROFILE, { id: p.id, input: { firstName: 'Verónica' }, v: 1 })).updateProfile.version).toBe(2);
    const before = await eventCount(stack);
    expect((await api.fail(UPDATE_PROFILE, { id: p.id, input: { firstName: 'Vero' }, v: 1 })).error.extensions?.code).toBe('CONFLICT');
    expect((await api.fail(GRANT, { input: { profileId: p.id, type: 'T', number: 'N', expiresOn: daysFromToday(9) }, v: 1 })).error.extensions?.code).toBe(
      'CONFLICT',
    );
    expect(await eventCount(stack)).toBe(before);
    await api.ok(GRANT, { input: { profileId: p.id, type: 'T', number: 'N', expiresOn: daysFromToday(9) }, v: 2 });
    expect((await api.ok(`query($id: ID) { profile(id: $id) { version firstName } }`, { id: p.id })).profile).toEqual({ version: 3, firstName: 'Verónica' });
  });

  it('on a project: createAssignment and closeProject check the project version', async () => {
    const c = await registerCompany('Versiones Proyecto');
    const p = await createProject(c.id);
    expect((await api.fail(CLOSE_PROJECT, { id: p.id, v: 2 })).error.extensions?.code).toBe('CONFLICT');
    await api.ok(CREATE_ASSIGNMENT, { input: { projectId: p.id, name: 'A', startsOn: '2024-05-01' }, v: 1 });
    expect((await api.fail(CLOSE_PROJECT, { id: p.id, v: 1 })).error.extensions?.code).toBe('CONFLICT');
    expect((await api.ok(CLOSE_PROJECT, { id: p.id, v: 2 })).closeProject).toMatchObject({ status: 'CLOSED', version: 3 });
  });
});

// --- audit trail ------------------------------------------------------------------------

describe('audit trail', () => {
  const trail = async (id: string, first = 50) =>
    (await api.ok(AUDIT, { id, first })).auditTrail.nodes as { action: string; actorId: string; actorKind: string; position: string; occurredAt: string; data: Record<string, unknown> }[];
  const summary = (nodes: { action: string; actorId: string }[]) => nodes.map((n) => `${n.action} by ${n.actorId}`);

  it('shows who did what to a company, project, assignment, profile and licence, oldest first', async () => {
    const c = await registerCompany('Auditada', ALICE);
    await api.ok(SUBSCRIBE, { input: { companyId: c.id, offeringId: await offering(), seats: 3 } }, BOB);
    const p = await createProfile('Audi', 'Tor', {}, ALICE);
    await api.ok(UPDATE_PROFILE, { id: p.id, input: { lastName: 'Toría' } }, BOB);
    await api.ok(HIRE, { input: { companyId: c.id, profileId: p.id } }, ALICE);
    const project = (await api.ok(CREATE_PROJECT, { input: { companyId: c.id, name: 'Audit', faenaCode: freshFaena(), startsOn: '2024-01-01' } }, BOB)).createProject;
    const a = (await api.ok(CREATE_ASSIGNMENT, { input: { projectId: project.id, name: 'Watch', startsOn: '2024-01-02' } }, ALICE)).createAssignment;
    await api.ok(ASSIGN, { assignmentId: a.id, profileId: p.id }, BOB);
    const l = (await api.ok(GRANT, { input: { profileId: p.id, type: 'Audit', number: 'A-1', expiresOn: daysFromToday(50) } }, ALICE)).grantLicense;
    await api.ok(RENEW, { id: l.id, expiresOn: daysFromToday(80) }, BOB);
    await api.ok(REVOKE, { id: l.id, reason: 'done' }, ALICE);
    await api.ok(UNASSIGN, { assignmentId: a.id, profileId: p.id }, ALICE);
    await api.ok(CLOSE_PROJECT, { id: project.id }, BOB);

    expect(summary(await trail(c.id))).toEqual([
      `CompanyRegistered by ${ALICE}`, `SubscriptionStarted by ${BOB}`, `ProfileHired by ${ALICE}`, `ProjectCreated by ${BOB}`,
    ]);
    expect(summary(await trail(project.id))).toEqual([
      `ProjectCreated by ${BOB}`, `AssignmentCreated by ${ALICE}`, `ProfileAssigned by ${BOB}`, `ProfileUnassigned by ${ALICE}`, `ProjectClosed by ${BOB}`,
    ]);
    expect(summary(await trail(a.id))).toEqual([`AssignmentCreated by ${ALICE}`, `ProfileAssigned by ${BOB}`, `ProfileUnassigned by ${ALICE}`]);
    expect(summary(await trail(p.id))).toEqual([
      `ProfileCreated by ${ALICE}`, `ProfileUpdated by ${BOB}`, `ProfileHired by ${ALICE}`, `ProfileAssigned by ${BOB}`,
      `LicenseGranted by ${ALICE}`, `LicenseRenewed by ${BOB}`, `LicenseRevoked by ${ALICE}`, `ProfileUnassigned by ${ALICE}`,
    ]);
    const licence = await trail(l.id);
    expect(summary(licence)).toEqual([`LicenseGranted by ${ALICE}`, `LicenseRenewed by ${BOB}`, `LicenseRevoked by ${ALICE}`]);
    expect(licence[1].data).toMatchObject({ licenseId: l.id, expiresOn: daysFromToday(80) });
    expect(licence.every((e) => e.actorKind === 'dev')).toBe(true);

    // "When": in order, and recent.
    const times = licence.map((e) => Date.parse(e.occurredAt));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    expect(times[0]).toBeGreaterThan(Date.now() - 5 * 60_000);
    const positions = licence.map((e) => Number(e.position));
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
  });

  it("records the caller's correlation id, passed on by the gateway", async () => {
    const correlationId = `corr-${Date.now()}`;
    const res = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-angelis-dev-user': ALICE, 'x-correlation-id': correlationId },
      body: JSON.stringify({ query: REGISTER, variables: { input: { name: 'Correlada', taxRut: freshRut() } } }),
    });
    const { data } = (await res.json()) as { data: { registerCompany: { id: string } } };
    const { auditTrail } = await api.ok(AUDIT, { id: data.registerCompany.id });
    expect(auditTrail.nodes).toMatchObject([{ action: 'CompanyRegistered', actorId: ALICE, correlationId }]);
  });

  it('pages with first/after, also on the entity fields', async () => {
    const p = await createProfile('Page', 'Trail');
    for (const lastName of ['T1', 'T2', 'T3', 'T4']) await api.ok(UPDATE_PROFILE, { id: p.id, input: { lastName } });
    const all = await trail(p.id);
    expect(all).toHaveLength(5);
    const first = (await api.ok(AUDIT, { id: p.id, first: 2 })).auditTrail;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await api.ok(AUDIT, { id: p.id, first: 2, after: first.pageInfo.endCursor })).auditTrail;
    const third = (await api.ok(AUDIT, { id: p.id, first: 2, after: second.pageInfo.endCursor })).auditTrail;
    expect(third.pageInfo.hasNextPage).toBe(false);
    expect([...first.nodes, ...second.nodes, ...third.nodes].map((n: { eventId: string }) => n.eventId)).toEqual(
      (await api.ok(AUDIT, { id: p.id })).auditTrail.nodes.map((n: { eventId: string }) => n.eventId),
    );
    const { profile } = await api.ok(`query($id: ID) { profile(id: $id) { auditTrail(first: 1) { nodes { action } pageInfo { hasNextPage } } } }`, { id: p.id });
    expect(profile.auditTrail).toEqual({ nodes: [{ action: 'ProfileCreated' }], pageInfo: { hasNextPage: true } });
  });

  it('is empty for an id nothing happened to', async () => {
    expect(await trail('00000000-0000-4000-8000-000000000999')).toEqual([]);
  });
});
