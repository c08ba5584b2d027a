import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../gateway/server.ts';
import type { RunningServer } from '../platform/http/server.ts';
import { createLogger } from '../platform/logger.ts';
import { startTestStack, type GraphQLResponse, type TestStack } from './support/stack.ts';
import { rut } from './support/workforce.ts';

/**
 * A subgraph the gateway cannot reach costs only its part of a query: that part is null,
 * with SOURCE_UNAVAILABLE naming the subgraph at the path of each field asked of it (a
 * non-null field's null reaches its nullable parent: `createdBy { name }` is a null
 * createdBy and an error at createdBy.name), and the rest is answered; /readyz says not
 * ready until it is back.
 */
let stack: TestStack;
const ids: Record<string, string> = {};
const MANAGER_NAME = 'Carla Creadora';

beforeAll(async () => {
  stack = await startTestStack('down');
  const admin = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await stack.gql(query, variables);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data;
  };
  ids.company = (await admin(`mutation($r: String!) { registerCompany(input: {name: "Caída SpA", taxRut: $r}) { id } }`, { r: rut(76_400_001) })).registerCompany.id;
  const invited = await admin(`mutation($c: ID!, $n: String!) { inviteUser(input: {email: "carla@down.test", name: $n, role: MANAGER, companyId: $c}) { user { id } } }`, {
    c: ids.company,
    n: MANAGER_NAME,
  });
  ids.manager = invited.inviteUser.user.id;
  // Created as that internal user, so Profile.createdBy is answered by CIAM.
  for (const [key, body] of [['ana', 18_400_001], ['beto', 18_400_002]] as const) {
    const res = await stack.gql(`mutation($r: String!, $n: String!) { createProfile(input: {rut: $r, firstName: $n, lastName: "Down"}) { id } }`, { r: rut(body), n: key }, ids.manager);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    ids[key] = res.data.createProfile.id;
  }
});
afterAll(async () => stack?.stop());

/** Stops a subgraph's listener (connections refused) until the returned function starts it again on the same port. */
async function takeDown(server: RunningServer): Promise<() => Promise<void>> {
  await new Promise<void>((resolve) => {
    server.server.close(() => resolve());
    server.server.closeAllConnections();
  });
  return () => new Promise<void>((resolve) => server.server.listen(server.port, '127.0.0.1', () => resolve()));
}

const readyz = async (gateway: RunningServer) => (await fetch(gateway.url.replace(/\/graphql$/, '/readyz'))).status;
const unavailable = (res: GraphQLResponse) => res.errors?.map((e) => ({ code: e.extensions?.code, path: e.path ?? null, source: e.extensions?.source })) ?? [];

describe('CIAM down', () => {
  it('answers the Workforce part; the CIAM part is null with SOURCE_UNAVAILABLE at its path; /readyz says not ready; all back once CIAM is', async () => {
    const query = `query($ana: ID!, $company: ID!) {
      profile(id: $ana) { fullName createdBy { name } }
      profiles(first: 10) { nodes { firstName createdBy { name } } }
      company(id: $company) { name }
    }`;
    const variables = { ana: ids.ana, company: ids.company };
    const whole = {
      profile: { fullName: 'ana Down', createdBy: { name: MANAGER_NAME } },
      profiles: { nodes: [{ firstName: 'ana', createdBy: { name: MANAGER_NAME } }, { firstName: 'beto', createdBy: { name: MANAGER_NAME } }] },
      company: { name: 'Caída SpA' },
    };
    const before = await stack.gql(query, variables);
    expect(before.errors).toBeUndefined();
    expect({ ...before.data, profiles: { nodes: [...before.data.profiles.nodes].sort((a, b) => a.firstName.localeCompare(b.firstName)) } }).toEqual(whole);
    expect(await readyz(stack.gateway)).toBe(200);

    const restart = await takeDown(stack.ciam.server);
    try {
      const res = await stack.gql(query, variables);
      expect(res.status).toBe(200);
      const order: string[] = res.data.profiles.nodes.map((n: { firstName: string }) => n.firstName);
      expect(res.data).toEqual({
        profile: { fullName: 'ana Down', createdBy: null },
        profiles: { nodes: order.map((firstName) => ({ firstName, createdBy: null })) },
        company: { name: 'Caída SpA' },
      });
      expect(unavailable(res).sort((a, b) => JSON.stringify(a.path).localeCompare(JSON.stringify(b.path)))).toEqual([
        { code: 'SOURCE_UNAVAILABLE', path: ['profile', 'createdBy', 'name'], source: 'ciam' },
        { code: 'SOURCE_UNAVAILABLE', path: ['profiles', 'nodes', 0, 'createdBy', 'name'], source: 'ciam' },
        { code: 'SOURCE_UNAVAILABLE', path: ['profiles', 'nodes', 1, 'createdBy', 'name'], source: 'ciam' },
      ]);
      expect(res.errors![0].message).toMatch(/ciam/);

      // Only the down subgraph: a query and an anonymous login.
      const only = await stack.gql(`{ internalUser(id: "${ids.manager}") { name } }`);
      expect(only.data).toEqual({ internalUser: null });
      expect(unavailable(only)).toEqual([{ code: 'SOURCE_UNAVAILABLE', path: ['internalUser'], source: 'ciam' }]);
      const login = await stack.gql(`mutation { login(email: "carla@down.test", password: "whatever-it-is") { challengeId } }`, {}, null);
      expect(unavailable(login)).toEqual([{ code: 'SOURCE_UNAVAILABLE', path: ['login'], source: 'ciam' }]);

      // A root field of the down subgraph is null on its own: the rest of the document is answered.
      const roots = await stack.gql(`{ me { role } companies(search: "Caída") { nodes { name } } }`);
      expect(roots.data).toEqual({ me: null, companies: { nodes: [{ name: 'Caída SpA' }] } });
      expect(unavailable(roots)).toEqual([{ code: 'SOURCE_UNAVAILABLE', path: ['me'], source: 'ciam' }]);

      expect(await readyz(stack.gateway)).toBe(503);
    } finally {
      await restart();
    }
    const after = await stack.gql(query, variables);
    expect(after.errors).toBeUndefined();
    expect(after.data.profile).toEqual(whole.profile);
    expect(await readyz(stack.gateway)).toBe(200);
  });
});

describe('Workforce down', () => {
  it('answers the CIAM part; the Workforce part is null with SOURCE_UNAVAILABLE at its path', async () => {
    const restart = await takeDown(stack.workforce.server);
    try {
      const manager = { 'x-angelis-dev-user': ids.manager, 'x-angelis-dev-role': 'MANAGER', 'x-angelis-dev-company': ids.company };
      const res = await fetch(stack.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...manager },
        body: JSON.stringify({ query: `{ me { role company { name } } }` }),
      });
      const body = (await res.json()) as GraphQLResponse;
      expect(body.data).toEqual({ me: { role: 'MANAGER', company: null } });
      expect(unavailable(body)).toEqual([{ code: 'SOURCE_UNAVAILABLE', path: ['me', 'company', 'name'], source: 'workforce' }]);
      const roots = await stack.gql(`{ me { role } companies { nodes { name } } licenses { nodes { type } } }`);
      expect(roots.data).toEqual({ me: { role: 'ADMIN' }, companies: null, licenses: null });
      expect(unavailable(roots).map((e) => e.path)).toEqual([['companies'], ['licenses']]);
      expect(await readyz(stack.gateway)).toBe(503);
    } finally {
      await restart();
    }
  });
});

describe('a subgraph behind a proxy that answers 503, or that never answers', () => {
  let stub: http.Server;
  let gateway: RunningServer;
  const hung: http.ServerResponse[] = [];
  beforeAll(async () => {
    // /busy answers like a proxy whose upstream is down; /hung never answers.
    stub = http.createServer((req, res) => {
      if (req.url === '/busy/graphql') return void res.writeHead(503, { 'content-type': 'text/html' }).end('<h1>503 Service Unavailable</h1>');
      hung.push(res);
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', () => resolve()));
  });
  afterAll(async () => {
    for (const res of hung) res.destroy();
    await gateway?.stop();
    await new Promise((resolve) => stub?.close(resolve));
  });

  for (const [path, what] of [['busy', '503'], ['hung', 'a timeout']] as const) {
    it(`turns ${what} into SOURCE_UNAVAILABLE`, async () => {
      await gateway?.stop();
      const port = (stub.address() as AddressInfo).port;
      const config = { ...stack.config, ANGELIS_GATEWAY_SUBGRAPH_TIMEOUT_MS: 500 };
      gateway = await startGateway(config, createLogger('test', 'silent'), {
        port: 0,
        subgraphUrls: { workforce: stack.workforce.server.url, ciam: `http://127.0.0.1:${port}/${path}/graphql` },
        store: stack.store,
        keyPrefix: stack.keyPrefix,
      });
      const res = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'admin@down.test' },
        body: JSON.stringify({ query: `query($ana: ID!) { profile(id: $ana) { fullName createdBy { name } } }`, variables: { ana: ids.ana } }),
      });
      const body = (await res.json()) as GraphQLResponse;
      expect(body.data).toEqual({ profile: { fullName: 'ana Down', createdBy: null } });
      expect(unavailable(body)).toEqual([{ code: 'SOURCE_UNAVAILABLE', path: ['profile', 'createdBy', 'name'], source: 'ciam' }]);
    });
  }
});
