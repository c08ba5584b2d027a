import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { rut } from './support/workforce.ts';

/**
 * Signing in for real, all through the gateway: CIAM issues the token, the gateway
 * verifies it and passes the identity on, Workforce enforces it; refresh, reuse and
 * logout take effect at once.
 */
let stack: TestStack;
const ids: Record<string, string> = {};
const workerRut = rut(16_543_210);

async function gql(query: string, variables: Record<string, unknown> = {}, token?: string, devAdmin = false) {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(devAdmin ? { 'x-angelis-dev-user': 'admin@angelis.test' } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[] }) };
}

async function admin(query: string, variables: Record<string, unknown> = {}) {
  const res = await gql(query, variables, undefined, true);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data;
}

/** The code CIAM just sent (the test's mailbox). */
const lastCode = () => [...stack.inbox.values()].at(-1)!;

const TOKENS = `accessToken refreshToken me { role kind userId }`;

async function signIn(email: string, password: string) {
  const challenge = await gql(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { challengeId } }`, { e: email, p: password });
  expect(challenge.errors).toBeUndefined();
  const res = await gql(`mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { ${TOKENS} } }`, {
    c: challenge.data.login.challengeId,
    code: lastCode(),
  });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.verifyLoginCode as { accessToken: string; refreshToken: string; me: { role: string; userId: string } };
}

beforeAll(async () => {
  stack = await startTestStack('login');
  const offering = (await admin(`mutation { createOffering(input: {code: "LOGIN", name: "L"}) { id } }`)).createOffering.id;
  for (const [key, taxRut] of [['A', rut(76_200_001)], ['B', rut(76_200_002)]]) {
    ids[key] = (await admin(`mutation($r: String!) { registerCompany(input: {name: "Co", taxRut: $r}) { id } }`, { r: taxRut })).registerCompany.id;
    await admin(`mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 5}) { id } }`, { c: ids[key], o: offering });
  }
  ids.worker = (await admin(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Wen", lastName: "Worker"}) { id } }`, { r: workerRut })).createProfile.id;
  ids.other = (await admin(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Otto", lastName: "Other"}) { id } }`, { r: rut(16_543_211) })).createProfile.id;
  for (const p of ['worker', 'other']) await admin(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: ids[p] });
  const invite = await admin(`mutation($c: ID!) { inviteUser(input: {email: "boss@a.test", name: "Boss", role: MANAGER, companyId: $c}) { inviteToken } }`, { c: ids.A });
  const set = await gql(`mutation($t: String!) { setPassword(inviteToken: $t, password: "correct horse battery") { id } }`, { t: invite.inviteUser.inviteToken });
  expect(set.errors).toBeUndefined();
  await admin(`mutation($p: ID!, $r: String!, $c: ID!) { enableWorkerLogin(profileId: $p, rut: $r, companyId: $c) { profile { id } } }`, { p: ids.worker, r: workerRut, c: ids.A });
});
afterAll(async () => stack?.stop());

describe('signed in for real', () => {
  it('a manager signs in with password and code, and sees and changes only their company', async () => {
    const { accessToken, me } = await signIn('boss@a.test', 'correct horse battery');
    expect(me.role).toBe('MANAGER');
    const seen = await gql(`{ me { role company { id } } companies { nodes { id } } }`, {}, accessToken);
    expect(seen.errors).toBeUndefined();
    expect(seen.data.me).toEqual({ role: 'MANAGER', company: { id: ids.A } });
    expect(seen.data.companies.nodes).toEqual([{ id: ids.A }]);
    const mutation = `mutation($c: ID!, $f: String!) { createProject(input: {companyId: $c, name: "N", faenaCode: $f, startsOn: "2026-03-01"}) { id } }`;
    expect((await gql(mutation, { c: ids.A, f: 'LGA1' }, accessToken)).errors).toBeUndefined();
    expect((await gql(mutation, { c: ids.B, f: 'LGB1' }, accessToken)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // The event records the real user, not a development identity.
    const { rows } = await stack.database.db.query(`SELECT metadata FROM events WHERE event_type = 'ProjectCreated' AND data->>'faenaCode' = 'LGA1'`);
    expect(rows[0].metadata.actor).toEqual({ id: me.userId, kind: 'internal-user' });
  });

  it('a worker signs in by RUT in any format and sees only their own profile', async () => {
    const challenge = await gql(`mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: workerRut.replace('-', '').replace(/^(\d{2})(\d{3})(\d{3})/, '$1.$2.$3-') });
    const res = await gql(`mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { ${TOKENS} } }`, {
      c: challenge.data.requestWorkerCode.challengeId,
      code: lastCode(),
    });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    const token = res.data.verifyLoginCode.accessToken;
    const seen = await gql(`query($me: ID!, $other: ID!) { me { role profile { id } } mine: profile(id: $me) { fullName } theirs: profile(id: $other) { fullName } }`, { me: ids.worker, other: ids.other }, token);
    expect(seen.data).toEqual({ me: { role: 'WORKER', profile: { id: ids.worker } }, mine: { fullName: 'Wen Worker' }, theirs: null });
    expect((await gql(`mutation { registerCompany(input: {name: "X", taxRut: "76.086.428-5"}) { id } }`, {}, token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('refresh rotates the refresh token; reusing an old one ends the session at once', async () => {
    const first = await signIn('boss@a.test', 'correct horse battery');
    const refresh = `mutation($t: String!) { refreshTokens(refreshToken: $t) { accessToken refreshToken } }`;
    const second = await gql(refresh, { t: first.refreshToken });
    expect(second.errors).toBeUndefined();
    const fresh = second.data.refreshTokens;
    expect(fresh.refreshToken).not.toBe(first.refreshToken);
    expect((await gql(`{ me { role } }`, {}, fresh.accessToken)).status).toBe(200);
    // The old refresh token again: someone copied it. The whole session ends.
    const reuse = await gql(refresh, { t: first.refreshToken });
    expect(reuse.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const after = await gql(`{ me { role } }`, {}, fresh.accessToken);
    expect([after.status, after.errors?.[0].extensions?.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('a failed refresh answers HTTP 401 like every other UNAUTHENTICATED answer', async () => {
    const refresh = `mutation($t: String!) { refreshTokens(refreshToken: $t) { accessToken refreshToken } }`;
    const forged = await gql(refresh, { t: 'not-a-refresh-token' });
    expect([forged.status, forged.errors?.[0].extensions?.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect(forged.errors?.[0].extensions).not.toHaveProperty('http');
    const first = await signIn('boss@a.test', 'correct horse battery');
    expect((await gql(refresh, { t: first.refreshToken })).status).toBe(200);
    const reuse = await gql(refresh, { t: first.refreshToken });
    expect([reuse.status, reuse.errors?.[0].extensions?.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('a wrong code says so and how many attempts are left, and the right code still works', async () => {
    const challenge = await gql(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { challengeId } }`, { e: 'boss@a.test', p: 'correct horse battery' });
    const right = lastCode();
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const verify = (code: string) =>
      gql(`mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { ${TOKENS} } }`, { c: challenge.data.login.challengeId, code });
    for (const left of [4, 3]) {
      const res = await verify(wrong);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', attemptsLeft: left });
      expect(res.errors?.[0].message).toMatch(/wrong/i);
      expect(res.errors?.[0].message).toContain(`${left} attempts left`);
      expect(res.errors?.[0].message).not.toMatch(/start the login again/);
    }
    const ok = await verify(right);
    expect(ok.errors, JSON.stringify(ok.errors)).toBeUndefined();
    expect(ok.data.verifyLoginCode.me.role).toBe('MANAGER');
    // Used: now it is the challenge that is gone, and that is what the answer says.
    const again = await verify(right);
    expect(again.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(again.errors?.[0].message).toMatch(/start the login again/);
  });

  it('the last wrong attempt uses the code up: then, and only then, start again', async () => {
    const challenge = await gql(`mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: workerRut });
    const right = lastCode();
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const verify = (code: string) =>
      gql(`mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { ${TOKENS} } }`, { c: challenge.data.requestWorkerCode.challengeId, code });
    const messages: string[] = [];
    for (let i = 0; i < 5; i++) messages.push((await verify(wrong)).errors![0].message);
    expect(messages.slice(0, 4)).toEqual(['4 attempts left', '3 attempts left', '2 attempts left', '1 attempt left'].map((left) => `The code is wrong; ${left}`));
    expect(messages[4]).toMatch(/start the login again/);
    expect((await verify(right)).errors?.[0].message).toMatch(/start the login again/);
  });

  it('logout everywhere ends every session of the user at once', async () => {
    const one = await signIn('boss@a.test', 'correct horse battery');
    const two = await signIn('boss@a.test', 'correct horse battery');
    const ended = await gql(`mutation { logoutEverywhere }`, {}, one.accessToken);
    expect(ended.data.logoutEverywhere).toBeGreaterThanOrEqual(2);
    for (const t of [one.accessToken, two.accessToken]) expect((await gql(`{ me { role } }`, {}, t)).status).toBe(401);
  });
});

describe('a document with several mutations', () => {
  it('keeps what committed when a later mutation fails', async () => {
    const res = await gql(
      `mutation($u: ID!) {
        first: inviteUser(input: {email: "several@a.test", name: "Several", role: ADMIN}) { user { id } }
        second: changeRole(userId: $u, role: ADMIN) { id }
      }`,
      { u: '00000000-0000-4000-8000-000000000000' },
      undefined,
      true,
    );
    expect(res.status).toBe(200);
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['second'], 'NOT_FOUND']]);
    const invited = res.data?.first?.user?.id;
    expect(invited).toBeTruthy();
    expect(res.data.second).toBeNull();
    expect((await admin(`query($id: ID!) { internalUser(id: $id) { email } }`, { id: invited })).internalUser).toEqual({ email: 'several@a.test' });
  });

  it('a failed refresh next to a mutation that committed answers 200 with both outcomes', async () => {
    const res = await gql(`mutation {
      first: login(email: "boss@a.test", password: "correct horse battery") { challengeId }
      second: refreshTokens(refreshToken: "not-a-refresh-token") { accessToken }
    }`);
    expect(res.status).toBe(200);
    expect(res.data?.first?.challengeId).toBeTruthy();
    expect(res.data?.second).toBeNull();
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['second'], 'UNAUTHENTICATED']]);
  });
});
