import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { claimsOf, IDENTITY_HEADER, signIdentity, type Identity } from '../platform/auth/identity.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * The gateway's trust chain with a key pair standing in for CIAM's: only tokens signed by
 * a published key, for our issuer and audience, unexpired, with a live session, get in;
 * subgraphs accept only the identity the gateway signs.
 */
let stack: TestStack;
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let jwks: ReturnType<typeof createLocalJWKSet>;
const liveSessions = new Set<string>(['s-live']);
const ISSUER = 'angelis-ciam';
const AUDIENCE = 'angelis';

const admin: Identity = { userId: 'u-admin', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 's-live' };

function token(key: CryptoKey, claims: Record<string, unknown> = claimsOf(admin) as never, opts: { exp?: string | number; aud?: string; kid?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? 'k1' })
    .setIssuer(ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(key);
}

async function call(authorization: string | null, extraHeaders: Record<string, string> = {}, url = stack.gateway.url) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}), ...extraHeaders },
    body: JSON.stringify({ query: '{ offerings { code } }' }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwks = createLocalJWKSet({ keys: [jwk] });
  stack = await startTestStack('auth', {
    gateway: { auth: { jwks, sessionActive: async (sid) => liveSessions.has(sid) } },
  });
});
afterAll(async () => stack?.stop());

describe('gateway authentication', () => {
  it('lets a valid access token in and passes the identity on', async () => {
    const res = await call(`Bearer ${await token(signingKey)}`);
    expect(res.body.errors).toBeUndefined();
    expect(res.status).toBe(200);
  });

  it.each([
    ['an expired token', async () => token(signingKey, undefined, { exp: Math.floor(Date.now() / 1000) - 10 }), /expired/],
    ['a token signed by another key', async () => token(otherKey), /not valid/],
    ['a token for another audience', async () => token(signingKey, undefined, { aud: 'someone-else' }), /not valid/],
    [
      'a tampered payload (role raised to ADMIN after signing)',
      async () => {
        const [h, , s] = (await token(signingKey, claimsOf({ ...admin, role: 'WORKER', profileId: 'p1', kind: 'profile' }) as never)).split('.');
        const forged = Buffer.from(JSON.stringify({ ...claimsOf(admin), iss: ISSUER, aud: AUDIENCE, exp: 9_999_999_999 })).toString('base64url');
        return `${h}.${forged}.${s}`;
      },
      /not valid/,
    ],
    [
      'an unsigned token (alg: none)',
      async () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const body = Buffer.from(JSON.stringify({ ...claimsOf(admin), iss: ISSUER, aud: AUDIENCE, exp: 9_999_999_999 })).toString('base64url');
        return `${header}.${body}.`;
      },
      /not valid/,
    ],
    ['a token whose session was revoked', async () => token(signingKey, claimsOf({ ...admin, sessionId: 's-revoked' }) as never), /session has ended/],
    ['a token with claims that are not ours', async () => token(signingKey, { sub: 'x', role: 'ROOT', sid: 's-live' }), /not valid/],
  ])('refuses %s with UNAUTHENTICATED and HTTP 401', async (_name, make, message) => {
    const res = await call(`Bearer ${await make()}`);
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors[0].message).toMatch(message);
    expect(res.body.data).toBeUndefined();
  });

  it('a token accepted once is still refused after it expires (verified tokens are remembered only until exp)', async () => {
    const t = await token(signingKey, undefined, { exp: Math.floor(Date.now() / 1000) + 2 });
    expect((await call(`Bearer ${t}`)).status).toBe(200);
    expect((await call(`Bearer ${t}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_300));
    const late = await call(`Bearer ${t}`);
    expect(late.status).toBe(401);
    expect(late.body.errors[0].message).toMatch(/access token has expired/);
  });

  it('refuses a malformed Authorization header', async () => {
    const res = await call('Basic dXNlcjpwYXNz');
    expect([res.status, res.body.errors[0].extensions.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('logout takes effect at once: the same token is refused once its session is gone', async () => {
    liveSessions.add('s-short');
    const t = await token(signingKey, claimsOf({ ...admin, sessionId: 's-short' }) as never);
    expect((await call(`Bearer ${t}`)).status).toBe(200);
    liveSessions.delete('s-short');
    expect((await call(`Bearer ${t}`)).status).toBe(401);
  });

  it('a revoked session never gets an answer the response cache holds (the session check runs alongside the lookup)', async () => {
    liveSessions.add('s-cached');
    const t = await token(signingKey, claimsOf({ ...admin, sessionId: 's-cached' }) as never);
    const cache = stack.gateway.responseCache!;
    for (let i = 0; i < 3; i++) expect((await call(`Bearer ${t}`)).status).toBe(200);
    const hits = cache.stats.hits;
    expect((await call(`Bearer ${t}`)).status).toBe(200);
    expect(cache.stats.hits).toBe(hits + 1);
    liveSessions.delete('s-cached');
    const refused = await call(`Bearer ${t}`);
    // The lookup found it, and the answer was still withheld.
    expect(cache.stats.hits).toBe(hits + 2);
    expect([refused.status, refused.body.errors[0].extensions.code, refused.body.data]).toEqual([401, 'UNAUTHENTICATED', undefined]);
    expect(refused.body.errors[0].message).toMatch(/session has ended/);
  });
});

describe('rate limits and revoked sessions', () => {
  it("an old token whose session was revoked cannot use up its user's limit: only its address is charged", async () => {
    // Three requests a window per user; the address's limit out of the way.
    const gateway = await stack.startGateway(
      { auth: { jwks, sessionActive: async (sid: string) => liveSessions.has(sid) } },
      { ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: 3, ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: 1_000 },
    );
    const user = { ...admin, userId: `u-limited-${Date.now()}` };
    liveSessions.add('s-current');
    const revoked = await token(signingKey, claimsOf({ ...user, sessionId: 's-stolen' }) as never);
    const current = await token(signingKey, claimsOf({ ...user, sessionId: 's-current' }) as never);
    for (let i = 0; i < 10; i++) {
      const res = await call(`Bearer ${revoked}`, {}, gateway.url);
      expect([res.status, res.body.errors[0].extensions.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
    // The user's own three requests of the window are still theirs, and the fourth is refused.
    for (let i = 0; i < 3; i++) expect((await call(`Bearer ${current}`, {}, gateway.url)).status).toBe(200);
    const fourth = await call(`Bearer ${current}`, {}, gateway.url);
    expect([fourth.status, fourth.body.errors[0].extensions.code]).toEqual([429, 'RATE_LIMITED']);
    // Over the limit, a revoked token is still told its session ended, and takes back only its own hit.
    expect((await call(`Bearer ${revoked}`, {}, gateway.url)).status).toBe(401);
    expect((await call(`Bearer ${current}`, {}, gateway.url)).status).toBe(429);
  });
});

describe('subgraph trust', () => {
  const subgraph = () => stack.workforce.server.url;
  const secret = () => 'angelis-development-only-identity-secret';

  it('accepts the identity the gateway signed', async () => {
    const res = await call(null, { [IDENTITY_HEADER]: signIdentity(admin, secret()) }, subgraph());
    expect(res.body.errors).toBeUndefined();
  });

  it('refuses an identity signed with another secret, or edited after signing', async () => {
    const forged = await call(null, { [IDENTITY_HEADER]: signIdentity(admin, 'x'.repeat(40)) }, subgraph());
    expect(forged.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const [payload, mac] = signIdentity({ ...admin, role: 'WORKER', profileId: 'p', kind: 'profile' }, secret()).split('.');
    const edited = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'ADMIN' })).toString('base64url');
    const res = await call(null, { [IDENTITY_HEADER]: `${edited}.${mac}` }, subgraph());
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a signed identity replayed after a minute', async () => {
    const old = signIdentity(admin, secret(), Date.now() - 120_000);
    const res = await call(null, { [IDENTITY_HEADER]: old }, subgraph());
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors[0].message).toMatch(/expired/);
  });
});
