import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { okAs, role, rut } from './support/workforce.ts';
import { collect, companyWithProject, raiseAboutProject, rawEvents, rawStream, sseClient } from './support/sse.ts';
import { MemoryPubSub, RedisPubSub } from '../platform/redis/pubsub.ts';
import { redisTarget, tcpRelay } from '../platform/testing/tcp-relay.ts';

/**
 * Several gateway instances on one Redis, and one whose Redis goes away. The feed is polled
 * only once a minute here, so a delivery within seconds proves the wake-up travelled
 * through Redis pub/sub (or, while it is down, the fast degraded polling).
 */
let stack: TestStack;
const ids: Record<string, string> = {};
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const QUERY = `subscription { notificationAdded { id title subject { ... on Project { name } } } }`;
const manager = () => role.manager(ids.A, 'manager@a.example');
const settle = () => new Promise((r) => setTimeout(r, 500));

beforeAll(async () => {
  stack = await startTestStack('notify_multi', { env: { ANGELIS_GATEWAY_SSE_POLL_MS: '60000', ANGELIS_GATEWAY_SSE_DEGRADED_POLL_MS: '200' } });
  const offering = (await okAs(stack, role.admin(), `mutation { createOffering(input: {code: "MUL", name: "Multi"}) { id } }`)).createOffering.id;
  const a = await companyWithProject(stack, 'Alpha', rut(76_500_001), offering);
  Object.assign(ids, { A: a.companyId, PA: a.projectId });
});
afterAll(async () => stack?.stop());

describe('two gateway instances on one Redis', () => {
  it('a notification created through instance A reaches a subscriber connected to instance B', async () => {
    const b = await stack.startGateway();
    const onB = collect(sseClient(b.url, manager()), QUERY);
    const onA = collect(sseClient(stack.gateway.url, manager()), QUERY);
    await settle();
    const id = await raiseAboutProject(stack, ids.PA, 'Through A', 'body');
    const [got] = await onB.waitFor(1, 5_000);
    expect(got.data.notificationAdded).toEqual({ id, title: 'Through A', subject: { name: 'Alpha Project' } });
    expect((await onA.waitFor(1, 5_000))[0].data.notificationAdded.id).toBe(id);
    onB.dispose();
    onA.dispose();
  });
});

describe('reconnecting to an instance that lags behind', () => {
  it('sends what came after Last-Event-ID once, and none of the older ones its reader delivers late', async () => {
    // Instance L hears no wake-ups (a pub/sub of its own) and reads the feed every 4 s: behind A.
    const lagging = await stack.startGateway({ pubsub: new MemoryPubSub() }, { ANGELIS_GATEWAY_SSE_POLL_MS: 4_000 });
    const onA = collect(sseClient(stack.gateway.url, manager()), QUERY);
    await settle();
    const early = [];
    for (let n = 0; n < 3; n++) early.push(await raiseAboutProject(stack, ids.PA, `Early ${n}`));
    const seen = await onA.waitFor(3, 5_000);
    onA.dispose();
    expect(seen.map((r) => r.data.notificationAdded.id)).toEqual(early);
    // The client moves to L with the last cursor it saw (the extensions carry it, as the SSE id does).
    const onL = collect(sseClient(lagging.url, { ...manager(), 'last-event-id': seen[2].extensions!.cursor as string }), QUERY);
    await settle();
    const next = await raiseAboutProject(stack, ids.PA, 'Next');
    await onL.waitFor(1, 10_000);
    // L's reader catches up on its next poll and dispatches Early 0-2 and Next to its streams.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(onL.results.map((r) => r.data.notificationAdded.id)).toEqual([next]);
    const after = await raiseAboutProject(stack, ids.PA, 'After');
    await onL.waitFor(2, 10_000);
    await new Promise((r) => setTimeout(r, 4_500));
    expect(onL.results.map((r) => r.data.notificationAdded.id)).toEqual([next, after]);
    onL.dispose();
  }, 40_000);
});

describe('Redis down', () => {
  it('keeps queries working, tells open streams they are degraded, polls the feed, and recovers', async () => {
    // This instance reaches Redis pub/sub through a TCP relay the test cuts, as a network failure would.
    const relay = await tcpRelay(redisTarget(REDIS_URL));
    const pubsub = await RedisPubSub.connect(`redis://127.0.0.1:${relay.port}`);
    const c = await stack.startGateway({ pubsub });
    try {
      const stream = await rawStream(c.url, manager(), QUERY);
      await settle();
      await relay.cut();
      await stream.waitFor(/: degraded: Redis pub\/sub is unavailable/, 5_000);
      // Queries through that instance still work.
      expect((await okAs({ ...stack, gateway: c } as TestStack, manager(), `{ project(id: "${ids.PA}") { name } }`)).project.name).toBe('Alpha Project');
      // A notification committed meanwhile arrives by polling the store, marked degraded.
      const id = await raiseAboutProject(stack, ids.PA, 'While down');
      await stream.waitFor(/event: next/, 5_000);
      const [event] = rawEvents(stream.text());
      expect(event.result.data.notificationAdded.id).toBe(id);
      expect(event.result.extensions).toMatchObject({ degraded: true, cursor: event.id });

      await relay.restore();
      await stream.waitFor(/: recovered: Redis pub\/sub is back/, 15_000);
      const after = await raiseAboutProject(stack, ids.PA, 'After');
      await stream.waitFor(new RegExp(`"id":"${after}"`), 5_000);
      expect(rawEvents(stream.text()).map((e) => e.result.data.notificationAdded.id)).toEqual([id, after]);
      expect(rawEvents(stream.text())[1].result.extensions.degraded).toBeUndefined();
      stream.close();
    } finally {
      // The stack stops the instance.
      await pubsub.close();
      await relay.cut();
    }
  }, 40_000);
});
