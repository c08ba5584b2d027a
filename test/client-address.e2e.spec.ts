import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * CIAM limits logins per client address. Only the gateway may name that address (signed
 * with ANGELIS_IDENTITY_SECRET): an X-Forwarded-For sent straight to CIAM neither spreads
 * one caller over many addresses nor spends someone else's allowance.
 */
const PER_ADDRESS = 5;
let stack: TestStack;

beforeAll(async () => {
  // The gateway sits behind a proxy (this test plays it), so it takes X-Forwarded-For from its caller.
  stack = await startTestStack('clientaddr', {
    env: { ANGELIS_GATEWAY_TRUST_PROXY: 'true' },
    ciam: { rateLimits: { perAccount: 1_000, perAddress: PER_ADDRESS } },
  });
});
afterAll(async () => stack?.stop());

const LOGIN = `mutation($e: String!) { login(email: $e, password: "not the password") { challengeId } }`;

/** One failed login (an unknown account each time, so only the address limit can bite): its error code. */
async function login(url: string, forwardedFor: string): Promise<string | undefined> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ query: LOGIN, variables: { e: `nobody-${randomUUID()}@example.com` } }),
  });
  const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
  return body.errors?.[0]?.extensions?.code;
}

const ciamUrl = () => stack.ciam.server.url;
const gatewayUrl = () => stack.gateway.url;

describe('the client address CIAM counts logins against', () => {
  it('straight to CIAM, a forged X-Forwarded-For is ignored: every address counts as the caller itself', async () => {
    const codes = [];
    for (let i = 0; i <= PER_ADDRESS; i++) codes.push(await login(ciamUrl(), `198.51.100.${i + 1}`));
    expect(codes).toEqual([...Array(PER_ADDRESS).fill('UNAUTHENTICATED'), 'RATE_LIMITED']);
  });

  it('a forged X-Forwarded-For cannot spend someone else’s allowance', async () => {
    const victim = '203.0.113.7';
    for (let i = 0; i <= PER_ADDRESS; i++) await login(ciamUrl(), victim);
    // The victim, arriving through the gateway, still has every attempt.
    expect(await login(gatewayUrl(), victim)).toBe('UNAUTHENTICATED');
  });

  it('through the gateway, the limit applies per real client address', async () => {
    const one = '192.0.2.10';
    const other = '192.0.2.11';
    const codes = [];
    for (let i = 0; i < PER_ADDRESS; i++) codes.push(await login(gatewayUrl(), one));
    codes.push(await login(gatewayUrl(), one));
    expect(codes).toEqual([...Array(PER_ADDRESS).fill('UNAUTHENTICATED'), 'RATE_LIMITED']);
    expect(await login(gatewayUrl(), other)).toBe('UNAUTHENTICATED');
  });
});
