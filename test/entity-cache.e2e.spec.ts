import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { daysFromToday, okAs, role, rut } from './support/workforce.ts';
import { companyWithProject } from './support/sse.ts';
import type { RunningGateway } from '../gateway/server.ts';

/**
 * The gateway's entity cache (gateway/entity-cache.ts), through the gateway: a nested read
 * split into a skeleton and its assignments (cached per assignment) answers exactly what a
 * gateway without caches and without passthrough answers (the planned path), for every
 * role, page by page, with hostile text; a write through another gateway instance is seen
 * by the next read; nothing crosses roles or companies; a Workforce that is down is
 * reported as before.
 */
let stack: TestStack;
let other: RunningGateway;
let reference: RunningGateway;
const ids: Record<string, string> = {};
const profiles: string[] = [];
const assignments: string[] = [];
const HOSTILE = [`Ana "Quote" <b>bold</b>`, `Bruno \\ back'slash`, `Cé ‮lia 🦺 \t tab`, 'Plain'];

async function post(url: string, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

// The bench's nested read, with an `after` for the assignments' pages.
const NESTED = `query Nested($id: ID!, $projects: Int = 100, $assignments: Int = 100, $after: String) {
  company(id: $id) {
    id name
    projects(first: $projects) { nodes {
      id name faenaCode status
      assignments(first: $assignments, after: $after) { nodes {
        id name startsOn status
        profiles { assignedAt profile {
          id rut fullName email phone
          licenses { id type number expiresOn status expiresInDays }
        } }
      } pageInfo { hasNextPage endCursor } }
    } }
  }
}`;

const admin = role.admin();
const stats = (g: RunningGateway) => g.entityCache!.stats;
let variant = 0;
/** Distinct page sizes (10 to 100) above what exists: the same data, a body the response cache has not seen. */
const fresh = () => {
  const v = variant++;
  return { projects: 10 + (v % 91), assignments: 10 + (Math.floor(v / 91) % 91) };
};

beforeAll(async () => {
  stack = await startTestStack('entity_cache', { env: { ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: '100000', ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: '100000' } });
  other = await stack.startGateway();
  reference = await stack.startGateway({}, { ANGELIS_GATEWAY_RESPONSE_CACHE: 'off', ANGELIS_GATEWAY_PASSTHROUGH: 'off' });
  const offering = (await okAs(stack, admin, `mutation { createOffering(input: {code: "EC", name: "Entities"}) { id } }`)).createOffering.id;
  const a = await companyWithProject(stack, 'Alpha', rut(76_800_001), offering);
  const b = await companyWithProject(stack, 'Beta', rut(76_800_002), offering);
  Object.assign(ids, { A: a.companyId, PA: a.projectId, B: b.companyId, PB: b.projectId });
  for (const [i, name] of HOSTILE.entries()) {
    const id = (await okAs(stack, admin, `mutation($r: String!, $n: String!, $e: String!) { createProfile(input: {rut: $r, firstName: $n, lastName: "Entity", email: $e, phone: "+56 9 7000 000${i}"}) { id } }`, {
      r: rut(18_800_000 + i), n: name, e: `p${i}@entity.example`,
    })).createProfile.id as string;
    profiles.push(id);
    await okAs(stack, admin, `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: i < 3 ? ids.A : ids.B, p: id });
    await okAs(stack, admin, `mutation($p: ID!, $n: String!, $x: Date!) { grantLicense(input: {profileId: $p, type: "CLASS_B", number: $n, issuedOn: "2024-01-01", expiresOn: $x}) { id } }`, {
      p: id, n: `EC-${i} <'">`, x: daysFromToday(10 + i),
    });
  }
  // Alpha: two assignments (two pages of one), three profiles between them; Beta: one.
  for (const [project, name] of [[ids.PA, 'Crew "A" <1>'], [ids.PA, 'Crew \\ B'], [ids.PB, 'Beta crew']]) {
    assignments.push((await okAs(stack, admin, `mutation($p: ID!, $n: String!, $s: Date!) { createAssignment(input: {projectId: $p, name: $n, startsOn: $s}) { id } }`, { p: project, n: name, s: daysFromToday(0) })).createAssignment.id);
  }
  for (const [assignment, profile] of [[0, 0], [0, 1], [1, 1], [1, 2], [2, 3]]) {
    await okAs(stack, admin, `mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { assignedAt } }`, { a: assignments[assignment], p: profiles[profile] });
  }
}, 90_000);
afterAll(async () => stack?.stop());

const callers = () => ({
  admin,
  managerA: role.manager(ids.A, 'ann@alpha.example'),
  managerB: role.manager(ids.B, 'bob@beta.example'),
  worker: role.worker(profiles[1]),
});

describe('split reads answer what the planned path answers', () => {
  it('for every role, company by company, the first read and the cached ones', async () => {
    const before = { ...stats(stack.gateway) };
    for (const [who, headers] of Object.entries(callers())) {
      for (const company of [ids.A, ids.B]) {
        for (let round = 0; round < 3; round++) {
          const variables = { id: company, ...fresh() };
          const expected = await post(reference.url, headers, NESTED, variables);
          const got = await post(stack.gateway.url, headers, NESTED, variables);
          expect(got, `${who} reading ${company === ids.A ? 'Alpha' : 'Beta'}, round ${round}`).toEqual(expected);
        }
      }
    }
    const after = stats(stack.gateway);
    // Admin and each manager read their companies' assignments; the first read fetched, the next ones hit.
    expect(after.split - before.split).toBeGreaterThanOrEqual(6);
    expect(after.hits - before.hits).toBeGreaterThan(0);
    expect(after.stored - before.stored).toBeGreaterThan(0);
  });

  it('other shapes: a paged list of profiles (split at each profile) and the projects of a company (split at each project)', async () => {
    const LIST = `query People($company: ID!, $after: String) { profiles(first: 2, companyId: $company, after: $after) {
      nodes { id rut fullName email phone version licenses { number status expiresInDays } companies { company { id name } position } }
      pageInfo { hasNextPage endCursor } } }`;
    const PROJECTS = `query Works($id: ID!) { company(id: $id) { id projects(first: 5) { nodes { id name status assignments { nodes { id name profiles { profile { id fullName } } } } } } } }`;
    const before = { ...stats(stack.gateway) };
    for (const [who, headers] of Object.entries(callers())) {
      for (const company of [ids.A, ids.B]) {
        let after: string | null = null;
        for (let page = 0; page < 3; page++) {
          for (let round = 0; round < 2; round++) {
            const expected = await post(reference.url, headers, LIST, { company, after });
            expect(await post(stack.gateway.url, headers, LIST, { company, after }), `${who}: profiles of ${company}, page ${page}, round ${round}`).toEqual(expected);
          }
          const connection: any = (await post(reference.url, headers, LIST, { company, after })).body.data?.profiles;
          if (!connection?.pageInfo.hasNextPage) break;
          after = connection.pageInfo.endCursor;
        }
        for (let round = 0; round < 2; round++) {
          expect(await post(stack.gateway.url, headers, PROJECTS, { id: company }), `${who}: projects of ${company}, round ${round}`).toEqual(await post(reference.url, headers, PROJECTS, { id: company }));
        }
      }
    }
    // Alpha's three profiles fill two pages as admin, and both shapes were answered split, partly from the cache.
    const firstPage = await post(stack.gateway.url, admin, LIST, { company: ids.A, after: null });
    expect(firstPage.body.data.profiles.nodes).toHaveLength(2);
    expect(firstPage.body.data.profiles.pageInfo.hasNextPage).toBe(true);
    expect(stats(stack.gateway).split - before.split).toBeGreaterThan(10);
    expect(stats(stack.gateway).hits - before.hits).toBeGreaterThan(0);
  });

  it('the data really holds the assignments, their profiles (hostile names) and licences', async () => {
    const { body } = await post(stack.gateway.url, admin, NESTED, { id: ids.A, ...fresh() });
    const crews = body.data.company.projects.nodes[0].assignments.nodes;
    expect(crews.map((c: { name: string }) => c.name).sort()).toEqual(['Crew "A" <1>', 'Crew \\ B']);
    const names = crews.flatMap((c: any) => c.profiles.map((p: any) => p.profile.fullName));
    expect(names).toEqual(expect.arrayContaining([expect.stringContaining('Ana "Quote" <b>bold</b>'), expect.stringContaining(`Bruno \\ back'slash`)]));
    expect(crews[0].profiles[0].profile.licenses[0].number).toMatch(/^EC-\d <'">$/);
  });

  it('page by page: one assignment per page, both pages as the planned path answers them', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page++) {
      const variables = { ...fresh(), id: ids.A, assignments: 1, after };
      const expected = await post(reference.url, role.manager(ids.A), NESTED, variables);
      const got = await post(stack.gateway.url, role.manager(ids.A), NESTED, variables);
      expect(got).toEqual(expected);
      const connection = got.body.data.company.projects.nodes[0].assignments;
      expect(connection.nodes).toHaveLength(1);
      seen.push(...connection.nodes.map((n: { id: string }) => n.id));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual([assignments[0], assignments[1]].sort());
  });

  it('a worker sees what the planned path shows a worker, not the manager entries cached for the same assignments', async () => {
    // Warm the cache as Alpha's manager and as admin, then read as a worker of Alpha.
    await post(stack.gateway.url, role.manager(ids.A), NESTED, { id: ids.A, ...fresh() });
    await post(stack.gateway.url, admin, NESTED, { id: ids.A, ...fresh() });
    const variables = { id: ids.A, ...fresh() };
    const asWorker = await post(stack.gateway.url, role.worker(profiles[0]), NESTED, variables);
    expect(asWorker).toEqual(await post(reference.url, role.worker(profiles[0]), NESTED, variables));
    const asAdmin = await post(stack.gateway.url, admin, NESTED, variables);
    expect(asWorker.body).not.toEqual(asAdmin.body);
    // Beta's manager reading Alpha is refused as the planned path refuses it.
    const crossing = await post(stack.gateway.url, role.manager(ids.B), NESTED, variables);
    expect(crossing).toEqual(await post(reference.url, role.manager(ids.B), NESTED, variables));
    expect(JSON.stringify(crossing.body)).not.toContain('p0@entity.example');
  });
});

describe('writes', () => {
  it('a write through the other gateway instance is seen by the next read (profile, licence, assignment membership)', async () => {
    const read = async () => (await post(stack.gateway.url, admin, NESTED, { id: ids.A, ...fresh() })).body.data.company.projects.nodes[0].assignments.nodes;
    const fullNames = (crews: any[]) => crews.flatMap((c) => c.profiles.map((p: any) => p.profile.fullName));
    await read();
    await read();
    const staleBefore = stats(stack.gateway).stale;
    await okAs(stack, admin, `mutation($id: ID!) { updateProfile(id: $id, input: {firstName: "Renamed <i>"}) { id } }`, { id: profiles[0] }).catch(() => undefined);
    const wrote = await post(other.url, admin, `mutation($id: ID!) { updateProfile(id: $id, input: {firstName: "Renamed again"}) { id fullName } }`, { id: profiles[0] });
    expect(wrote.body.errors).toBeUndefined();
    expect(fullNames(await read())).toContain(wrote.body.data.updateProfile.fullName);
    expect(stats(stack.gateway).stale).toBeGreaterThan(staleBefore);

    const licence = await post(other.url, admin, `mutation($p: ID!) { grantLicense(input: {profileId: $p, type: "CLASS_D", number: "EC-NEW", issuedOn: "2024-01-01", expiresOn: "2031-01-01"}) { id } }`, { p: profiles[2] });
    expect(licence.body.errors).toBeUndefined();
    const numbers = (await read()).flatMap((c: any) => c.profiles.flatMap((p: any) => p.profile.licenses.map((l: any) => l.number)));
    expect(numbers).toContain('EC-NEW');

    const moved = await post(other.url, admin, `mutation($a: ID!, $p: ID!) { unassignProfile(assignmentId: $a, profileId: $p) { assignedAt } }`, { a: assignments[0], p: profiles[0] });
    expect(moved.body.errors).toBeUndefined();
    const crew = (await read()).find((c: any) => c.id === assignments[0]);
    expect(crew.profiles.map((p: any) => p.profile.id)).not.toContain(profiles[0]);
    // And still what the planned path answers.
    const variables = { id: ids.A, ...fresh() };
    expect(await post(stack.gateway.url, admin, NESTED, variables)).toEqual(await post(reference.url, admin, NESTED, variables));
  });
});

describe('under concurrency', () => {
  it('concurrent writes and nested reads through two instances: no read holds a profile older than a write already answered', async () => {
    const working = [profiles[0], profiles[1], profiles[2]];
    const acked = new Map<string, number>();
    const stale: string[] = [];
    let reads = 0;
    let phone = 0;
    const before = stats(stack.gateway).hits + stats(other).hits;
    const deadline = Date.now() + 4_000;
    const NESTED_VERSIONS = NESTED.replace('id rut fullName email phone', 'id rut fullName email phone version');
    const client = async (n: number) => {
      for (let i = 0; Date.now() < deadline && i < 300; i++) {
        const g = (n + i) % 2 ? stack.gateway : other;
        if (Math.random() < 0.2) {
          const id = working[(n + i) % working.length];
          const res = await post(g.url, admin, `mutation($id: ID!, $phone: String!) { updateProfile(id: $id, input: { phone: $phone }) { id version } }`, { id, phone: `+56 9 4${String(++phone).padStart(3, '0')} 0000` });
          if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
          const v = res.body.data.updateProfile.version as number;
          if (v > (acked.get(id) ?? 0)) acked.set(id, v);
        } else {
          const atLeast = new Map(acked);
          const res = await post(g.url, admin, NESTED_VERSIONS, { id: ids.A, ...fresh() });
          reads++;
          if (!res.body.data?.company) throw new Error(JSON.stringify(res.body));
          for (const crew of res.body.data.company.projects.nodes.flatMap((p: any) => p.assignments.nodes)) {
            for (const { profile } of crew.profiles) {
              if (profile.version < (atLeast.get(profile.id) ?? 0)) stale.push(`${profile.id}: read version ${profile.version} after ${atLeast.get(profile.id)} was answered`);
            }
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, n) => client(n)));
    expect(stale).toEqual([]);
    expect(reads).toBeGreaterThan(30);
    // The entity cache was in play: some assignments were served from it.
    expect(stats(stack.gateway).hits + stats(other).hits).toBeGreaterThan(before);
  }, 20_000);
});

describe('when the split path cannot answer', () => {
  it('queries with nothing to split are sent whole', async () => {
    const before = { ...stats(stack.gateway) };
    const byId = await post(stack.gateway.url, admin, `query { profile(id: "${profiles[0]}") { id fullName licenses { id } } }`);
    expect(byId.body.data.profile.id).toBe(profiles[0]);
    expect(stats(stack.gateway).split).toBe(before.split);
    expect(stats(stack.gateway).unsplit).toBe(before.unsplit);
  });

  it('a worker of the other company reads as the planned path answers', async () => {
    const variables = { id: ids.B, ...fresh() };
    const headers = role.worker(profiles[3]);
    expect(await post(stack.gateway.url, headers, NESTED, variables)).toEqual(await post(reference.url, headers, NESTED, variables));
  });

  it('an error inside an entity (a refused page size) falls back to the query unsplit: the same errors at the same paths', async () => {
    const query = `query Audited($id: ID!, $projects: Int) { company(id: $id) { id projects(first: $projects) { nodes { id assignments { nodes {
      id name auditTrail(first: -1) { nodes { action } }
      profiles { profile { id fullName } } } } } } } }`;
    const before = stats(stack.gateway).unsplit;
    for (const headers of [admin, role.manager(ids.A)]) {
      const variables = { id: ids.A, ...fresh() };
      const got = await post(stack.gateway.url, headers, query, variables);
      expect(got).toEqual(await post(reference.url, headers, query, variables));
      expect(got.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(stats(stack.gateway).unsplit - before).toBe(2);
  });

  it('Workforce down: SOURCE_UNAVAILABLE, as without the entity cache', async () => {
    const down = await stack.startGateway({ subgraphUrls: { workforce: 'http://127.0.0.1:9/graphql', ciam: stack.ciam.server.url, safety: stack.safety.server.url, saferapp: stack.saferapp.server.url, fit2000: stack.fit2000.server.url } });
    const res = await post(down.url, admin, NESTED, { id: ids.A, ...fresh() });
    expect(res.body.data).toEqual({ company: null });
    expect(res.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['SOURCE_UNAVAILABLE']);
  });
});
