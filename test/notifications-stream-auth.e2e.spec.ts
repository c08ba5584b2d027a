import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { claimsOf, type Identity } from '../platform/auth/identity.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import type { GatewayOptions } from '../gateway/server.ts';
import { okAs, role, rut } from './support/workforce.ts';
import { collect, companyWithProject, raiseAboutProject, sseClient, streamUrl } from './support/sse.ts';

/**
 * Streams live as long as the access token and the session that opened them: with a key
 * pair standing in for CIAM's, a token that expires and a session that is revoked each end
 * their streams with a reason; a single-connection token serves only whoever reserved it.
 */
let stack: TestStack;
let signingKey: CryptoKey;
let auth: NonNullable<GatewayOptions['auth']>;
const liveSessions = new Set<string>();
const ids: Record<string, string> = {};
const QUERY = `subscription { notificationAdded { id title } }`;

const managerOf = (sessionId: string, userId = `u-${sessionId}`): Identity => ({ userId, kind: 'internal-user', role: 'MANAGER', companyId: ids.A, profileId: null, sessionId });

async function bearer(identity: Identity, expiresInS = 300): Promise<Record<string, string>> {
  liveSessions.add(identity.sessionId);
  const token = await new SignJWT(claimsOf(identity) as never)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer('angelis-ciam')
    .setAudience('angelis')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInS)
    .sign(signingKey);
  return { authorization: `Bearer ${token}` };
}

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  auth = { jwks: createLocalJWKSet({ keys: [jwk] }), sessionActive: async (sid: string) => liveSessions.has(sid) };
  stack = await startTestStack('notify_auth', { env: { ANGELIS_GATEWAY_SSE_SESSION_CHECK_MS: '200' }, gateway: { auth } });
  const offering = (await okAs(stack, role.admin(), `mutation { createOffering(input: {code: "AUT", name: "Auth"}) { id } }`)).createOffering.id;
  const a = await companyWithProject(stack, 'Alpha', rut(76_600_001), offering);
  Object.assign(ids, { A: a.companyId, PA: a.projectId });
});
afterAll(async () => stack?.stop());

describe.each([
  ['distinct connections', false],
  ['a single connection', true],
])('over %s', (_mode, single) => {
  it('a bearer token subscribes like it queries; when it expires the stream ends with TOKEN_EXPIRED', async () => {
    const sub = collect(sseClient(stack.gateway.url, await bearer(managerOf(`exp-${single}`), 3), single), QUERY);
    await new Promise((r) => setTimeout(r, 500));
    const id = await raiseAboutProject(stack, ids.PA, 'Before expiry');
    expect((await sub.waitFor(1))[0].data.notificationAdded.id).toBe(id);
    await sub.ended;
    expect(sub.error).toBeUndefined();
    expect(sub.results).toHaveLength(2);
    expect(sub.results[1].errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
  });

  it('a revoked session ends its streams with SESSION_REVOKED (and only its own)', async () => {
    const revoked = managerOf(`rev-${single}`);
    const kept = managerOf(`keep-${single}`);
    const gone = collect(sseClient(stack.gateway.url, await bearer(revoked), single), QUERY);
    const stays = collect(sseClient(stack.gateway.url, await bearer(kept), single), QUERY);
    await new Promise((r) => setTimeout(r, 500));
    liveSessions.delete(revoked.sessionId);
    await gone.ended;
    expect(gone.results.at(-1)?.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SESSION_REVOKED' });
    const id = await raiseAboutProject(stack, ids.PA, 'After revocation');
    expect((await stays.waitFor(1))[0].data.notificationAdded.id).toBe(id);
    expect(gone.results.map((r) => r.data?.notificationAdded?.id).filter(Boolean)).toEqual([]);
    stays.dispose();
  });
});

describe('single-connection tokens', () => {
  it('serve only the caller that reserved them', async () => {
    const url = streamUrl(stack.gateway.url);
    const owner = await bearer(managerOf('owner'));
    const thief = await bearer(managerOf('thief'));
    const reserved = await fetch(url, { method: 'PUT', headers: owner });
    expect(reserved.status).toBe(201);
    const token = await reserved.text();
    const stolen = await fetch(url, { headers: { ...thief, accept: 'text/event-stream', 'x-graphql-event-stream-token': token } });
    expect(stolen.status).toBe(404);
    const injected = await fetch(url, {
      method: 'POST',
      headers: { ...thief, 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: QUERY, extensions: { operationId: 'x' } }),
    });
    expect(injected.status).toBe(404);
    const anonymous = await fetch(url, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token } });
    expect(anonymous.status).toBe(401);
  });
});

describe('rate limits', () => {
  it('charge stream requests like queries: past the limit, 429 RATE_LIMITED with Retry-After', async () => {
    const strict = await stack.startGateway({ auth }, { ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: 2 });
    const headers = await bearer(managerOf('limited'));
    const statuses = [];
    for (let n = 0; n < 3; n++) {
      const res = await fetch(streamUrl(strict.url), { method: 'PUT', headers });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(((await res.json()) as any).errors[0].extensions.code).toBe('RATE_LIMITED');
      }
    }
    expect(statuses).toEqual([201, 201, 429]);
  });

  it('charge refused stream requests against their address: a flood of bad tokens ends in 429 RATE_LIMITED', async () => {
    // Behind a trusted proxy, from an address no other test uses.
    const strict = await stack.startGateway({ auth }, { ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: 3, ANGELIS_GATEWAY_TRUST_PROXY: true });
    const from = (address: string) => fetch(streamUrl(strict.url), { method: 'PUT', headers: { authorization: 'Bearer not-a-token', 'x-forwarded-for': address } });
    const statuses = [];
    for (let n = 0; n < 4; n++) statuses.push((await from('198.51.100.90')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await from('198.51.100.91')).status).toBe(401);
  });
});
