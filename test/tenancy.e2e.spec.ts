import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { gqlAs, okAs, role, rut, rutSpellings, storedState } from './support/workforce.ts';

/**
 * A worker can work for several companies. What one company records about them (email,
 * phone, birth date, and the history of its changes) stays with that company: another
 * company that hires the same person shares only their identity (id, RUT, name). Through
 * the gateway, as the managers of companies A and B, the worker, and an ADMIN.
 */
let stack: TestStack;
const ids: Record<string, string> = {};

const B_RECORDED = { email: 'paula.t@b.example', phone: '+56 9 2222 3333', birthDate: '1991-02-03' };
const A_PHONE = '+56 9 4444 5555';
const ADMIN_EMAIL = 'paula@angelis.example';
const paulaRut = rut(17_300_001);
const quintinRut = rut(17_300_002);

const PROFILE = `query($id: ID!) {
  profile(id: $id) {
    id rut firstName lastName fullName email phone birthDate createdBy { id }
    auditTrail(first: 100) { nodes { action actorId data } }
  }
}`;
const TOP_TRAIL = `query($id: ID!) { auditTrail(entityId: $id, first: 100) { nodes { action actorId data } } }`;
const CREATE = `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`;
const UPDATE = `mutation($id: ID!, $i: UpdateProfileInput!) { updateProfile(id: $id, input: $i) { id email phone birthDate } }`;
const HIRE = `mutation($i: HireProfileInput!) { hireProfile(input: $i) { status company { id } profile { id fullName } } }`;

const admin = () => role.admin();
const managerA = () => role.manager(ids.A, 'manager.a@a.example');
const managerB = () => role.manager(ids.B, 'manager.b@b.example');

type Trail = { action: string; actorId: string; data: Record<string, unknown> }[];
const profileAs = async (headers: Record<string, string>, id: string) => (await okAs(stack, headers, PROFILE, { id })).profile;
const topTrailAs = async (headers: Record<string, string>, id: string): Promise<Trail> => (await okAs(stack, headers, TOP_TRAIL, { id })).auditTrail.nodes;

beforeAll(async () => {
  stack = await startTestStack('tenancy');
  const offering = (await okAs(stack, admin(), `mutation { createOffering(input: {code: "TEN", name: "Tenancy"}) { id } }`)).createOffering.id;
  for (const [key, taxRut] of [['A', rut(76_300_001)], ['B', rut(76_300_002)]]) {
    ids[key] = (await okAs(stack, admin(), `mutation($r: String!, $n: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { r: taxRut, n: `Company ${key}` })).registerCompany.id;
    await okAs(stack, admin(), `mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 10}) { id } }`, { c: ids[key], o: offering });
  }
  // B's manager records Paula (created by B, hired by B) and changes her data a few times.
  ids.paula = (await okAs(stack, managerB(), CREATE, { i: { rut: paulaRut, firstName: 'Paula', lastName: 'Tenant', email: 'paula@b.example', phone: '+56 9 1111 2222' } })).createProfile.id;
  await okAs(stack, admin(), `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.B, p: ids.paula });
  await okAs(stack, managerB(), UPDATE, { id: ids.paula, i: { phone: B_RECORDED.phone } });
  await okAs(stack, managerB(), UPDATE, { id: ids.paula, i: { email: B_RECORDED.email, birthDate: B_RECORDED.birthDate } });
  await okAs(stack, managerB(), UPDATE, { id: ids.paula, i: { lastName: 'Tenant-Rojas' } });
  // A starts employing her too (an ADMIN hires: no proof needed).
  await okAs(stack, admin(), `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: ids.paula });

  // Quintín: recorded and employed by B only; A's manager will try to hire him.
  ids.quintin = (await okAs(stack, managerB(), CREATE, { i: { rut: quintinRut, firstName: 'Quintín', lastName: 'Stranger', phone: '+56 9 7777 8888' } })).createProfile.id;
  await okAs(stack, admin(), `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.B, p: ids.quintin });
});
afterAll(async () => stack?.stop());

/** Every value B recorded about Paula, as it would appear anywhere in a response. */
const B_VALUES = ['paula@b.example', '+56 9 1111 2222', ...Object.values(B_RECORDED)];
const leaksB = (value: unknown) => B_VALUES.filter((v) => JSON.stringify(value).includes(v));

describe('a person two companies employ', () => {
  it('company A sees the shared identity, and none of the personal data or history company B recorded', async () => {
    const seen = await profileAs(managerA(), ids.paula);
    expect(seen).toMatchObject({ id: ids.paula, rut: paulaRut, firstName: 'Paula', lastName: 'Tenant-Rojas', fullName: 'Paula Tenant-Rojas' });
    expect(seen).toMatchObject({ email: null, phone: null, birthDate: null, createdBy: null });
    // Only what happened under A: A's hire. Not B's creation, hire or changes.
    expect(seen.auditTrail.nodes.map((n: { action: string }) => n.action)).toEqual(['ProfileHired']);
    expect(seen.auditTrail.nodes[0].data).toMatchObject({ companyId: ids.A });
    expect(await topTrailAs(managerA(), ids.paula)).toEqual(seen.auditTrail.nodes);
    expect(leaksB(seen)).toEqual([]);

    // B meanwhile sees all it recorded, and who created her.
    const byB = await profileAs(managerB(), ids.paula);
    expect(byB).toMatchObject({ ...B_RECORDED, createdBy: { id: 'manager.b@b.example' } });
    expect(byB.auditTrail.nodes.map((n: { action: string }) => n.action)).toEqual(['ProfileCreated', 'ProfileHired', 'ProfileUpdated', 'ProfileUpdated', 'ProfileUpdated']);
  });

  it('what A records, A sees alone; B keeps seeing its own values and history', async () => {
    const { updateProfile } = await okAs(stack, managerA(), UPDATE, { id: ids.paula, i: { phone: A_PHONE } });
    expect(updateProfile).toEqual({ id: ids.paula, email: null, phone: A_PHONE, birthDate: null });

    const byA = await profileAs(managerA(), ids.paula);
    expect(byA).toMatchObject({ email: null, phone: A_PHONE, birthDate: null });
    expect(byA.auditTrail.nodes.map((n: { action: string }) => n.action)).toEqual(['ProfileHired', 'ProfileUpdated']);
    // A's change carries A's values only, not B's email or birth date.
    expect(leaksB(byA)).toEqual([]);

    const byB = await profileAs(managerB(), ids.paula);
    expect(byB).toMatchObject(B_RECORDED);
    expect(JSON.stringify(byB)).not.toContain(A_PHONE);
    expect(byB.auditTrail.nodes.map((n: { action: string }) => n.action)).toEqual(['ProfileCreated', 'ProfileHired', 'ProfileUpdated', 'ProfileUpdated', 'ProfileUpdated']);
  });

  it('the worker and ADMINs see each field as most recently recorded, by any company or an ADMIN; companies never see an ADMIN’s', async () => {
    const latest = { email: B_RECORDED.email, phone: A_PHONE, birthDate: B_RECORDED.birthDate };
    expect(await profileAs(role.worker(ids.paula), ids.paula)).toMatchObject(latest);
    expect(await profileAs(admin(), ids.paula)).toMatchObject(latest);

    // An ADMIN's change is recorded under no company: the latest for the worker and ADMINs only.
    await okAs(stack, admin(), UPDATE, { id: ids.paula, i: { email: ADMIN_EMAIL } });
    const mine = await profileAs(role.worker(ids.paula), ids.paula);
    expect(mine).toMatchObject({ ...latest, email: ADMIN_EMAIL });
    // The person sees their whole history, whoever recorded it.
    expect(mine.auditTrail.nodes.map((n: { action: string }) => n.action)).toEqual([
      'ProfileCreated', 'ProfileHired', 'ProfileUpdated', 'ProfileUpdated', 'ProfileUpdated', 'ProfileHired', 'ProfileUpdated', 'ProfileUpdated',
    ]);
    expect(await profileAs(admin(), ids.paula)).toMatchObject({ ...latest, email: ADMIN_EMAIL });

    for (const [manager, own] of [[managerA(), { email: null, phone: A_PHONE }], [managerB(), { email: B_RECORDED.email, phone: B_RECORDED.phone }]] as const) {
      const seen = await profileAs(manager, ids.paula);
      expect(seen).toMatchObject(own);
      // The ADMIN's entry carries values others recorded: no company sees it.
      expect(JSON.stringify(seen)).not.toContain(ADMIN_EMAIL);
    }
  });
});

describe('hiring someone the company has never employed', () => {
  const error = async (headers: Record<string, string>, input: Record<string, unknown>) => {
    const res = await gqlAs(stack, headers, HIRE, { i: input });
    expect(res.errors?.length, JSON.stringify(res)).toBe(1);
    const [e] = res.errors!;
    return { code: e.extensions?.code, message: e.message, entity: e.extensions?.entity, field: e.extensions?.field, data: res.data?.hireProfile ?? null };
  };

  it('needs the person’s RUT; without it or with a wrong one the answer is the NOT_FOUND of an unknown id, and nothing is written', async () => {
    const before = await storedState(stack);
    const unknownId = '7f1d2c3b-0000-4000-8000-0000000000aa';
    const answers = [
      await error(managerA(), { companyId: ids.A, profileId: ids.quintin }),
      await error(managerA(), { companyId: ids.A, profileId: ids.quintin, rut: paulaRut }),
      await error(managerA(), { companyId: ids.A, profileId: unknownId, rut: quintinRut }),
      await error(managerA(), { companyId: ids.A, profileId: unknownId }),
    ];
    // The same answer, the id it names aside.
    const shapes = answers.map((a) => ({ ...a, message: a.message.replace(ids.quintin, '<id>').replace(unknownId, '<id>') }));
    expect(shapes).toEqual(Array(4).fill({ code: 'NOT_FOUND', message: 'Profile <id> was not found', entity: 'Profile', field: undefined, data: null }));
    expect(await storedState(stack)).toEqual(before);
    // And the manager still cannot see him.
    expect((await okAs(stack, managerA(), `query($id: ID!) { profile(id: $id) { id } }`, { id: ids.quintin })).profile).toBeNull();
  });

  it('a malformed RUT is bad input, whatever the id', async () => {
    const e = await error(managerA(), { companyId: ids.A, profileId: ids.quintin, rut: '12.345.678-0' });
    expect([e.code, e.field]).toEqual(['BAD_USER_INPUT', 'rut']);
  });

  it('with the RUT, in any spelling, the manager hires; once employed, the company rehires without it', async () => {
    const { hireProfile } = await okAs(stack, managerA(), HIRE, { i: { companyId: ids.A, profileId: ids.quintin, rut: rutSpellings(quintinRut).dotted } });
    expect(hireProfile).toEqual({ status: 'ACTIVE', company: { id: ids.A }, profile: { id: ids.quintin, fullName: 'Quintín Stranger' } });
    const seen = await profileAs(managerA(), ids.quintin);
    expect(seen).toMatchObject({ rut: quintinRut, phone: null, createdBy: null });
    expect(seen.auditTrail.nodes.map((n: { action: string }) => n.action)).toEqual(['ProfileHired']);

    await okAs(stack, managerA(), `mutation($c: ID!, $p: ID!) { endEmployment(companyId: $c, profileId: $p) { status } }`, { c: ids.A, p: ids.quintin });
    const again = await okAs(stack, managerA(), HIRE, { i: { companyId: ids.A, profileId: ids.quintin } });
    expect(again.hireProfile.status).toBe('ACTIVE');
    // A RUT given must still match.
    await okAs(stack, managerA(), `mutation($c: ID!, $p: ID!) { endEmployment(companyId: $c, profileId: $p) { status } }`, { c: ids.A, p: ids.quintin });
    expect((await error(managerA(), { companyId: ids.A, profileId: ids.quintin, rut: paulaRut })).code).toBe('NOT_FOUND');
  });

  it('an ADMIN hires without a RUT, but one given must match', async () => {
    expect((await error(admin(), { companyId: ids.A, profileId: ids.quintin, rut: paulaRut })).code).toBe('NOT_FOUND');
    const { hireProfile } = await okAs(stack, admin(), HIRE, { i: { companyId: ids.A, profileId: ids.quintin, rut: rutSpellings(quintinRut).plain } });
    expect(hireProfile.status).toBe('ACTIVE');
  });
});
