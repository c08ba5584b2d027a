import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../gateway/server.ts';
import type { RunningServer } from '../platform/http/server.ts';
import { createLogger } from '../platform/logger.ts';
import { freePort } from '../platform/testing/ports.ts';
import { startCiam, type CiamService } from './support/subgraphs.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { rut, rutSpellings } from './support/workforce.ts';

/**
 * Who may let a worker log in, all through the gateway: only someone who may manage the
 * profile in Workforce, for a company the profile works for now, with the profile's own
 * RUT. CIAM asks Workforce as the caller; a refusal writes nothing.
 */
let stack: TestStack;
const ids: Record<string, string> = {};
const ruts = { a: rut(17_100_001), b: rut(17_100_002), former: rut(17_100_003), admin: rut(17_100_004), other: rut(17_100_005) };

type Caller = Record<string, string>;
const ADMIN: Caller = { 'x-angelis-dev-user': 'admin@angelis.test' };
const managerOf = (company: string): Caller => ({ 'x-angelis-dev-user': `boss-${company}@angelis.test`, 'x-angelis-dev-role': 'MANAGER', 'x-angelis-dev-company': company });

async function gql(query: string, variables: Record<string, unknown>, headers: Caller, url = stack.gateway.url) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[] }) };
}

async function admin(query: string, variables: Record<string, unknown> = {}) {
  const res = await gql(query, variables, ADMIN);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data;
}

const ENABLE = `mutation($p: ID!, $r: String, $c: ID!) { enableWorkerLogin(profileId: $p, rut: $r, companyId: $c) { rut profile { id } company { id } } }`;

async function ciamEvents(): Promise<number> {
  const { rows } = await stack.ciamDatabase.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
  return rows[0].n;
}

/** Runs enableWorkerLogin that must be refused with `code`; checks CIAM wrote nothing. */
async function refused(variables: Record<string, unknown>, caller: Caller, code: string, url?: string) {
  const before = await ciamEvents();
  const res = await gql(ENABLE, variables, caller, url);
  expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res)).toBe(code);
  expect(res.data?.enableWorkerLogin ?? null).toBeNull();
  expect(await ciamEvents()).toBe(before);
  const { rows } = await stack.ciamDatabase.db.query('SELECT 1 FROM worker_accounts WHERE profile_id = $1', [variables.p]);
  expect(rows).toHaveLength(0);
  return res.errors![0];
}

beforeAll(async () => {
  stack = await startTestStack('worker_login');
  const offering = (await admin(`mutation { createOffering(input: {code: "WL", name: "Worker logins"}) { id } }`)).createOffering.id;
  for (const [key, taxRut] of [['A', rut(76_300_001)], ['B', rut(76_300_002)]]) {
    ids[key] = (await admin(`mutation($r: String!) { registerCompany(input: {name: "Co", taxRut: $r}) { id } }`, { r: taxRut })).registerCompany.id;
    await admin(`mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 5}) { id } }`, { c: ids[key], o: offering });
  }
  const hire = `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`;
  for (const [key, company] of [['a', 'A'], ['b', 'B'], ['former', 'A'], ['admin', 'B'], ['other', 'A']] as const) {
    ids[key] = (await admin(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "W", lastName: "${key}", phone: "+56911111111"}) { id } }`, { r: ruts[key] })).createProfile.id;
    await admin(hire, { c: ids[company], p: ids[key] });
  }
  await admin(`mutation($c: ID!, $p: ID!) { endEmployment(companyId: $c, profileId: $p) { status } }`, { c: ids.A, p: ids.former });
  const former = await admin(`query($p: ID!) { profile(id: $p) { companies { status } } }`, { p: ids.former });
  expect(former.profile.companies).toEqual([{ status: 'ENDED' }]);
});
afterAll(async () => stack?.stop());

describe('enableWorkerLogin', () => {
  it("a MANAGER cannot enable another company's employee, with any RUT or company", async () => {
    // The reported attack: B's employee, enabled "for A" with a RUT of the attacker's choosing.
    for (const r of [ruts.b, rut(17_199_999)]) await refused({ p: ids.b, r, c: ids.A }, managerOf(ids.A), 'NOT_FOUND');
    await refused({ p: ids.b, r: ruts.b, c: ids.B }, managerOf(ids.A), 'FORBIDDEN');
    // The attacker cannot then sign in as that worker: no login exists for the RUT.
    const challenge = await gql(`mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: ruts.b }, {});
    expect(stack.inbox.has(ids.b)).toBe(false);
    const verify = await gql(`mutation($c: ID!) { verifyLoginCode(challengeId: $c, code: "123456") { accessToken } }`, { c: challenge.data.requestWorkerCode.challengeId }, {});
    expect(verify.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it("says the same for a profile that does not exist as for one the caller may not see", async () => {
    const hidden = await refused({ p: ids.b, r: ruts.b, c: ids.A }, managerOf(ids.A), 'NOT_FOUND');
    const missing = await refused({ p: '00000000-0000-4000-8000-000000000000', r: ruts.b, c: ids.A }, managerOf(ids.A), 'NOT_FOUND');
    expect(hidden.message.replace(ids.b, '<id>')).toBe(missing.message.replace('00000000-0000-4000-8000-000000000000', '<id>'));
  });

  it("refuses a RUT that is not the profile's", async () => {
    for (const r of [ruts.other, rut(17_199_998)]) {
      const error = await refused({ p: ids.a, r, c: ids.A }, managerOf(ids.A), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe('rut');
    }
    await refused({ p: ids.b, r: ruts.a, c: ids.B }, ADMIN, 'BAD_USER_INPUT');
  });

  it('refuses a company the profile does not work for now', async () => {
    const former = await refused({ p: ids.former, r: ruts.former, c: ids.A }, managerOf(ids.A), 'BAD_USER_INPUT');
    expect(former.extensions?.field).toBe('companyId');
    await refused({ p: ids.b, r: ruts.b, c: ids.A }, ADMIN, 'BAD_USER_INPUT');
  });

  it('refuses workers and anonymous callers', async () => {
    await refused({ p: ids.a, r: ruts.a, c: ids.A }, { 'x-angelis-dev-user': 'w', 'x-angelis-dev-role': 'WORKER', 'x-angelis-dev-profile': ids.a }, 'FORBIDDEN');
    await refused({ p: ids.a, r: ruts.a, c: ids.A }, {}, 'UNAUTHENTICATED');
  });

  it('a MANAGER enables their own employee with the RUT in any spelling; the worker signs in and sees their data', async () => {
    const res = await gql(ENABLE, { p: ids.a, r: rutSpellings(ruts.a).dotted, c: ids.A }, managerOf(ids.A));
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data.enableWorkerLogin).toEqual({ rut: ruts.a, profile: { id: ids.a }, company: { id: ids.A } });

    const challenge = await gql(`mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: rutSpellings(ruts.a).plain }, {});
    const signed = await gql(`mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { accessToken me { role profile { id } } } }`, {
      c: challenge.data.requestWorkerCode.challengeId,
      code: stack.inbox.get(ids.a),
    }, {});
    expect(signed.errors, JSON.stringify(signed.errors)).toBeUndefined();
    expect(signed.data.verifyLoginCode.me).toEqual({ role: 'WORKER', profile: { id: ids.a } });
    const seen = await gql(`query($p: ID!) { profile(id: $p) { rut phone } }`, { p: ids.a }, { authorization: `Bearer ${signed.data.verifyLoginCode.accessToken}` });
    expect(seen.data).toEqual({ profile: { rut: ruts.a, phone: '+56911111111' } });
  });

  it("takes the profile's own RUT when none is given; an ADMIN may enable anyone's employee", async () => {
    const res = await gql(ENABLE, { p: ids.admin, c: ids.B }, ADMIN);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data.enableWorkerLogin).toEqual({ rut: ruts.admin, profile: { id: ids.admin }, company: { id: ids.B } });
  });

  it('fails with SOURCE_UNAVAILABLE and writes nothing when Workforce cannot be reached', async () => {
    const log = createLogger('test', 'silent');
    let ciam: CiamService | undefined;
    let gateway: RunningServer | undefined;
    try {
      ciam = await startCiam(stack.config, log, {
        db: stack.ciamDatabase.db,
        port: 0,
        store: stack.store,
        keyPrefix: stack.keyPrefix,
        workforceUrl: `http://127.0.0.1:${await freePort()}/graphql`,
      });
      gateway = await startGateway(stack.config, log, {
        subgraphUrls: { workforce: stack.workforce.server.url, ciam: ciam.server.url },
        store: stack.store,
        keyPrefix: stack.keyPrefix,
      });
      await refused({ p: ids.other, r: ruts.other, c: ids.A }, ADMIN, 'SOURCE_UNAVAILABLE', gateway.url);
    } finally {
      await gateway?.stop();
      await ciam?.stop();
    }
  });
});
