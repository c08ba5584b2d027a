import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { okAs, role, rut } from './support/workforce.ts';
import { companyWithProject, raiseAboutProject } from './support/sse.ts';
import type { RunningGateway } from '../gateway/server.ts';

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
