import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { okAs, role, rut } from './support/workforce.ts';
import { collect, companyWithProject, raiseAboutProject, rawEvents, rawStream, sseClient, streamUrl, type Collected } from './support/sse.ts';

/**
 * Notifications over SSE through the gateway (/graphql/stream), with the real graphql-sse
 * client in both modes, real Redis and PostgreSQL: who receives what, what the selection
 * may reach, the shared delegated queries, Last-Event-ID, heartbeats and slow clients.
 */
let stack: TestStack;
const ids: Record<string, string> = {};

const SUBSCRIPTION = `subscription {
  notificationAdded {
    id kind title body createdAt cursor
    subject { __typename ... on Project { id name faenaCode company { id name } } ... on Profile { id fullName licenses { id } } }
  }
}`;

const managerA = (n = 0) => role.manager(ids.A, `manager${n}@a.example`);
const managerB = () => role.manager(ids.B, 'manager@b.example');
const admin = (n = 0) => role.admin(`admin${n}@angelis.test`);

/** Waits until the feed reader has caught up with a notification (it delivers by wake-up or poll). */
const settle = () => new Promise((r) => setTimeout(r, 800));

beforeAll(async () => {
  stack = await startTestStack('notify_sse', {
    env: { ANGELIS_GATEWAY_SSE_POLL_MS: '200', ANGELIS_GATEWAY_SSE_HEARTBEAT_MS: '300', ANGELIS_GATEWAY_SSE_BUFFER: '4', ANGELIS_GATEWAY_MAX_ALIASES: '200', ANGELIS_GATEWAY_MAX_TOKENS: '20000' },
  });
  const offering = (await okAs(stack, role.admin(), `mutation { createOffering(input: {code: "SSE", name: "Streams"}) { id } }`)).createOffering.id;
  const a = await companyWithProject(stack, 'Alpha', rut(76_400_001), offering);
  const b = await companyWithProject(stack, 'Beta', rut(76_400_002), offering);
  Object.assign(ids, { A: a.companyId, PA: a.projectId, B: b.companyId, PB: b.projectId });
  ids.W = (await okAs(stack, role.admin(), `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`, { i: { rut: rut(15_400_001), firstName: 'Wanda', lastName: 'Worker' } })).createProfile.id;
  ids.V = (await okAs(stack, role.admin(), `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`, { i: { rut: rut(15_400_002), firstName: 'Victor', lastName: 'Other' } })).createProfile.id;
  await okAs(stack, role.admin(), `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: ids.W });
});
afterAll(async () => stack?.stop());

describe('who may subscribe', () => {
  it('refuses anonymous callers with 401 UNAUTHENTICATED, in both modes', async () => {
    const distinct = await fetch(streamUrl(stack.gateway.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    });
    expect(distinct.status).toBe(401);
    expect(((await distinct.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const reservation = await fetch(streamUrl(stack.gateway.url), { method: 'PUT' });
    expect(reservation.status).toBe(401);
    // The client reports it and does not stream.
    const sub = collect(sseClient(stack.gateway.url, {}), SUBSCRIPTION);
    await sub.ended;
    expect(String(sub.error)).toMatch(/401/);
  });

  it('serves only subscriptions on the stream endpoint', async () => {
    const sub = collect(sseClient(stack.gateway.url, admin()), '{ offerings { code } }');
    await sub.ended;
    expect(sub.results[0].errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe.each([
  ['distinct connections', false],
  ['a single connection', true],
])('notifications over %s', (_mode, single) => {
  it('reach exactly their audience (every role), with the selection resolved across entities', async () => {
    const who = {
      admin: admin(),
      managerA: managerA(),
      managerB: managerB(),
      workerW: role.worker(ids.W),
      workerV: role.worker(ids.V),
    };
    const subs: Record<string, Collected> = {};
    const clients = Object.entries(who).map(([name, headers]) => {
      const client = sseClient(stack.gateway.url, headers, single);
      subs[name] = collect(client, SUBSCRIPTION);
      return client;
    });
    await settle();
    const first = await raiseAboutProject(stack, ids.PA, `For A ${single}`);
    const second = await raiseAboutProject(stack, ids.PB, `For B ${single}`);
    await subs.admin.waitFor(2);
    await subs.managerA.waitFor(1);
    await subs.managerB.waitFor(1);
    await settle();

    const idsOf = (c: Collected) => c.results.map((r) => r.data?.notificationAdded?.id);
    expect(idsOf(subs.admin)).toEqual([first, second]);
    expect(idsOf(subs.managerA)).toEqual([first]);
    expect(idsOf(subs.managerB)).toEqual([second]);
    expect(subs.workerW.results).toEqual([]);
    expect(subs.workerV.results).toEqual([]);

    const got = subs.managerA.results[0];
    expect(got.errors).toBeUndefined();
    expect(got.data.notificationAdded).toMatchObject({
      id: first,
      kind: 'ANOMALY_REPORTED',
      title: `For A ${single}`,
      subject: { __typename: 'Project', id: ids.PA, name: 'Alpha Project', company: { id: ids.A, name: 'Alpha' } },
    });
    // The cursor rides along in extensions too (and as the SSE id).
    expect(got.extensions?.cursor).toBe(got.data.notificationAdded.cursor);
    for (const c of clients) c.dispose();
  });
});
