import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { okAs, role, rut } from './support/workforce.ts';
import { companyWithProject, raiseAboutProject } from './support/sse.ts';
import type { RunningGateway } from '../gateway/server.ts';
import { tcpRelay } from '../platform/testing/tcp-relay.ts';

/**
 * Single-subgraph queries sent as written (gateway/passthrough.ts) answer exactly what the
 * planned path answers: every operation below runs through a gateway with passthrough and
 * one without, as several roles, and the whole responses (data, errors with their paths and
 * codes) must be equal; the counters show which path each took. The response cache is off
 * here, so both gateways compute every answer.
 */
let stack: TestStack;
let planned: RunningGateway;
/** Passthrough with the response and entity caches on (gateway/entity-cache.ts): its split answers must be the planned path's too. */
let cached: RunningGateway;
const ids: Record<string, string> = {};

async function post(url: string, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  stack = await startTestStack('passthrough', { env: { ANGELIS_GATEWAY_RESPONSE_CACHE: 'off' } });
  planned = await stack.startGateway({}, { ANGELIS_GATEWAY_PASSTHROUGH: 'off' });
  cached = await stack.startGateway({}, { ANGELIS_GATEWAY_RESPONSE_CACHE: 'on', ANGELIS_GATEWAY_ENTITY_CACHE: 'on' });
  const admin = role.admin();
  const offering = (await okAs(stack, admin, `mutation { createOffering(input: {code: "PT", name: "Pass"}) { id } }`)).createOffering.id;
  const a = await companyWithProject(stack, 'Alpha', rut(76_700_001), offering);
  const b = await companyWithProject(stack, 'Beta', rut(76_700_002), offering);
  Object.assign(ids, { A: a.companyId, PA: a.projectId, B: b.companyId });
  const p = (await okAs(stack, admin, `mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Pía", lastName: "Passthrough", phone: "+56 9 5555 0000"}) { id } }`, { r: rut(18_700_001) })).createProfile.id;
  ids.P = p;
  await okAs(stack, admin, `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p });
  await okAs(stack, admin, `mutation($p: ID!) { grantLicense(input: {profileId: $p, type: "CLASS_B", number: "PT-1", issuedOn: "2024-01-01", expiresOn: "2030-01-01"}) { id } }`, { p }).catch(() => undefined);
  await raiseAboutProject(stack, ids.PA, 'About Alpha');
  // Two anomalies in Safety on Alpha's project (a page of one has a next page), one in hostile text.
  for (const description of ['Open trench', `Cable "loose" <b>near</b> \\ the 'gate' ‮oops`]) {
    await okAs(stack, admin, `mutation($i: ReportAnomalyInput!) { reportAnomaly(input: $i) { id } }`, { i: { projectId: ids.PA, severity: 'HIGH', description } });
  }
}, 60_000);
afterAll(async () => stack?.stop());

const callers = () => ({
  admin: role.admin(),
  managerA: role.manager(ids.A, 'ann@alpha.example'),
  managerB: role.manager(ids.B, 'bob@beta.example'),
  worker: role.worker(ids.P),
});

/** Each operation, as each caller: identical responses from both gateways. */
const operations: { name: string; query: string; variables?: () => Record<string, unknown>; passes: boolean }[] = [
  {
    name: 'by id, with aliases, a named fragment, an inline fragment and __typename',
    query: `query One($id: ID!) { first: profile(id: $id) { ...Names phoneNumber: phone __typename } again: profile(id: $id) { ... on Profile { id rut } } }
            fragment Names on Profile { id fullName firstName lastName }`,
    variables: () => ({ id: ids.P }),
    passes: true,
  },
  {
    name: 'a nested read (company, projects, assignments, employees, licences)',
    query: `query Nested($id: ID!) { company(id: $id) { id name projects(first: 5) { nodes { id name status assignments { nodes { id name } } } pageInfo { hasNextPage endCursor } }
             employees(first: 5) { nodes { status profile { id fullName licenses { id type status expiresInDays } } } } } }`,
    variables: () => ({ id: ids.A }),
    passes: true,
  },
  {
    name: '@skip and @include on variables',
    query: `query Flags($id: ID!, $yes: Boolean!, $no: Boolean!) { profile(id: $id) { id rut @include(if: $yes) phone @skip(if: $yes) fullName @include(if: $no) } }`,
    variables: () => ({ id: ids.P, yes: true, no: false }),
    passes: true,
  },
  {
    name: 'a field error (BAD_USER_INPUT) with a path',
    query: `query Bad { profiles(first: -1) { nodes { id } } companies(first: 1) { nodes { id } } }`,
    passes: true,
  },
  {
    name: 'a union (notification subjects, one of them from Safety)',
    query: `query Mine { notifications(first: 5) { nodes { title subject { __typename ... on Project { id name } } } } }`,
    passes: true,
  },
  {
    name: 'two subgraphs (Workforce and Safety): planned',
    // Safety's anomalies with their non-key fields, and Workforce's entities they reference
    // (the project's name, the reporter's name: _entities fetches back to Workforce), one
    // page of one of two.
    query: `query Both($id: ID!) { project(id: $id) { id name anomalies(first: 1) { nodes { id severity description status reportedBy reporter { id fullName } project { id name faenaCode } } pageInfo { hasNextPage endCursor } } } }`,
    variables: () => ({ id: ids.PA }),
    passes: false,
  },
  {
    name: 'introspection: planned',
    query: `query Types { __type(name: "Profile") { name fields { name } } profile(id: "00000000-0000-4000-8000-000000000000") { id } }`,
    passes: false,
  },
];

describe('passthrough answers what the planned path answers', () => {
  for (const op of operations) {
    it(op.name, async () => {
      const opName = /query (\w+)/.exec(op.query)![1];
      const passedAs = () => stack.gateway.passthrough!.passedByName.get(opName) ?? 0;
      const before = passedAs();
      let asked = 0;
      for (const [who, headers] of Object.entries(callers())) {
        const variables = op.variables?.() ?? {};
        const viaPassthrough = await post(stack.gateway.url, headers, op.query, variables);
        const viaPlan = await post(planned.url, headers, op.query, variables);
        expect(viaPassthrough, `${op.name} as ${who}`).toEqual(viaPlan);
        // Twice through the cached gateway: entities fetched, then (for the ones that split) served from its entity cache.
        for (let i = 0; i < 2; i++) expect(await post(cached.url, headers, op.query, variables), `${op.name} as ${who}, cached (${i})`).toEqual(viaPlan);
        asked++;
      }
      expect(passedAs() - before).toBe(op.passes ? asked : 0);
      // The nested read splits at the employees' profiles (their licences are a subtree): answered with the cache's help.
      if (opName === 'Nested') expect(cached.entityCache!.stats.hits).toBeGreaterThan(0);
    });
  }

  it('a subgraph that is down: the planned path answers (SOURCE_UNAVAILABLE per field)', async () => {
    // A gateway whose Workforce address answers nothing.
    const down = await stack.startGateway({ subgraphUrls: { workforce: 'http://127.0.0.1:9/graphql', ciam: stack.ciam.server.url, safety: stack.safety.server.url, saferapp: stack.saferapp.server.url, fit2000: stack.fit2000.server.url } });
    const res = await post(down.url, role.admin(), `query { profile(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(res.body.data).toEqual({ profile: null });
    expect(res.body.errors[0].extensions.code).toBe('SOURCE_UNAVAILABLE');
    expect(down.passthrough!.passed).toBe(0);
  });
});

/**
 * Compiled execution (platform/graphql/compiled-execution.ts) answers what graphql-js
 * answers: each operation above, renamed per caller so every subgraph sees a text it has
 * not seen (its first sighting runs in graphql-js, the next ones compiled), through both
 * gateways (passthrough and planned: the planned path sends the subgraphs entity fetches
 * and rewritten operations), as every role; the interpreted and compiled answers must be
 * equal, and Workforce's counters must show both ran. A profile named with quotes,
 * backslashes, markup and right-to-left text is among the data.
 */
describe('compiled execution answers what graphql-js answers, through the gateway', () => {
  beforeAll(async () => {
    const admin = role.admin();
    const hostile = (await okAs(stack, admin, `mutation($r: String!, $f: String!) { createProfile(input: {rut: $r, firstName: $f, lastName: "O'Brien \\\\ \\"Zé\\" \u202eolleh", phone: "+56 9 5555 0001"}) { id } }`, {
      r: rut(18_700_002), f: `<script>alert('x')</script> ${'ñ'.repeat(3)} {"a":1}`,
    })).createProfile.id;
    await okAs(stack, admin, `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: hostile });
    ids.H = hostile;
  });

  const hostileRead = { name: 'a profile with hostile text, by id', query: `query Hostile($id: ID!) { profile(id: $id) { id rut fullName firstName lastName companies { company { id name } position startedOn } } }`, variables: () => ({ id: ids.H }), passes: true };

  for (const op of [...operations, hostileRead]) {
    it(op.name, async () => {
      const counts = stack.workforce.server.execution.counts;
      const opName = /query (\w+)/.exec(op.query)![1];
      const before = { ...counts };
      for (const [who, headers] of Object.entries(callers())) {
        for (const [path, url] of [['passthrough', stack.gateway.url], ['planned', planned.url]] as const) {
          const query = op.query.replace(`query ${opName}`, `query ${opName}_${who}_${path}`);
          const variables = op.variables?.() ?? {};
          const interpreted = await post(url, headers, query, variables);
          const compiled = await post(url, headers, query, variables);
          expect(compiled, `${op.name} as ${who} via ${path}`).toEqual(interpreted);
          expect(await post(url, headers, query, variables)).toEqual(interpreted);
        }
      }
      // Workforce took part in every one but the introspection-only-elsewhere shapes: it ran some
      // requests in graphql-js and more compiled.
      if (op.name !== 'introspection: planned') {
        expect(counts.interpreted).toBeGreaterThan(before.interpreted);
        expect(counts.compiled).toBeGreaterThan(before.compiled);
      }
      if (opName === 'Both') {
        // Not equal by both failing alike: the admin's answer holds Safety's anomaly and Workforce's fields of what it references.
        const { body } = await post(planned.url, role.admin(), op.query, op.variables?.() ?? {});
        expect(body.errors).toBeUndefined();
        const page = body.data.project.anomalies;
        expect(page.pageInfo.hasNextPage).toBe(true);
        expect(page.nodes).toHaveLength(1);
        expect(page.nodes[0]).toMatchObject({ severity: 'HIGH', status: 'OPEN', project: { id: ids.PA, name: body.data.project.name } });
        expect(typeof page.nodes[0].project.faenaCode).toBe('string');
      }
      if (op === hostileRead) {
        const { body } = await post(stack.gateway.url, role.admin(), op.query, op.variables?.() ?? {});
        expect(body.data.profile).toMatchObject({ firstName: `<script>alert('x')</script> ñññ {"a":1}`, lastName: `O'Brien \\ "Zé" \u202eolleh`, companies: [{ company: { id: ids.A, name: 'Alpha' } }] });
      }
    });
  }
});

/**
 * A query Apollo Server already ran to the passthrough is answered again without its
 * request pipeline (gateway/passthrough.ts `answer`, platform/http/server.ts `direct`): the
 * first request of a text (and of an Accept header) is Apollo's answer, the next ones are
 * direct, and they must be the same bytes with the same headers; anything not clean (an
 * error, a body or header Apollo treats otherwise, a refused caller) is Apollo's, with the
 * subgraph asked once.
 */
describe('answered without Apollo Server: byte for byte what Apollo answers', () => {
  type Raw = { status: number; headers: Record<string, string>; text: string };
  async function raw(url: string, headers: Record<string, string>, body: string): Promise<Raw> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, headers: Object.fromEntries([...res.headers].filter(([name]) => name !== 'date')), text: await res.text() };
  }
  const direct = () => stack.gateway.passthrough!.direct;
  // Requests Workforce received for the client requests that carried correlation id `id` (not
  // its executions, which count a compiled run's graphql-js re-run twice, nor other services' calls).
  const requests = new Map<string, number>();
  beforeAll(() => void stack.workforce.server.server.on('request', (req: { headers: Record<string, unknown> }) => {
    const id = req.headers['x-correlation-id'];
    if (typeof id === 'string') requests.set(id, (requests.get(id) ?? 0) + 1);
  }));
  const received = (id: string) => requests.get(id) ?? 0;
  const tracing = (id: string) => ({ 'x-correlation-id': id });

  for (const op of operations.filter((o) => o.passes)) {
    it(op.name, async () => {
      const opName = /query (\w+)/.exec(op.query)![1];
      for (const [who, headers] of Object.entries(callers())) {
        // A text this gateway has not seen: its first request runs in Apollo.
        const body = JSON.stringify({ query: op.query.replace(`query ${opName}`, `query ${opName}_direct_${who}`), variables: op.variables?.() ?? {} });
        const [once, twice] = [`direct-${opName}-${who}-once`, `direct-${opName}-${who}-again`];
        const first = await raw(stack.gateway.url, { ...headers, ...tracing(once) }, body);
        const before = direct();
        const again = [await raw(stack.gateway.url, { ...headers, ...tracing(twice) }, body), await raw(stack.gateway.url, { ...headers, ...tracing(twice) }, body)];
        for (const r of again) expect(r, `${op.name} as ${who}`).toEqual(first);
        const clean = !JSON.parse(first.text).errors;
        // Clean answers are direct; the others are Apollo's, from the fetch the direct attempt made (no extra one).
        expect(direct() - before, `${op.name} as ${who}`).toBe(clean ? 2 : 0);
        expect(received(once)).toBeGreaterThan(0);
        expect(received(twice), `${op.name} as ${who}: Workforce asked as often as for Apollo's run`).toBe(2 * received(once));
        // And what the planned path answers.
        expect(JSON.parse(first.text)).toEqual((await post(planned.url, headers, JSON.parse(body).query, JSON.parse(body).variables)).body);
      }
    });
  }

  it('hostile text and a page past the first, as every role: direct answers are Apollo\'s bytes', async () => {
    const admin = role.admin();
    const firstName = `<script>alert('x')</script> "quoted" \\ back\\slash \u202eolleh ${'ñ'.repeat(3)} {"a":1}`;
    const hostile = (await okAs(stack, admin, `mutation($r: String!, $f: String!) { createProfile(input: {rut: $r, firstName: $f, lastName: "O'Brien", phone: "+56 9 5555 0002"}) { id } }`, { r: rut(18_700_003), f: firstName })).createProfile.id;
    await okAs(stack, admin, `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: hostile });
    for (const [who, headers] of Object.entries(callers())) {
      // Three profiles a page (the hostile one among them for Alpha's manager and the admin), and the page after the first.
      const page = `query Page_${who}($after: String) { profiles(first: 1, after: $after, search: "") { nodes { id firstName lastName } pageInfo { hasNextPage endCursor } } }`;
      const first = JSON.parse((await raw(stack.gateway.url, headers, JSON.stringify({ query: page, variables: {} }))).text);
      const cursor = first.data?.profiles?.pageInfo?.endCursor ?? null;
      for (const variables of [{}, { after: cursor }, { id: hostile }]) {
        const query = 'id' in variables ? `query Hostile_${who}($id: ID!) { profile(id: $id) { id firstName lastName } }` : page;
        const body = JSON.stringify({ query, variables });
        const once = await raw(stack.gateway.url, headers, body);
        const before = direct();
        const again = await raw(stack.gateway.url, headers, body);
        expect(again, `${who} ${body}`).toEqual(once);
        const clean = !JSON.parse(once.text).errors;
        expect(direct() - before, `${who} ${body}`).toBe(clean ? 1 : 0);
        expect(JSON.parse(once.text)).toEqual((await post(planned.url, headers, query, variables)).body);
      }
      if (who === 'admin') {
        const hostileAnswer = JSON.parse((await raw(stack.gateway.url, headers, JSON.stringify({ query: `query Hostile_${who}($id: ID!) { profile(id: $id) { id firstName lastName } }`, variables: { id: hostile } }))).text);
        expect(hostileAnswer.data.profile.firstName).toBe(firstName);
        // The second page is another profile.
        expect(first.data.profiles.pageInfo.hasNextPage).toBe(true);
        const second = JSON.parse((await raw(stack.gateway.url, headers, JSON.stringify({ query: page, variables: { after: cursor } }))).text);
        expect(second.data.profiles.nodes[0].id).not.toBe(first.data.profiles.nodes[0].id);
      }
    }
  });

  it('answers only bodies and headers Apollo reads as a plain request, with the content type Apollo chose for the Accept header', async () => {
    const admin = role.admin();
    const query = `query Shapes { companies(first: 2) { nodes { id name } } }`;
    // Each shape three times: Apollo's answer first (a new text, operation name or Accept header), then direct when `direct` says so.
    const shapes: { name: string; body: unknown; headers?: Record<string, string>; direct: boolean; status: number }[] = [
      { name: 'query only', body: { query }, direct: true, status: 200 },
      { name: 'null operation name and variables (the same request)', body: { query, operationName: null, variables: null }, direct: true, status: 200 },
      { name: 'empty variables', body: { query, variables: {} }, direct: true, status: 200 },
      { name: 'the operation named', body: { query, operationName: 'Shapes' }, direct: true, status: 200 },
      { name: 'graphql-response+json accepted', body: { query }, headers: { accept: 'application/graphql-response+json' }, direct: true, status: 200 },
      { name: 'json with a charset', body: { query }, headers: { 'content-type': 'application/json; charset=utf-8' }, direct: true, status: 200 },
      { name: 'an unknown operation name', body: { query, operationName: 'Other' }, direct: false, status: 400 },
      { name: 'an empty operation name (no operation has it)', body: { query, operationName: '' }, direct: false, status: 400 },
      { name: 'extensions', body: { query, extensions: {} }, direct: false, status: 200 },
      { name: 'variables as a list', body: { query, variables: [] }, direct: false, status: 400 },
      { name: 'variables as a string', body: { query, variables: '{}' }, direct: false, status: 400 },
      { name: 'an operation name that is not a string', body: { query, operationName: 5 }, direct: false, status: 400 },
      { name: 'text/plain (CSRF)', body: { query }, headers: { 'content-type': 'text/plain' }, direct: false, status: 400 },
      { name: 'a body that is a list', body: [{ query }], direct: false, status: 400 },
      { name: 'an Accept header Apollo refuses', body: { query }, headers: { accept: 'text/html' }, direct: false, status: 406 },
    ];
    for (const shape of shapes) {
      const body = JSON.stringify(shape.body);
      const first = await raw(stack.gateway.url, { ...admin, ...shape.headers }, body);
      expect(first.status, shape.name).toBe(shape.status);
      const before = direct();
      for (let i = 0; i < 2; i++) expect(await raw(stack.gateway.url, { ...admin, ...shape.headers }, body), shape.name).toEqual(first);
      expect(direct() - before, shape.name).toBe(shape.direct ? 2 : 0);
      if (shape.status === 200) expect(JSON.parse(first.text).data.companies.nodes.length, shape.name).toBeGreaterThan(0);
    }
    // The content type follows the Accept header, as Apollo's does.
    expect((await raw(stack.gateway.url, { ...admin, accept: 'application/graphql-response+json' }, JSON.stringify({ query }))).headers['content-type']).toBe('application/graphql-response+json; charset=utf-8');
    expect((await raw(stack.gateway.url, admin, JSON.stringify({ query }))).headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('a refused caller gets Apollo\'s refusal, and the subgraph is not asked', async () => {
    const limited = await stack.startGateway({}, { ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: 3 });
    const caller = role.manager(ids.A, `limited-${Date.now()}@alpha.example`);
    const body = JSON.stringify({ query: `query Limited { companies(first: 1) { nodes { id } } }` });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await raw(limited.url, caller, body));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(limited.passthrough!.direct).toBe(2);
    const refused = await raw(limited.url, { ...caller, ...tracing('direct-refused-caller') }, body);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(limited.passthrough!.direct).toBe(2);
    expect(received('direct-refused-caller')).toBe(0);
    // Without a caller the development header names, the request is anonymous: Apollo answers it (Workforce refuses the read).
    const anonymous = [await raw(limited.url, {}, body), await raw(limited.url, {}, body)];
    expect(anonymous[1]).toEqual(anonymous[0]);
    expect(JSON.parse(anonymous[0].text).errors?.[0]?.extensions?.code).toBeDefined();
    expect(limited.passthrough!.direct).toBe(2);
  });

  it('in safelist mode, an operation taken off the safelist is refused at once', async () => {
    const safelist = await stack.startGateway({}, { ANGELIS_GATEWAY_PERSISTED_OPERATIONS: 'safelist' });
    const query = `query Listed { companies(first: 1) { nodes { id name } } }`;
    const [hash] = await safelist.persisted.register([query]);
    const body = JSON.stringify({ query });
    const answers = [await raw(safelist.url, role.admin(), body), await raw(safelist.url, role.admin(), body)];
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[0].status).toBe(200);
    expect(safelist.passthrough!.direct).toBe(1);
    await stack.store.client.del(`${stack.keyPrefix}gateway:safelist:${hash}`);
    const refused = await raw(safelist.url, role.admin(), body);
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('FORBIDDEN');
    expect(safelist.passthrough!.direct).toBe(1);
  });

  it('with the response cache on, misses answered directly are stored, and a write still invalidates them', async () => {
    const admin = role.admin();
    const body = JSON.stringify({ query: `query Cached($id: ID!) { profile(id: $id) { id lastName fullName } }`, variables: { id: ids.P } });
    const cache = cached.responseCache!.stats;
    const read = async () => JSON.parse((await raw(cached.url, admin, body)).text).data.profile.lastName as string;
    // Apollo's answer first (the text learned), then (the cache keeps an answer the second time it is computed) a direct one, stored, then a hit.
    const lastName = await read();
    let before = { direct: cached.passthrough!.direct, stored: cache.stored, hits: cache.hits };
    expect([await read(), await read()]).toEqual([lastName, lastName]);
    expect(cached.passthrough!.direct - before.direct).toBe(1);
    expect(cache.stored - before.stored).toBe(1);
    expect(cache.hits - before.hits).toBe(1);
    for (const name of [`Direct "${Date.now()}" <b>`, 'Passthrough']) {
      await okAs(stack, admin, `mutation($p: ID!, $n: String!) { updateProfile(id: $p, input: {lastName: $n}) { id } }`, { p: ids.P, n: name });
      before = { direct: cached.passthrough!.direct, stored: cache.stored, hits: cache.hits };
      const misses = cache.misses;
      // The write invalidated the entry: every miss is answered directly with the new name, one is stored, and the cache then answers it.
      for (let i = 0; i < 3; i++) expect(await read()).toBe(name);
      expect(cached.passthrough!.direct - before.direct).toBe(cache.misses - misses);
      expect(cache.misses - misses).toBeGreaterThan(0);
      expect(cache.stored - before.stored).toBe(1);
      expect(cache.hits - before.hits).toBeGreaterThan(0);
    }
  });

  it('a subgraph that went down after its text was learned: Apollo reports it from the one failed fetch', async () => {
    const relay = await tcpRelay({ host: '127.0.0.1', port: stack.workforce.server.port });
    const gw = await stack.startGateway({ subgraphUrls: { workforce: `http://127.0.0.1:${relay.port}/graphql`, ciam: stack.ciam.server.url, safety: stack.safety.server.url, saferapp: stack.saferapp.server.url, fit2000: stack.fit2000.server.url } });
    const body = JSON.stringify({ query: `query Down($id: ID!) { profile(id: $id) { id fullName } }`, variables: { id: ids.P } });
    const up = [await raw(gw.url, role.admin(), body), await raw(gw.url, role.admin(), body)];
    expect(up[1]).toEqual(up[0]);
    expect(JSON.parse(up[0].text).data.profile.fullName).toBe('Pía Passthrough');
    expect(gw.passthrough!.direct).toBe(1);
    await relay.cut();
    const down = JSON.parse((await raw(gw.url, role.admin(), body)).text);
    expect(down.data).toEqual({ profile: null });
    expect(down.errors[0].extensions.code).toBe('SOURCE_UNAVAILABLE');
    expect(down.errors[0].path).toEqual(['profile']);
    expect(gw.passthrough!.direct).toBe(1);
    await relay.restore();
  });
});
