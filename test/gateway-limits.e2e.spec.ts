import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack('limits', {
    // Behind a trusted proxy, so a test can come from an address of its own (X-Forwarded-For); the others come from the socket's.
    env: { ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: '5', ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: '12', ANGELIS_GATEWAY_RATE_LIMIT_WINDOW_MS: '60000', ANGELIS_GATEWAY_TRUST_PROXY: 'true' },
  });
});
afterAll(async () => stack?.stop());

async function post(query: string, user: string | null) {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { 'x-angelis-dev-user': user } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
}

describe('gateway limits', () => {
  it('refuses the same identity past its limit with RATE_LIMITED, 429 and Retry-After; others still get in', async () => {
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await post('{ offerings { code } }', 'busy@test'));
    expect(results.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const refused = results[5];
    expect(refused.status).toBe(429);
    expect(refused.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(refused.body.errors[0].extensions.retryAfterSeconds).toBe(Number(refused.retryAfter));
    expect((await post('{ offerings { code } }', 'calm@test')).status).toBe(200);
  });

  it('refuses one address past its limit, signed in or not', async () => {
    // 7 requests so far from this address; the limit is 12.
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await post('{ __typename }', null)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('counts requests whose token is refused against their address: a flood of bad tokens ends in RATE_LIMITED', async () => {
    const codes = [];
    for (let i = 0; i < 13; i++) {
      const res = await fetch(stack.gateway.url, {
        method: 'POST',
        // A well-formed token no key signed, then a malformed one: both refused.
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.77', authorization: i % 2 ? 'Bearer not-a-token' : 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' },
        body: JSON.stringify({ query: '{ offerings { code } }' }),
      });
      codes.push([res.status, ((await res.json()) as any).errors?.[0]?.extensions?.code]);
    }
    expect(codes.slice(0, 12).every(([, code]) => code === 'UNAUTHENTICATED')).toBe(true);
    expect(codes[12]).toEqual([429, 'RATE_LIMITED']);
    // Another address is not affected.
    const other = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.78', authorization: 'Bearer not-a-token' },
      body: JSON.stringify({ query: '{ offerings { code } }' }),
    });
    expect(((await other.json()) as any).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('query limits', () => {
  let fresh: TestStack;
  beforeAll(async () => {
    fresh = await startTestStack('qlimits');
  });
  afterAll(async () => fresh?.stop());
  const run = (query: string) => fresh.gql(query);

  it('refuses a query nested deeper than 12 levels, before planning', async () => {
    const deep = `{ profiles { nodes { companies { company { projects { nodes { company { projects { nodes { company { projects { nodes { company { id } } } } } } } } } } } } } }`;
    const res = await run(deep);
    expect(res.status).toBe(400);
    expect(res.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toMatch(/nests 14 levels deep; at most 12/);
    // One level within the limit is fine.
    expect((await run(`{ companies { nodes { projects { nodes { company { name } } } } } }`)).errors).toBeUndefined();
  });

  it('counts fragments toward depth', async () => {
    const q = `query { profiles { nodes { ...P } } } fragment P on Profile { companies { company { projects { nodes { company { projects { nodes { company { projects { nodes { company { id } } } } } } } } } } } }`;
    expect((await run(q)).errors![0].message).toMatch(/levels deep/);
  });

  it('refuses more than 30 aliases', async () => {
    const many = Array.from({ length: 31 }, (_, i) => `a${i}: offerings { code }`).join(' ');
    const res = await run(`{ ${many} }`);
    expect(res.errors![0].message).toMatch(/31 aliases; at most 30/);
  });

  it('refuses an operation name that picks no operation as the client\'s mistake (it was an internal error)', async () => {
    const query = `query Mine { offerings { code } }`;
    for (const [body, message] of [
      [{ query, operationName: 'Other' }, 'Unknown operation named "Other".'],
      [{ query, operationName: '' }, 'Unknown operation named "".'],
      [{ query: `${query} query Second { __typename }` }, 'Must provide operation name if query contains multiple operations.'],
    ] as const) {
      const res = await fetch(fresh.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'admin@angelis.test' }, body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: unknown[] }).errors).toEqual([{ message, extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }]);
    }
    // Named, the same document runs.
    const named = await fetch(fresh.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'admin@angelis.test' }, body: JSON.stringify({ query: `${query} query Second { __typename }`, operationName: 'Second' }) });
    expect(await named.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses more than 5,000 tokens without parsing them all', async () => {
    const res = await run(`{ ${'__typename '.repeat(6_000)} }`);
    expect(res.status).toBe(400);
    expect(res.errors![0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    // (graphql-js's own wording, typo included)
    expect(res.errors![0].message).toMatch(/more (than|that) 5000 tokens/);
  });
});
