import { randomBytes, randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIdentity, type Identity } from '../../platform/auth/identity.ts';
import { loadConfig, type Config } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { RedisKeyValueStore } from '../../platform/redis/ioredis.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/postgres.ts';
import { checkDigit } from '../../platform/domain/rut.ts';
import type { CodeSender } from './auth/code-sender.ts';
import { startCiam, type CiamService } from '../../test/support/subgraphs.ts';
import { JWKS_PATH } from './subgraph.ts';

const SECRET = 'test-identity-secret-0123456789abcdef';
const PASSWORD = 'correct horse battery';
const log = createLogger('ciam-test', 'silent');

/** Codes the service sent, by account id (the test's inbox). */
const inbox = new Map<string, string>();
const sender: CodeSender = { send: async (to, code) => void inbox.set(to.accountId, code) };

let tdb: TestDatabase;
let store: RedisKeyValueStore;
let ciam: CiamService;
let shortCodes: CiamService;
let config: Config;

const ip = () => `10.${[1, 2, 3].map(() => Math.floor(Math.random() * 250)).join('.')}`;

async function gql(service: CiamService, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(service.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip(), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: Record<string, any>; errors?: { message: string; extensions: Record<string, unknown> }[] };
}

const admin = (): Identity => ({ userId: randomUUID(), kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: randomUUID() });
const as = (identity: Identity) => ({ 'x-angelis-identity': signIdentity(identity, SECRET) });
const code = (e?: { extensions: Record<string, unknown> }[]) => e?.[0]?.extensions.code;

const INVITE = `mutation($i: InviteUserInput!) { inviteUser(input: $i) { user { id email status role } inviteToken } }`;
const SET_PASSWORD = `mutation($t: String!, $p: String!) { setPassword(inviteToken: $t, password: $p) { id status } }`;
const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { challengeId expiresAt } }`;
const VERIFY = `mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) {
  accessToken tokenType expiresAt refreshToken me { userId role kind sessionId permissions company { id } } } }`;
const REFRESH = `mutation($r: String!) { refreshTokens(refreshToken: $r) { accessToken refreshToken me { sessionId } } }`;

/** An active internal user with PASSWORD. */
async function activeUser(role: 'ADMIN' | 'MANAGER' = 'MANAGER', companyId: string | null = randomUUID()) {
  const email = `u-${randomBytes(4).toString('hex')}@example.com`;
  const invited = await gql(ciam, INVITE, { i: { email, name: 'Test User', role, companyId: role === 'ADMIN' ? null : companyId } }, as(admin()));
  expect(invited.errors).toBeUndefined();
  const set = await gql(ciam, SET_PASSWORD, { t: invited.data!.inviteUser.inviteToken, p: PASSWORD });
  expect(set.errors).toBeUndefined();
  expect(set.data!.setPassword.id).toBe(invited.data!.inviteUser.user.id);
  return { id: invited.data!.inviteUser.user.id as string, email, companyId };
}

async function fullLogin(email: string, service = ciam) {
  const challenge = await gql(service, LOGIN, { e: email, p: PASSWORD });
  expect(challenge.errors).toBeUndefined();
  const user = await service.db.query<{ id: string }>('SELECT id FROM internal_users WHERE email = $1', [email]);
  const verified = await gql(service, VERIFY, { c: challenge.data!.login.challengeId, code: inbox.get(user.rows[0].id) });
  expect(verified.errors).toBeUndefined();
  return verified.data!.verifyLoginCode;
}

async function jwks(): Promise<JSONWebKeySet> {
  const res = await fetch(ciam.server.url.replace(/\/graphql$/, JWKS_PATH));
  expect(res.status).toBe(200);
  return (await res.json()) as JSONWebKeySet;
}

async function verifyToken(token: string) {
  return jwtVerify(token, createLocalJWKSet(await jwks()), { issuer: config.ANGELIS_JWT_ISSUER, audience: config.ANGELIS_JWT_AUDIENCE });
}

async function actions(userId: string): Promise<string[]> {
  const { rows } = await ciam.db.query<{ event_type: string }>(
    `SELECT event_type FROM events WHERE metadata -> 'subjects' @> jsonb_build_array($1::text) ORDER BY global_position`,
    [userId],
  );
  return rows.map((r) => r.event_type);
}

beforeAll(async () => {
  tdb = await createTestDatabase('ciam_e2e');
  store = await RedisKeyValueStore.connect(process.env.ANGELIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  // The test plays a trusted proxy in front of CIAM: each request names its client address in X-Forwarded-For.
  config = loadConfig({ ...process.env, NODE_ENV: 'test', ANGELIS_IDENTITY_SECRET: SECRET, ANGELIS_CIAM_HOST: '127.0.0.1', ANGELIS_SUBGRAPH_TRUST_PROXY: 'true' });
  const options = { db: tdb.db, store, port: 0, sender, keyActivationDelayMs: 0, rateLimits: { perAccount: 8, perAddress: 20 } };
  ciam = await startCiam(config, log, options);
  shortCodes = await startCiam(config, log, { ...options, codeTtlMs: 400 });
});

afterAll(async () => {
  await shortCodes?.stop();
  await ciam?.stop();
  await store?.close();
  await tdb?.drop();
});

describe('internal user login', () => {
  it('invite -> set password -> login -> code -> tokens that verify against the JWKS', async () => {
    const user = await activeUser('MANAGER');
    const tokens = await fullLogin(user.email);
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.me).toMatchObject({ userId: user.id, role: 'MANAGER', kind: 'INTERNAL_USER', company: { id: user.companyId } });
    expect(tokens.me.permissions).toContain('profiles:write');

    const { payload, protectedHeader } = await verifyToken(tokens.accessToken);
    expect(protectedHeader.alg).toBe('ES256');
    expect(protectedHeader.kid).toBeTruthy();
    expect(Object.keys(payload).sort()).toEqual(['aud', 'cid', 'exp', 'iat', 'iss', 'kind', 'pid', 'role', 'sid', 'sub']);
    expect(payload).toMatchObject({ sub: user.id, kind: 'internal-user', role: 'MANAGER', cid: user.companyId, pid: null, sid: tokens.me.sessionId });
    expect(payload.exp! - payload.iat!).toBe(config.ANGELIS_ACCESS_TOKEN_TTL_S);
    expect(await store.exists(`angelis:session:${tokens.me.sessionId}`)).toBe(true);
    expect(await actions(user.id)).toEqual(['UserInvited', 'PasswordSet', 'LoginCodeSent', 'LoginSucceeded']);

    // `me` with the identity the gateway would sign from this token.
    const identity: Identity = { userId: user.id, kind: 'internal-user', role: 'MANAGER', companyId: user.companyId, profileId: null, sessionId: tokens.me.sessionId };
    const me = await gql(ciam, `{ me { userId role company { id } user { email status } } }`, {}, as(identity));
    expect(me.data!.me).toEqual({ userId: user.id, role: 'MANAGER', company: { id: user.companyId }, user: { email: user.email, status: 'ACTIVE' } });
  });

  it('refuses a wrong password, an unused invite twice, and anonymous me', async () => {
    const user = await activeUser();
    const wrong = await gql(ciam, LOGIN, { e: user.email, p: 'not the password' });
    expect(code(wrong.errors)).toBe('UNAUTHENTICATED');
    const unknown = await gql(ciam, LOGIN, { e: 'nobody@example.com', p: PASSWORD });
    expect(code(unknown.errors)).toBe('UNAUTHENTICATED');
    expect(unknown.errors![0].message).toBe(wrong.errors![0].message);
    expect(code((await gql(ciam, `{ me { userId } }`)).errors)).toBe('UNAUTHENTICATED');
    expect(await actions(user.id)).toContain('LoginFailed');
  });

  it('locks the account after 5 wrong passwords, even for the right one', async () => {
    const user = await activeUser();
    for (let i = 0; i < 5; i++) expect(code((await gql(ciam, LOGIN, { e: user.email, p: `wrong-${i}-password` })).errors)).toBe('UNAUTHENTICATED');
    const right = await gql(ciam, LOGIN, { e: user.email, p: PASSWORD });
    expect(code(right.errors)).toBe('UNAUTHENTICATED');
    expect(right.errors![0].extensions.locked).toBe(true);
    const trail = await actions(user.id);
    expect(trail.filter((a) => a === 'LoginFailed')).toHaveLength(6);
    expect(trail).toContain('AccountLocked');
    const row = await gql(ciam, `query($id: ID!) { internalUser(id: $id) { lockedUntil auditTrail { nodes { action } } } }`, { id: user.id }, as(admin()));
    expect(row.data!.internalUser.lockedUntil).toBeTruthy();
    expect(row.data!.internalUser.auditTrail.nodes.map((n: { action: string }) => n.action)).toContain('AccountLocked');
  });

  it('rate limits logins per account', async () => {
    const user = await activeUser();
    for (let i = 0; i < 8; i++) expect((await gql(ciam, LOGIN, { e: user.email, p: PASSWORD })).errors).toBeUndefined();
    const limited = await gql(ciam, LOGIN, { e: user.email, p: PASSWORD });
    expect(code(limited.errors)).toBe('RATE_LIMITED');
    expect(limited.errors![0].extensions.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('rate limits logins per client address', async () => {
    const address = ip();
    for (let i = 0; i < 20; i++) {
      const r = await gql(ciam, LOGIN, { e: `nobody-${i}-${randomUUID()}@example.com`, p: PASSWORD }, { 'x-forwarded-for': `${address}, 192.168.0.1` });
      expect(code(r.errors)).toBe('UNAUTHENTICATED');
    }
    const limited = await gql(ciam, LOGIN, { e: `another-${randomUUID()}@example.com`, p: PASSWORD }, { 'x-forwarded-for': address });
    expect(code(limited.errors)).toBe('RATE_LIMITED');
    // Another address is not affected.
    expect(code((await gql(ciam, LOGIN, { e: `x-${randomUUID()}@example.com`, p: PASSWORD })).errors)).toBe('UNAUTHENTICATED');
  });
});

describe('one-time codes', () => {
  it('allow 5 attempts: brute force is stopped and the right code no longer works', async () => {
    const user = await activeUser();
    const { challengeId } = (await gql(ciam, LOGIN, { e: user.email, p: PASSWORD })).data!.login;
    const right = inbox.get(user.id)!;
    const wrongCodes = Array.from({ length: 8 }, (_, i) => String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0'));
    // Concurrent guesses: the atomic attempt counter still allows only 5.
    const results = await Promise.all(wrongCodes.map((c) => gql(ciam, VERIFY, { c: challengeId, code: c })));
    expect(results.every((r) => code(r.errors) === 'UNAUTHENTICATED')).toBe(true);
    expect(code((await gql(ciam, VERIFY, { c: challengeId, code: right })).errors)).toBe('UNAUTHENTICATED');
    // Every guess is in the audit trail, and 5 wrong codes lock the account too.
    const trail = await actions(user.id);
    expect(trail.filter((a) => a === 'LoginFailed').length).toBeGreaterThanOrEqual(5);
    expect(trail).toContain('AccountLocked');
  });

  it('a wrong code tells the attempts left, unless it locks the account: then it says so and the right code goes too', async () => {
    const user = await activeUser();
    for (let i = 0; i < 3; i++) expect(code((await gql(ciam, LOGIN, { e: user.email, p: `wrong-${i}-password` })).errors)).toBe('UNAUTHENTICATED');
    const { challengeId } = (await gql(ciam, LOGIN, { e: user.email, p: PASSWORD })).data!.login;
    const right = inbox.get(user.id)!;
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const first = await gql(ciam, VERIFY, { c: challengeId, code: wrong });
    expect([first.errors![0].message, first.errors![0].extensions.attemptsLeft]).toEqual(['The code is wrong; 4 attempts left', 4]);
    // The fifth failure in a row (3 passwords, 2 codes) locks the account.
    const locking = await gql(ciam, VERIFY, { c: challengeId, code: wrong });
    expect(locking.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', locked: true });
    expect(locking.errors![0].message).toMatch(/locked/);
    expect((await gql(ciam, VERIFY, { c: challengeId, code: right })).errors![0].message).toMatch(/start the login again/);
    expect(await actions(user.id)).toContain('AccountLocked');
  });

  it('say the same to a decoy challenge (unknown RUT) as to a real one', async () => {
    const body = String(10_000_000 + Math.floor(Math.random() * 9_000_000));
    const unknown = (await gql(ciam, `mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: `${body}-${checkDigit(body)}` })).data!.requestWorkerCode;
    const messages = [];
    for (let i = 0; i < 6; i++) messages.push((await gql(ciam, VERIFY, { c: unknown.challengeId, code: '123456' })).errors![0].message);
    expect(messages).toEqual([
      ...[4, 3, 2].map((n) => `The code is wrong; ${n} attempts left`),
      'The code is wrong; 1 attempt left',
      'The code expired or was used up; start the login again',
      'The code expired or was used up; start the login again',
    ]);
  });

  it('are single use', async () => {
    const user = await activeUser();
    const { challengeId } = (await gql(ciam, LOGIN, { e: user.email, p: PASSWORD })).data!.login;
    const c = inbox.get(user.id)!;
    const [a, b] = await Promise.all([gql(ciam, VERIFY, { c: challengeId, code: c }), gql(ciam, VERIFY, { c: challengeId, code: c })]);
    expect([a, b].filter((r) => r.errors === undefined)).toHaveLength(1);
    expect(code((await gql(ciam, VERIFY, { c: challengeId, code: c })).errors)).toBe('UNAUTHENTICATED');
  });

  it('expire', async () => {
    const user = await activeUser();
    const { challengeId } = (await gql(shortCodes, LOGIN, { e: user.email, p: PASSWORD })).data!.login;
    await new Promise((r) => setTimeout(r, 600));
    expect(code((await gql(shortCodes, VERIFY, { c: challengeId, code: inbox.get(user.id)! })).errors)).toBe('UNAUTHENTICATED');
  });
});

describe('sessions', () => {
  it('refresh rotates the token; reusing an old one revokes the session', async () => {
    const user = await activeUser();
    const first = await fullLogin(user.email);
    const second = (await gql(ciam, REFRESH, { r: first.refreshToken })).data!.refreshTokens;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.me.sessionId).toBe(first.me.sessionId);
    expect((await verifyToken(second.accessToken)).payload.sid).toBe(first.me.sessionId);

    const reuse = await gql(ciam, REFRESH, { r: first.refreshToken });
    expect(code(reuse.errors)).toBe('UNAUTHENTICATED');
    expect(await store.exists(`angelis:session:${first.me.sessionId}`)).toBe(false);
    expect(code((await gql(ciam, REFRESH, { r: second.refreshToken })).errors)).toBe('UNAUTHENTICATED');
    const { rows } = await ciam.db.query(`SELECT data FROM events WHERE event_type = 'SessionRevoked' AND data ->> 'sessionId' = $1`, [first.me.sessionId]);
    expect(rows[0].data.reason).toBe('REFRESH_TOKEN_REUSED');
  });

  it('a forged refresh token does not revoke the session', async () => {
    const user = await activeUser();
    const t = await fullLogin(user.email);
    const forged = `${t.me.sessionId}.1.${randomBytes(32).toString('base64url')}`;
    expect(code((await gql(ciam, REFRESH, { r: forged })).errors)).toBe('UNAUTHENTICATED');
    expect(await store.exists(`angelis:session:${t.me.sessionId}`)).toBe(true);
  });

  it('logout ends one session; logoutEverywhere ends all of them', async () => {
    const user = await activeUser();
    const a = await fullLogin(user.email);
    const b = await fullLogin(user.email);
    const c = await fullLogin(user.email);
    expect((await gql(ciam, `mutation($r: String) { logout(refreshToken: $r) }`, { r: a.refreshToken })).data!.logout).toBe(true);
    expect(await store.exists(`angelis:session:${a.me.sessionId}`)).toBe(false);
    expect(await store.exists(`angelis:session:${b.me.sessionId}`)).toBe(true);

    const identity: Identity = { userId: user.id, kind: 'internal-user', role: 'MANAGER', companyId: user.companyId, profileId: null, sessionId: b.me.sessionId };
    const all = await gql(ciam, `mutation { logoutEverywhere }`, {}, as(identity));
    expect(all.data!.logoutEverywhere).toBe(2);
    for (const s of [b, c]) expect(await store.exists(`angelis:session:${s.me.sessionId}`)).toBe(false);
    expect(code((await gql(ciam, REFRESH, { r: c.refreshToken })).errors)).toBe('UNAUTHENTICATED');
  });
});

describe('signing keys', () => {
  it('rotation signs with a new key and keeps the old tokens valid', async () => {
    const user = await activeUser();
    const before = await fullLogin(user.email);
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    const rotated = await gql(ciam, `mutation { rotateSigningKey { rotated publishedKeyIds } }`, {}, as(admin()));
    expect(rotated.data!.rotateSigningKey.rotated).toBe(true);
    expect(rotated.data!.rotateSigningKey.publishedKeyIds).toContain(oldKid);
    const after = await fullLogin(user.email);
    expect(decodeProtectedHeader(after.accessToken).kid).not.toBe(oldKid);
    await expect(verifyToken(before.accessToken)).resolves.toBeTruthy();
    await expect(verifyToken(after.accessToken)).resolves.toBeTruthy();
    const keys = (await jwks()).keys;
    expect(keys.every((k) => !('d' in k))).toBe(true);
  });

  it('only an ADMIN may rotate', async () => {
    const manager: Identity = { ...admin(), role: 'MANAGER', companyId: randomUUID() };
    expect(code((await gql(ciam, `mutation { rotateSigningKey { rotated } }`, {}, as(manager))).errors)).toBe('FORBIDDEN');
  });
});

describe('workers', () => {
  it('log in by RUT in any format and a code', async () => {
    const body = String(10_000_000 + Math.floor(Math.random() * 9_000_000));
    const rut = `${body}-${checkDigit(body)}`;
    const profileId = randomUUID();
    const companyId = randomUUID();
    // Enabled the trusted way, as the seed does (through GraphQL CIAM asks Workforce first:
    // test/worker-login.e2e.spec.ts covers that path with the real Workforce).
    await ciam.commands.enableWorkerLogin({ actor: { id: 'test', kind: 'system' }, correlationId: 'ciam-e2e' }, { profileId, rut, companyId });
    const manager: Identity = { ...admin(), role: 'MANAGER', companyId };
    const enabled = await gql(ciam, `query($p: ID!) { workerAccount(profileId: $p) { rut profile { id } company { id } } }`, { p: profileId }, as(manager));
    expect(enabled.data!.workerAccount).toEqual({ rut, profile: { id: profileId }, company: { id: companyId } });
    // Refused before Workforce is asked: the caller does not manage the company.
    const otherManager: Identity = { ...manager, companyId: randomUUID() };
    const denied = await gql(ciam, `mutation($p: ID!, $r: String!, $c: ID!) { enableWorkerLogin(profileId: $p, rut: $r, companyId: $c) { rut } }`, { p: randomUUID(), r: rut, c: companyId }, as(otherManager));
    expect(code(denied.errors)).toBe('FORBIDDEN');

    const dotted = `${body.replace(/\B(?=(\d{3})+(?!\d))/g, '.')}-${checkDigit(body)}`;
    const challenge = await gql(ciam, `mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: dotted });
    const tokens = (await gql(ciam, VERIFY, { c: challenge.data!.requestWorkerCode.challengeId, code: inbox.get(profileId) })).data!.verifyLoginCode;
    expect(tokens.me).toMatchObject({ userId: profileId, role: 'WORKER', kind: 'PROFILE', company: { id: companyId } });
    const { payload } = await verifyToken(tokens.accessToken);
    expect(payload).toMatchObject({ sub: profileId, kind: 'profile', role: 'WORKER', pid: profileId, cid: companyId });

    // An unknown RUT gets a challenge too (no enumeration), but no code works.
    const unknown = await gql(ciam, `mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: '11.111.111-1' });
    expect(unknown.data!.requestWorkerCode.challengeId).toBeTruthy();
    expect(code((await gql(ciam, VERIFY, { c: unknown.data!.requestWorkerCode.challengeId, code: '123456' })).errors)).toBe('UNAUTHENTICATED');
  });
});

describe('users', () => {
  it('a MANAGER lists only their company; a role change ends the sessions', async () => {
    const companyId = randomUUID();
    const mine = await activeUser('MANAGER', companyId);
    const other = await activeUser('MANAGER');
    const manager: Identity = { userId: mine.id, kind: 'internal-user', role: 'MANAGER', companyId, profileId: null, sessionId: randomUUID() };
    const list = await gql(ciam, `{ internalUsers(first: 100) { nodes { id } } }`, {}, as(manager));
    const ids = list.data!.internalUsers.nodes.map((n: { id: string }) => n.id);
    expect(ids).toEqual([mine.id]);
    expect(code((await gql(ciam, `query($c: ID) { internalUsers(companyId: $c) { nodes { id } } }`, { c: other.companyId }, as(manager))).errors)).toBe('FORBIDDEN');
    expect((await gql(ciam, `query($id: ID!) { internalUser(id: $id) { id } }`, { id: other.id }, as(manager))).data!.internalUser).toBeNull();

    const t = await fullLogin(other.email);
    const changed = await gql(ciam, `mutation($u: ID!) { changeRole(userId: $u, role: ADMIN) { role company { id } } }`, { u: other.id }, as(admin()));
    expect(changed.data!.changeRole).toEqual({ role: 'ADMIN', company: null });
    expect(await store.exists(`angelis:session:${t.me.sessionId}`)).toBe(false);
    expect(await actions(other.id)).toEqual(expect.arrayContaining(['RoleChanged', 'SessionRevoked']));
  });
});
