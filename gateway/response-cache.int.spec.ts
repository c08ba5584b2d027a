import { describe, expect, it } from 'vitest';
import { RedisKeyValueStore } from '../platform/redis/ioredis.ts';
import { RedisTagVersions } from '../platform/response-cache/versions.ts';
import { createLogger } from '../platform/logger.ts';
import type { Identity } from '../platform/auth/identity.ts';
import { collectFetch, newCollector, ResponseCache, type CacheCollector } from './response-cache.ts';
import { redisTarget, tcpRelay } from '../platform/testing/tcp-relay.ts';
import { redisUnderTestPrefix, TEST_REDIS_URL } from '../platform/testing/redis.ts';

/** The response cache against real Redis (its own key prefix), without a gateway around it. */
const testRedis = redisUnderTestPrefix();
const { prefix } = testRedis;
const req = { headers: { accept: 'application/json', 'content-type': 'application/json' } } as never;
const manager = (userId: string): Identity => ({ userId, kind: 'internal-user', role: 'MANAGER', companyId: 'c1', profileId: null, sessionId: 's' });
const log = createLogger('test', 'silent');


function cache(o: Partial<ConstructorParameters<typeof ResponseCache>[0]> = {}) {
  const versions = new RedisTagVersions(testRedis.store.client, prefix);
  return { versions, cache: new ResponseCache({ versions, redis: testRedis.store.client, prefix, namespace: 'n', memoryBytes: 1 << 20, maxEntryBytes: 10_000, ttlMs: 60_000, log, ...o }) };
}

/** A collector as a query with one tagged fetch read at the current count leaves it. */
async function readNow(versions: RedisTagVersions, tags: string[], personal = false): Promise<CacheCollector> {
  const c = newCollector();
  c.operation = 'query';
  const { epoch, count } = await versions.start();
  collectFetch(c, { angelisCache: { tags, epoch, count, personal, validUntil: Date.now() + 60_000 } }, true);
  return c;
}
const answer = (body: string) => ({ status: 200, contentType: 'application/json', body });
/** Stores an answer as a second computation does (the first is only noted: admission). */
function keep(c: ResponseCache, ...args: Parameters<ResponseCache['store']>): void {
  c.store(...args);
  c.store(...args);
}

describe('ResponseCache', () => {
  it('serves a stored answer until one of its tags is written, then computes it again', async () => {
    const { versions, cache: c } = cache();
    keep(c, req, 'q1', 'q1', manager('ann'), await readNow(versions, ['w/s:a', 'w/t:x']), answer('{"data":1}'));
    await new Promise((r) => setTimeout(r, 50)); // the Redis write is not awaited by store
    expect(await c.lookup(req, 'q1', 'q1', manager('ann'))).toEqual({ body: '{"data":1}', contentType: 'application/json' });
    // Another user of the same scope shares it; another instance finds it in Redis.
    expect(await c.lookup(req, 'q1', 'q1', manager('bob'))).not.toBeNull();
    const other = cache().cache;
    expect(await other.lookup(req, 'q1', 'q1', manager('bob'))).not.toBeNull();
    await versions.bump(['w/t:x']);
    expect(await c.lookup(req, 'q1', 'q1', manager('ann'))).toBeNull();
    expect(await other.lookup(req, 'q1', 'q1', manager('ann'))).toBeNull();
    expect(c.stats.stale).toBe(1);
  });

  it('keeps an answer the second time it is computed, not the first (admission)', async () => {
    const { versions, cache: c } = cache();
    c.store(req, 'a1', 'a1', manager('ann'), await readNow(versions, ['w/s:a']), answer('{"data":1}'));
    expect(await c.lookup(req, 'a1', 'a1', manager('ann'))).toBeNull();
    expect(c.stats.refused['first sight']).toBe(1);
    expect(c.stats.stored).toBe(0);
    c.store(req, 'a1', 'a1', manager('ann'), await readNow(versions, ['w/s:a']), answer('{"data":1}'));
    expect(await c.lookup(req, 'a1', 'a1', manager('ann'))).not.toBeNull();
  });

  it('a write between the count being read and the answer being stored leaves it unserved', async () => {
    const { versions, cache: c } = cache();
    const collected = await readNow(versions, ['w/s:b']);
    await versions.bump(['w/s:b']);
    keep(c, req, 'q2', 'q2', manager('ann'), collected, answer('{"data":"old"}'));
    expect(await c.lookup(req, 'q2', 'q2', manager('ann'))).toBeNull();
  });

  it('keeps an answer that read personal rows per user; the shared key only says so', async () => {
    const { versions, cache: c } = cache();
    keep(c, req, 'q3', 'q3', manager('ann'), await readNow(versions, ['w/t:notifications'], true), answer('{"data":"ann"}'));
    expect((await c.lookup(req, 'q3', 'q3', manager('ann')))?.body).toBe('{"data":"ann"}');
    expect(await c.lookup(req, 'q3', 'q3', manager('bob'))).toBeNull();
    // Bob's own answer does not replace Ann's.
    keep(c, req, 'q3', 'q3', manager('bob'), await readNow(versions, ['w/t:notifications'], true), answer('{"data":"bob"}'));
    expect((await c.lookup(req, 'q3', 'q3', manager('bob')))?.body).toBe('{"data":"bob"}');
    expect((await c.lookup(req, 'q3', 'q3', manager('ann')))?.body).toBe('{"data":"ann"}');
    // A manager of another company never sees either.
    expect(await c.lookup(req, 'q3', 'q3', { ...manager('ann'), companyId: 'c2' })).toBeNull();
  });

  it('does not store errors, mutations, untagged fetches, oversized or expired answers, or anonymous callers', async () => {
    const { versions, cache: c } = cache();
    const ok = () => readNow(versions, ['w/s:c']);
    c.store(req, 'e1', 'e1', manager('ann'), await ok(), { ...answer('{"errors":[],"data":null}') });
    c.store(req, 'e2', 'e2', manager('ann'), { ...(await ok()), operation: 'mutation' }, answer('{}'));
    const untagged = await ok();
    collectFetch(untagged, undefined, true);
    c.store(req, 'e3', 'e3', manager('ann'), untagged, answer('{}'));
    c.store(req, 'e4', 'e4', manager('ann'), await ok(), answer(`{"data":"${'x'.repeat(20_000)}"}`));
    c.store(req, 'e5', 'e5', manager('ann'), { ...(await ok()), validUntil: Date.now() - 1 }, answer('{}'));
    c.store(req, 'e6', 'e6', null, await ok(), answer('{}'));
    expect(c.stats.stored).toBe(0);
    expect(c.stats.refused).toEqual({ 'an error': 1, mutation: 1, 'a subgraph that does not tag its answers': 1, 'too large': 1, expired: 1, anonymous: 1 });
  });

  it('skips looking up an operation recently found never cacheable (a mutation, a subgraph that does not tag)', async () => {
    const { versions, cache: c } = cache();
    const untagged = await readNow(versions, ['w/s:n']);
    collectFetch(untagged, undefined, true);
    c.store(req, 'n1', 'op-n', manager('ann'), untagged, answer('{}'));
    expect(await c.lookup(req, 'n2', 'op-n', manager('ann'))).toBeNull();
    expect(c.stats.skipped).toBe(1);
    // A passing refusal (an error) does not: the next request is looked up.
    const failed = await readNow(versions, ['w/s:n']);
    collectFetch(failed, { angelisCache: { refused: 'an error' } }, true);
    c.store(req, 'f1', 'op-f', manager('ann'), failed, answer('{}'));
    await c.lookup(req, 'f2', 'op-f', manager('ann'));
    expect(c.stats.skipped).toBe(1);
  });

  it('answers nothing from the cache to a request that is not JSON (Apollo would refuse it)', async () => {
    const { versions, cache: c } = cache();
    keep(c, req, 'j1', 'j1', manager('ann'), await readNow(versions, ['w/s:j']), answer('{"data":1}'));
    expect(await c.lookup(req, 'j1', 'j1', manager('ann'))).not.toBeNull();
    expect(await c.lookup({ headers: { accept: 'application/json', 'content-type': 'text/plain' } } as never, 'j1', 'j1', manager('ann'))).toBeNull();
  });

  it('merges fetches: the lowest count, every tag, personal if any is; different Redis refuses', async () => {
    const c = newCollector();
    collectFetch(c, { angelisCache: { tags: ['a'], epoch: 'e', count: 7, personal: false, validUntil: 50 } }, true);
    collectFetch(c, { angelisCache: { tags: ['b'], epoch: 'e', count: 5, personal: true, validUntil: 90 } }, true);
    expect({ count: c.count, tags: [...c.tags], personal: c.personal, validUntil: c.validUntil, refused: c.refused }).toEqual({ count: 5, tags: ['a', 'b'], personal: true, validUntil: 50, refused: null });
    collectFetch(c, { angelisCache: { tags: ['c'], epoch: 'other', count: 9, personal: false, validUntil: 90 } }, true);
    expect(c.refused).toBe('subgraphs on different Redis');
  });

  it('drops what memory cannot hold (least recently used first) and still finds it in Redis', async () => {
    const { versions, cache: c } = cache({ memoryBytes: 1_500 });
    for (let i = 0; i < 5; i++) keep(c, req, `m${i}`, `m${i}`, manager('ann'), await readNow(versions, ['w/s:m']), answer(`{"data":"${'y'.repeat(400)}"}`));
    await new Promise((r) => setTimeout(r, 50));
    expect(c.inMemory().entries).toBeLessThan(5);
    expect(c.inMemory().bytes).toBeLessThanOrEqual(1_500);
    for (let i = 0; i < 5; i++) expect(await c.lookup(req, `m${i}`, `m${i}`, manager('ann'))).not.toBeNull();
  });

  it('answers a lookup with a miss, quickly, when Redis does not answer', async () => {
    const relay = await tcpRelay(redisTarget(TEST_REDIS_URL));
    const cut = await RedisKeyValueStore.connect(`redis://127.0.0.1:${relay.port}`);
    try {
      const versions = new RedisTagVersions(cut.client, prefix);
      const c = new ResponseCache({ versions, redis: cut.client, prefix, namespace: 'n', memoryBytes: 1 << 20, maxEntryBytes: 10_000, ttlMs: 60_000, log, timeoutMs: 200 });
      keep(c, req, 'r1', 'r1', manager('ann'), await readNow(versions, ['w/s:r']), answer('{"data":1}'));
      expect(await c.lookup(req, 'r1', 'r1', manager('ann'))).not.toBeNull();
      await relay.cut();
      const started = Date.now();
      expect(await c.lookup(req, 'r1', 'r1', manager('ann'))).toBeNull();
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      cut.client.disconnect();
    }
  });
});
