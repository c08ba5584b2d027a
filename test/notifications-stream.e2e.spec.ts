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

describe('in safelist mode', () => {
  // The gateway's own feed reads and delegated queries are not the client's operations: they run; the subscription is checked.
  const LISTED = `subscription Listed { notificationAdded { id title subject { ... on Project { id name } } } }`;
  const refusal = async (url: string, query: string) => {
    const res = await fetch(streamUrl(url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...managerA(700) },
      body: JSON.stringify({ query }),
    });
    // A stream (the subscription was accepted) is closed at once, not read.
    if (res.headers.get('content-type')?.includes('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, body: null as any };
    }
    return { status: res.status, body: (await res.json()) as any };
  };

  it('delivers to a safelisted subscription, in both modes, and refuses any other subscription with FORBIDDEN (OPERATION_NOT_SAFELISTED)', async () => {
    const safelist = await stack.startGateway({}, { ANGELIS_GATEWAY_PERSISTED_OPERATIONS: 'safelist' });
    await safelist.persisted.register([LISTED]);
    const distinct = collect(sseClient(safelist.url, managerA(701)), LISTED);
    const single = collect(sseClient(safelist.url, managerA(702), true), LISTED);
    await settle();
    const id = await raiseAboutProject(stack, ids.PA, 'Safelisted');
    for (const sub of [distinct, single]) {
      const [got] = await sub.waitFor(1);
      expect(got.errors).toBeUndefined();
      expect(got.data.notificationAdded).toEqual({ id, title: 'Safelisted', subject: { id: ids.PA, name: 'Alpha Project' } });
      sub.dispose();
    }

    // The same selection with one more space is another document: not on the list.
    for (const query of [LISTED.replace('{ id title', '{  id title'), SUBSCRIPTION]) {
      const refused = await refusal(safelist.url, query);
      expect(refused.status).toBe(403);
      expect(refused.body.errors[0].extensions).toEqual({ code: 'FORBIDDEN', reason: 'OPERATION_NOT_SAFELISTED' });
    }
    const client = collect(sseClient(safelist.url, managerA(703), true), SUBSCRIPTION);
    await client.ended;
    expect(String(client.error)).toMatch(/403|OPERATION_NOT_SAFELISTED/);
    expect(client.results).toEqual([]);
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

describe('delegated queries', () => {
  it('are one per event, selection and permission scope, shared by every subscriber with the same key', async () => {
    const clients = [];
    const subs: Collected[] = [];
    // 20 subscribers in 2 permission scopes (A's managers, the admins), one selection.
    for (let n = 0; n < 10; n++) {
      for (const headers of [managerA(100 + n), admin(100 + n)]) {
        const client = sseClient(stack.gateway.url, headers);
        clients.push(client);
        subs.push(collect(client, SUBSCRIPTION));
      }
    }
    // One more selection (a different shape) for two of A's managers: its own query in that scope.
    const other = `subscription { notificationAdded { id title } }`;
    for (const n of [0, 1]) {
      const client = sseClient(stack.gateway.url, managerA(200 + n));
      clients.push(client);
      subs.push(collect(client, other));
    }
    await settle();
    const before = stack.gateway.notifications.hub.delegatedQueries;
    const id = await raiseAboutProject(stack, ids.PA, 'Shared');
    for (const s of subs) await s.waitFor(1);
    expect(subs.every((s) => s.results.length === 1 && s.results[0].data.notificationAdded.id === id)).toBe(true);
    expect(stack.gateway.notifications.hub.delegatedQueries - before).toBe(3);

    // A per-reader field (readAt) makes the reader part of the scope: one query per subscriber.
    const perReader = `subscription { notificationAdded { id readAt } }`;
    const readers = [managerA(300), managerA(301), admin(300)].map((h) => {
      const client = sseClient(stack.gateway.url, h);
      clients.push(client);
      return collect(client, perReader);
    });
    await settle();
    const before2 = stack.gateway.notifications.hub.delegatedQueries;
    await raiseAboutProject(stack, ids.PA, 'Per reader');
    for (const r of readers) await r.waitFor(1);
    for (const s of subs) await s.waitFor(2);
    expect(stack.gateway.notifications.hub.delegatedQueries - before2).toBe(3 + 3);
    for (const c of clients) c.dispose();
  });
});

describe.each([
  ['distinct connections', false],
  ['a single connection', true],
])('Last-Event-ID over %s', (_mode, single) => {
  it('replays exactly what was missed, in order, then continues live', async () => {
    const who = managerA(400 + Number(single));
    const first = sseClient(stack.gateway.url, who, single);
    const before = collect(first, SUBSCRIPTION);
    await settle();
    await raiseAboutProject(stack, ids.PA, 'Seen');
    const [seen] = await before.waitFor(1);
    first.dispose();
    await settle();

    const missed = [];
    for (let n = 0; n < 3; n++) missed.push(await raiseAboutProject(stack, ids.PA, `Missed ${n}`));
    // B's: not this reader's, never replayed to it.
    await raiseAboutProject(stack, ids.PB, 'Not mine');

    const again = sseClient(stack.gateway.url, { ...who, 'last-event-id': seen.data.notificationAdded.cursor }, single);
    const after = collect(again, SUBSCRIPTION);
    await after.waitFor(3);
    await settle();
    const live = await raiseAboutProject(stack, ids.PA, 'Live');
    await after.waitFor(4);
    await settle();
    expect(after.results.map((r) => r.data.notificationAdded.id)).toEqual([...missed, live]);
    expect(after.results[0].data.notificationAdded.subject).toMatchObject({ __typename: 'Project', name: 'Alpha Project' });
    again.dispose();
  });
});

describe('on the wire', () => {
  it('sends retry:, an id: per event (its cursor) and heartbeats while idle', async () => {
    const stream = await rawStream(stack.gateway.url, managerA(500), `subscription { notificationAdded { id cursor } }`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/text\/event-stream/);
    await settle();
    const id = await raiseAboutProject(stack, ids.PA, 'On the wire');
    await stream.waitFor(/event: next/);
    const [event] = rawEvents(stream.text());
    expect(event.result.data.notificationAdded.id).toBe(id);
    expect(event.id).toBe(event.result.data.notificationAdded.cursor);
    const heartbeats = () => stream.text().split(':\n\n').length - 1;
    const now = heartbeats();
    await new Promise((r) => setTimeout(r, 1_000));
    // 300 ms heartbeats: at least two more in a second of silence.
    expect(heartbeats() - now).toBeGreaterThanOrEqual(2);
    expect(stream.text().startsWith('retry: 1000\n')).toBe(true);
    stream.close();
  });

  it('ends the stream of a client that reads too slowly (BUFFER_FULL), and the client resumes with Last-Event-ID', async () => {
    const who = managerA(600);
    const marker = await raiseAboutProject(stack, ids.PA, 'Marker');
    const { notifications } = await okAs(stack, who, `{ notifications(first: 1) { nodes { id cursor } } }`);
    expect(notifications.nodes[0].id).toBe(marker);
    const body = 'x'.repeat(4_000);
    const raised = [];
    for (let n = 0; n < 20; n++) raised.push(await raiseAboutProject(stack, ids.PA, `Big ${n}`, body));
    // 100 copies of a 4 kB body: 400 kB an event, 8 MB in all, far past the socket buffers.
    const heavy = `subscription { notificationAdded { id ${Array.from({ length: 100 }, (_, i) => `b${i}: body`).join(' ')} } }`;
    const slow = await rawStream(stack.gateway.url, { ...who, 'last-event-id': notifications.nodes[0].cursor }, heavy, { paused: true });
    await new Promise((r) => setTimeout(r, 1_500));
    slow.res.resume();
    await slow.ended;
    const text = slow.text();
    expect(text).toContain(': BUFFER_FULL');
    const events = rawEvents(text);
    const last = events.at(-1)!;
    expect(last.result.errors[0].extensions).toMatchObject({ code: 'STREAM_ENDED', reason: 'BUFFER_FULL' });
    const delivered = events.filter((e) => e.id).map((e) => e.result.data.notificationAdded.id);
    expect(delivered.length).toBeLessThan(20);
    expect(text).not.toContain('event: complete');

    // The client resumes after the last id it received and gets the rest, once each.
    const lastId = events.filter((e) => e.id).at(-1)?.id ?? notifications.nodes[0].cursor;
    const resumed = collect(sseClient(stack.gateway.url, { ...who, 'last-event-id': lastId }), `subscription { notificationAdded { id } }`);
    await resumed.waitFor(20 - delivered.length);
    await settle();
    expect([...delivered, ...resumed.results.map((r) => r.data?.notificationAdded?.id ?? JSON.stringify(r))]).toEqual(raised);
    resumed.dispose();
  });
});
