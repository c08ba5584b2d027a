import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { okAs, role, rut } from './support/workforce.ts';
import { companyWithProject, raiseAboutProject } from './support/sse.ts';
import type { RunningGateway } from '../gateway/server.ts';
import { CACHE_START_HEADER, parseCacheStart } from '../platform/response-cache/reads.ts';
import { RedisTagVersions } from '../platform/response-cache/versions.ts';

/**
 * The gateway's response cache, through the gateway, with two instances on one Redis:
 * answers are served from the cache (counted, and no subgraph is asked), a write through
 * either instance is seen by the next read through both (also under concurrent load),
 * nothing crosses companies, roles or users, and answers it cannot vouch for (another
 * subgraph without tags, errors, the audit trail, mutations) are never cached.
 */
let stack: TestStack;
let b: RunningGateway;
const ids: Record<string, string> = {};
const profileIds: string[] = [];

interface Answer {
  status: number;
  data?: any;
  errors?: { message: string; extensions?: { code?: string } }[];
  extensions?: Record<string, unknown>;
}

async function post(url: string, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...((await res.json()) as object) };
}

const BY_ID = `query($id: ID!) { profile(id: $id) { id fullName phone version } }`;
const UPDATE = `mutation($id: ID!, $phone: String!) { updateProfile(id: $id, input: { phone: $phone }) { id phone version } }`;
const admin = role.admin();
const cacheOf = (g: RunningGateway) => g.responseCache!.stats;
/** Subgraph requests Workforce has answered (its statement counter moves with each). */
const workforceStatements = () => stack.database.db.statements;

beforeAll(async () => {
  // The concurrent test sends up to 3,200 requests as one identity from one address (the
  // 'a hit is still a request' tests check the limits with a gateway of their own).
  stack = await startTestStack('response_cache', { env: { ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: '100000', ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: '100000' } });
  b = await stack.startGateway();
  const offering = (await okAs(stack, admin, `mutation { createOffering(input: {code: "RC", name: "Cache"}) { id } }`)).createOffering.id;
  const a = await companyWithProject(stack, 'Alpha', rut(76_600_001), offering);
  const other = await companyWithProject(stack, 'Beta', rut(76_600_002), offering);
  Object.assign(ids, { A: a.companyId, PA: a.projectId, B: other.companyId });
  for (let i = 0; i < 6; i++) {
    const id = (await okAs(stack, admin, `mutation($r: String!, $n: String!) { createProfile(input: {rut: $r, firstName: $n, lastName: "Cached", phone: "+56 9 1000 0000"}) { id } }`, {
      r: rut(18_600_000 + i), n: `Worker${i}`,
    })).createProfile.id as string;
    profileIds.push(id);
    // The first four work for Alpha.
    if (i < 4) await okAs(stack, admin, `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: id });
  }
}, 60_000);
afterAll(async () => stack?.stop());

describe('answers from the cache', () => {
  it('a cached answer is the computed one byte for byte, headers included, for each Accept header', async () => {
    for (const accept of [undefined, 'application/graphql-response+json']) {
      const body = JSON.stringify({ query: `query Bytes${accept ? 'Graphql' : 'Json'}($id: ID!) { profile(id: $id) { id fullName } }`, variables: { id: profileIds[1] } });
      const answers = [];
      const hits = cacheOf(stack.gateway).hits;
      // Computed, computed and kept, then from the cache.
      for (let i = 0; i < 3; i++) {
        const res = await fetch(stack.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...admin, ...(accept ? { accept } : {}) }, body });
        answers.push({ status: res.status, headers: Object.fromEntries([...res.headers].filter(([name]) => name !== 'date')), text: await res.text() });
      }
      expect(cacheOf(stack.gateway).hits).toBe(hits + 1);
      expect(answers[0].headers['cache-control']).toBe('no-store');
      expect(answers[0].headers['content-type']).toBe(`${accept ?? 'application/json'}; charset=utf-8`);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    }
  });

  it('serves a repeated query without asking Workforce, and the client never sees the cache tags', async () => {
    const before = { ...cacheOf(stack.gateway) };
    const first = await post(stack.gateway.url, admin, BY_ID, { id: profileIds[0] });
    expect(first.errors).toBeUndefined();
    expect(first.extensions?.angelisCache).toBeUndefined();
    // Kept the second time it is computed (admission), served from the third on.
    expect(await post(stack.gateway.url, admin, BY_ID, { id: profileIds[0] })).toEqual(first);
    expect(cacheOf(stack.gateway).stored).toBe(before.stored + 1);
    const statements = workforceStatements();
    const third = await post(stack.gateway.url, admin, BY_ID, { id: profileIds[0] });
    expect(third).toEqual(first);
    expect(workforceStatements()).toBe(statements);
    expect(cacheOf(stack.gateway).hits).toBe(before.hits + 1);
    // The other instance finds it in Redis.
    const hitsB = cacheOf(b).hits;
    expect(await post(b.url, admin, BY_ID, { id: profileIds[0] })).toEqual(first);
    expect(cacheOf(b).hits).toBe(hitsB + 1);
    expect(workforceStatements()).toBe(statements);
  });

  it('a write through one instance is read by the next query through either, and other entries stay cached', async () => {
    const [p0, p1] = profileIds;
    for (const g of [stack.gateway, b, stack.gateway]) {
      await post(g.url, admin, BY_ID, { id: p0 });
      await post(g.url, admin, BY_ID, { id: p1 });
    }
    const written = await post(b.url, admin, UPDATE, { id: p0, phone: '+56 9 2222 3333' });
    expect(written.errors).toBeUndefined();
    for (const g of [stack.gateway, b]) {
      const read = await post(g.url, admin, BY_ID, { id: p0 });
      expect(read.data.profile).toEqual({ id: p0, fullName: 'Worker0 Cached', phone: '+56 9 2222 3333', version: written.data.updateProfile.version });
    }
    // p1's stream was not written: still a hit, no statement.
    const statements = workforceStatements();
    const hits = cacheOf(stack.gateway).hits;
    expect((await post(stack.gateway.url, admin, BY_ID, { id: p1 })).data.profile.phone).toBe('+56 9 1000 0000');
    expect(cacheOf(stack.gateway).hits).toBe(hits + 1);
    expect(workforceStatements()).toBe(statements);
  });

  it("Workforce is sent the count read when the caller was admitted: this Redis's epoch, and at least the count of a write already answered", async () => {
    const sent = new Map<string, (string | undefined)[]>();
    const listen = (req: { headers: Record<string, unknown> }) => {
      const id = req.headers['x-correlation-id'];
      if (typeof id === 'string') sent.set(id, [...(sent.get(id) ?? []), req.headers[CACHE_START_HEADER] as string | undefined]);
    };
    stack.workforce.server.server.on('request', listen);
    const versions = new RedisTagVersions(stack.store.client, stack.keyPrefix);
    try {
      for (const [n, g] of [stack.gateway, b].entries()) {
        const id = profileIds[2];
        const written = await post(g.url, admin, UPDATE, { id, phone: `+56 9 4444 000${n}` });
        expect(written.errors).toBeUndefined();
        // The write's bump is done before its answer: the count now is at least its version.
        const after = await versions.start();
        // A text not asked before, so Workforce is asked.
        const read = await post(g.url, { ...admin, 'x-correlation-id': `count-sent-${n}` }, `query CountSent${n}($id: ID!) { profile(id: $id) { id phone } }`, { id });
        expect(read.data.profile.phone).toBe(`+56 9 4444 000${n}`);
        const values = sent.get(`count-sent-${n}`) ?? [];
        expect(values).toHaveLength(1);
        const start = parseCacheStart(values[0]);
        expect(start?.epoch).toBe(after.epoch);
        expect(start!.count).toBeGreaterThanOrEqual(after.count);
      }
    } finally {
      stack.workforce.server.server.off('request', listen);
    }
  });

  it('lists are dropped by any write to their tables (a hire shows in the next list)', async () => {
    const LIST = `query($c: ID!) { profiles(first: 10, companyId: $c) { nodes { id } } }`;
    const before = (await post(stack.gateway.url, admin, LIST, { c: ids.A })).data.profiles.nodes.map((n: { id: string }) => n.id);
    expect(await post(stack.gateway.url, admin, LIST, { c: ids.A })).toMatchObject({ data: { profiles: { nodes: before.map((id: string) => ({ id })) } } });
    await okAs(stack, admin, `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: profileIds[4] });
    const after = (await post(b.url, admin, LIST, { c: ids.A })).data.profiles.nodes.map((n: { id: string }) => n.id);
    expect(after).toEqual([...before, profileIds[4]].sort((x, y) => profileIds.indexOf(x) - profileIds.indexOf(y)));
  });

  it('under concurrent writes and reads through two instances, no read is older than a write already answered', async () => {
    const working = profileIds.slice(0, 3);
    const acked = new Map<string, number>();
    const stale: string[] = [];
    let reads = 0;
    let phone = 0;
    const hitsBefore = cacheOf(stack.gateway).hits + cacheOf(b).hits;
    const deadline = Date.now() + 4_000;
    const client = async (n: number) => {
      for (let i = 0; Date.now() < deadline && i < 400; i++) {
        const id = working[(n + i) % working.length];
        const g = (n + i) % 2 ? stack.gateway : b;
        if (Math.random() < 0.2) {
          const res = await post(g.url, admin, UPDATE, { id, phone: `+56 9 3${String(++phone).padStart(3, '0')} 0000` });
          if (res.errors) throw new Error(JSON.stringify(res.errors));
          const v = res.data.updateProfile.version as number;
          if (v > (acked.get(id) ?? 0)) acked.set(id, v);
        } else {
          const atLeast = acked.get(id) ?? 0;
          const res = await post(g.url, admin, BY_ID, { id });
          reads++;
          if (!res.data) throw new Error(JSON.stringify(res));
          if (res.data.profile.version < atLeast) stale.push(`${id}: read version ${res.data.profile.version} after ${atLeast} was answered`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, n) => client(n)));
    expect(stale).toEqual([]);
    expect(reads).toBeGreaterThan(50);
    // The cache was in play: some reads were hits.
    expect(cacheOf(stack.gateway).hits + cacheOf(b).hits).toBeGreaterThan(hitsBefore);
  }, 20_000);
});

describe('scopes', () => {
  const PROFILE = `query($id: ID!) { profile(id: $id) { id fullName } }`;

  it('a manager of another company does not get the answer a manager of Alpha was given', async () => {
    const alpha = await post(stack.gateway.url, role.manager(ids.A), PROFILE, { id: profileIds[1] });
    expect(alpha.data.profile).toEqual({ id: profileIds[1], fullName: 'Worker1 Cached' });
    expect((await post(stack.gateway.url, role.manager(ids.A), PROFILE, { id: profileIds[1] })).data).toEqual(alpha.data);
    const beta = await post(stack.gateway.url, role.manager(ids.B), PROFILE, { id: profileIds[1] });
    expect(beta.data?.profile ?? null).toBeNull();
    expect(beta.errors).toBeUndefined();
    // A worker asking about someone else: not visible either.
    const worker = await post(b.url, role.worker(profileIds[2]), PROFILE, { id: profileIds[1] });
    expect(worker.data?.profile ?? null).toBeNull();
  });

  it('managers of one company share answers, but each user has their own notifications and read state', async () => {
    const ann = role.manager(ids.A, 'ann@alpha.example');
    const bob = role.manager(ids.A, 'bob@alpha.example');
    const COMPANY = `query($id: ID!) { company(id: $id) { id name } }`;
    await post(stack.gateway.url, ann, COMPANY, { id: ids.A });
    await post(stack.gateway.url, ann, COMPANY, { id: ids.A });
    const hits = cacheOf(stack.gateway).hits;
    await post(stack.gateway.url, bob, COMPANY, { id: ids.A });
    expect(cacheOf(stack.gateway).hits).toBe(hits + 1);

    const id = await raiseAboutProject(stack, ids.PA, 'For the managers');
    const UNREAD = `query { unreadNotificationCount notifications(first: 5) { nodes { id readAt } } }`;
    const annBefore = await post(stack.gateway.url, ann, UNREAD);
    const bobBefore = await post(stack.gateway.url, bob, UNREAD);
    expect(annBefore.data.notifications.nodes).toContainEqual({ id, readAt: null });
    expect(bobBefore.data).toEqual(annBefore.data);
    await post(b.url, ann, `mutation($id: ID!) { markNotificationRead(id: $id) { id } }`, { id });
    const annAfter = await post(stack.gateway.url, ann, UNREAD);
    const bobAfter = await post(stack.gateway.url, bob, UNREAD);
    expect(annAfter.data.unreadNotificationCount).toBe(annBefore.data.unreadNotificationCount - 1);
    expect(annAfter.data.notifications.nodes.find((n: { id: string }) => n.id === id).readAt).not.toBeNull();
    expect(bobAfter.data).toEqual(bobBefore.data);
  });
});

describe('two subgraphs (CIAM and Workforce)', () => {
  const USER = `query($id: ID!) { internalUser(id: $id) { id name role company { id name activeProfileCount } } }`;
  let userId: string;
  beforeAll(async () => {
    userId = (await okAs(stack, admin, `mutation($c: ID!) { inviteUser(input: {email: "cached.manager@alpha.example", name: "Cached Manager", role: MANAGER, companyId: $c}) { user { id } } }`, { c: ids.A })).inviteUser.user.id;
  });

  it('an answer across both is cached, and a write in either subgraph is seen by the next read', async () => {
    const first = await post(stack.gateway.url, admin, USER, { id: userId });
    expect(first.data.internalUser).toMatchObject({ id: userId, role: 'MANAGER', company: { id: ids.A, name: 'Alpha' } });
    await post(stack.gateway.url, admin, USER, { id: userId });
    const hits = cacheOf(stack.gateway).hits;
    expect(await post(b.url, admin, USER, { id: userId })).toEqual(first);
    expect(cacheOf(b).hits).toBeGreaterThan(0);
    expect(await post(stack.gateway.url, admin, USER, { id: userId })).toEqual(first);
    expect(cacheOf(stack.gateway).hits).toBe(hits + 1);

    // A CIAM write alone (the role), on a cache still warm: read at once through both instances.
    await okAs(stack, admin, `mutation($u: ID!, $c: ID!) { changeRole(userId: $u, role: MANAGER, companyId: $c) { id } }`, { u: userId, c: ids.B });
    for (const g of [stack.gateway, b]) {
      const afterRole = await post(g.url, admin, USER, { id: userId });
      expect(afterRole.data.internalUser.company.id).toBe(ids.B);
    }
    // Warm again (one instance computes it twice: kept), then a Workforce write alone (a hire changes Beta's active count).
    await post(stack.gateway.url, admin, USER, { id: userId });
    const warm = await post(stack.gateway.url, admin, USER, { id: userId });
    const hitsBefore = cacheOf(stack.gateway).hits;
    expect(await post(stack.gateway.url, admin, USER, { id: userId })).toEqual(warm);
    expect(cacheOf(stack.gateway).hits).toBe(hitsBefore + 1);
    await okAs(stack, admin, `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.B, p: profileIds[5] });
    for (const g of [stack.gateway, b]) {
      const afterHire = await post(g.url, admin, USER, { id: userId });
      expect(afterHire.data.internalUser.company.activeProfileCount).toBe(warm.data.internalUser.company.activeProfileCount + 1);
    }
  });

  it('me is answered per user, even for two managers of one company', async () => {
    const ME = `query { me { userId role company { id } } }`;
    const ann = role.manager(ids.A, 'ann.me@alpha.example');
    const bob = role.manager(ids.A, 'bob.me@alpha.example');
    for (let i = 0; i < 3; i++) {
      expect((await post(stack.gateway.url, ann, ME)).data.me.userId).toBe('ann.me@alpha.example');
      expect((await post(stack.gateway.url, bob, ME)).data.me.userId).toBe('bob.me@alpha.example');
    }
  });
});

describe('a hit is still a request', () => {
  it('an anonymous caller gets no cached answer, and a rate limit still counts hits', async () => {
    await post(stack.gateway.url, admin, BY_ID, { id: profileIds[1] });
    const anonymous = await post(stack.gateway.url, {}, BY_ID, { id: profileIds[1] });
    expect(anonymous.data?.profile ?? null).toBeNull();
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    const limited = await stack.startGateway({}, { ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: 3 });
    const caller = role.admin('limited@angelis.test');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(limited.url, caller, BY_ID, { id: profileIds[1] })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(limited.responseCache!.stats.hits).toBeGreaterThanOrEqual(2);
  });

  it('two workers of one company each get their own view (a worker is a scope of its own)', async () => {
    const mine = await post(stack.gateway.url, role.worker(profileIds[0]), BY_ID, { id: profileIds[0] });
    expect(mine.data.profile.id).toBe(profileIds[0]);
    const theirs = await post(stack.gateway.url, role.worker(profileIds[2]), BY_ID, { id: profileIds[0] });
    expect(theirs.data?.profile ?? null).toBeNull();
  });
});

describe('answers never cached', () => {
  /** Runs the operation twice: nothing stored, no hit, and the refusal counted. */
  async function neverCached(query: string, variables: Record<string, unknown> = {}) {
    const g = stack.gateway;
    const before = { ...cacheOf(g), refused: { ...cacheOf(g).refused } };
    const answers = [await post(g.url, admin, query, variables), await post(g.url, admin, query, variables)];
    const after = cacheOf(g);
    expect(after.stored).toBe(before.stored);
    expect(after.hits).toBe(before.hits);
    const refusals = (r: Record<string, number>) => Object.values(r).reduce((n, x) => n + x, 0);
    expect(refusals(after.refused)).toBe(refusals(before.refused) + 2);
    return answers[1];
  }

  it('a query that also asks a subgraph without cache tags (Safety)', async () => {
    const res = await neverCached(`query($id: ID!) { project(id: $id) { id name anomalies(first: 1) { nodes { id } } } }`, { id: ids.PA });
    expect(res.errors).toBeUndefined();
  });

  it('an answer with an error', async () => {
    const res = await neverCached(`query { profiles(first: -1) { nodes { id } } }`);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a mutation', async () => {
    const res = await neverCached(UPDATE, { id: profileIds[3], phone: '+56 9 4444 5555' });
    expect(res.data.updateProfile.phone).toBe('+56 9 4444 5555');
  });

  it('the audit trail (it reads the event log, which the tags do not cover)', async () => {
    const res = await neverCached(`query($id: ID!) { profile(id: $id) { id auditTrail(first: 5) { nodes { action } } } }`, { id: profileIds[3] });
    expect(res.errors).toBeUndefined();
    expect(res.data.profile.auditTrail.nodes.length).toBeGreaterThan(0);
  });
});
