import { describe, expect, it } from 'vitest';
import { RedisKeyValueStore } from '../platform/redis/ioredis.ts';
import { RedisTagVersions } from '../platform/response-cache/versions.ts';
import type { CacheExtension } from '../platform/response-cache/reads.ts';
import { createLogger } from '../platform/logger.ts';
import type { Identity } from '../platform/auth/identity.ts';
import { EntityCache, type Boundary } from './entity-cache.ts';
import { redisTarget, tcpRelay } from '../platform/testing/tcp-relay.ts';
import { redisUnderTestPrefix, TEST_REDIS_URL } from '../platform/testing/redis.ts';

/** The entity cache against real Redis (its own key prefix), without a gateway around it. */
const testRedis = redisUnderTestPrefix();
const { prefix } = testRedis;
const log = createLogger('test', 'silent');
const manager = (companyId: string, userId = 'ann'): Identity => ({ userId, kind: 'internal-user', role: 'MANAGER', companyId, profileId: null, sessionId: 's' });
const boundary = (selection = '{ id name }'): Boundary => ({ path: ['a'], type: 'Assignment', selection, query: '', document: null as never });


function cache(o: Partial<ConstructorParameters<typeof EntityCache>[0]> = {}) {
  const versions = new RedisTagVersions(testRedis.store.client, prefix);
  return { versions, cache: new EntityCache({ versions, redis: testRedis.store.client, prefix, namespace: 'n', memoryBytes: 1 << 20, ttlMs: 60_000, log, ...o }) };
}

/** The extension of a fetch that read `tags` now. */
async function readNow(versions: RedisTagVersions, tags: string[], o: Partial<CacheExtension> = {}): Promise<CacheExtension> {
  const { epoch, count } = await versions.start();
  return { tags, epoch, count, personal: false, validUntil: Date.now() + 60_000, ...o };
}
const settle = () => new Promise((r) => setTimeout(r, 50)); // Redis writes are not awaited by store

describe('EntityCache', () => {
  it('serves stored entities until one of their tags is written; another instance finds them in Redis', async () => {
    const { versions, cache: c } = cache();
    const keys = ['1', '2'].map((id) => c.key(manager('c1'), boundary(), id));
    c.store(keys.map((key, i) => ({ key, value: { id: String(i + 1), name: `n${i}` } })), await readNow(versions, ['w/s:x', 'w/t:assignments']));
    await settle();
    const found = await c.lookup(keys);
    expect(found.map((f) => f?.value)).toEqual([{ id: '1', name: 'n0' }, { id: '2', name: 'n1' }]);
    expect(found[0]!.extension.tags).toEqual(['w/s:x', 'w/t:assignments']);
    // Shared by the scope (another manager of the company), and frozen: one object serves many answers.
    expect(Object.isFrozen(found[0]!.value)).toBe(true);
    const other = cache().cache;
    expect((await other.lookup(keys.map((_, i) => other.key(manager('c1', 'bob'), boundary(), String(i + 1))))).every(Boolean)).toBe(true);
    await versions.bump(['w/t:assignments']);
    expect(await c.lookup(keys)).toEqual([null, null]);
    expect(await other.lookup(keys)).toEqual([null, null]);
    expect(c.stats.stale).toBe(2);
    // The stale copies are gone from Redis too: a third instance finds nothing to check.
    await settle();
    const third = cache().cache;
    expect(await third.lookup(keys)).toEqual([null, null]);
    expect(third.stats.stale).toBe(0);
  });

  it('a write to a tag of one entity drops only the entities that read it', async () => {
    const { versions, cache: c } = cache();
    const [k1, k2] = ['1', '2'].map((id) => c.key(manager('c1'), boundary(), id));
    c.store([{ key: k1, value: { id: '1' } }], await readNow(versions, ['w/s:one']));
    c.store([{ key: k2, value: { id: '2' } }], await readNow(versions, ['w/s:two']));
    await versions.bump(['w/s:one']);
    expect((await c.lookup([k1, k2])).map((f) => f?.value ?? null)).toEqual([null, { id: '2' }]);
  });

  it('keys differ by company, role, selection and type: nothing crosses scopes', async () => {
    const { cache: c } = cache();
    const base = c.key(manager('c1'), boundary(), '1');
    expect(c.key(manager('c2'), boundary(), '1')).not.toBe(base);
    expect(c.key({ ...manager('c1'), role: 'WORKER', profileId: 'p' }, boundary(), '1')).not.toBe(base);
    expect(c.key(manager('c1'), boundary('{ id }'), '1')).not.toBe(base);
    expect(c.key(manager('c1'), { ...boundary(), type: 'Profile' }, '1')).not.toBe(base);
    expect(c.key(manager('c1', 'bob'), boundary(), '1')).toBe(base);
  });

  it('never keeps personal answers or answers already past their end', async () => {
    const { versions, cache: c } = cache();
    const key = c.key(manager('c1'), boundary(), 'p');
    c.store([{ key, value: { id: 'p' } }], await readNow(versions, ['w/s:p'], { personal: true }));
    c.store([{ key, value: { id: 'p' } }], await readNow(versions, ['w/s:p'], { validUntil: Date.now() - 1 }));
    await settle();
    expect(c.stats.stored).toBe(0);
    expect(await c.lookup([key])).toEqual([null]);
  });

  it('does not serve an entity past its end (the next midnight) or from another epoch', async () => {
    const { versions, cache: c } = cache();
    const soon = c.key(manager('c1'), boundary(), 'soon');
    c.store([{ key: soon, value: { id: 'soon' } }], await readNow(versions, ['w/s:soon'], { validUntil: Date.now() + 30 }));
    await new Promise((r) => setTimeout(r, 60));
    expect(await c.lookup([soon])).toEqual([null]);
    const key = c.key(manager('c1'), boundary(), 'e');
    c.store([{ key, value: { id: 'e' } }], await readNow(versions, ['w/s:e'], { epoch: 'an-older-epoch' }));
    expect(await c.lookup([key])).toEqual([null]);
  });

  it('keeps to its memory budget, least recently used out, and finds the rest in Redis', async () => {
    const { versions, cache: c } = cache({ memoryBytes: 1_500 });
    const keys = [0, 1, 2, 3, 4].map((i) => c.key(manager('c1'), boundary(), `m${i}`));
    c.store(keys.map((key, i) => ({ key, value: { id: `m${i}`, pad: 'y'.repeat(400) } })), await readNow(versions, ['w/s:m']));
    await settle();
    expect(c.inMemory().entries).toBeLessThan(5);
    expect(c.inMemory().bytes).toBeLessThanOrEqual(1_500);
    expect((await c.lookup(keys)).every(Boolean)).toBe(true);
  });

  it('answers a lookup with misses, quickly, when Redis does not answer', async () => {
    const relay = await tcpRelay(redisTarget(TEST_REDIS_URL));
    const cut = await RedisKeyValueStore.connect(`redis://127.0.0.1:${relay.port}`);
    try {
      const versions = new RedisTagVersions(cut.client, prefix);
      const c = new EntityCache({ versions, redis: cut.client, prefix, namespace: 'n', memoryBytes: 1 << 20, ttlMs: 60_000, log, timeoutMs: 200 });
      const key = c.key(manager('c1'), boundary(), 'r');
      c.store([{ key, value: { id: 'r' } }], await readNow(versions, ['w/s:r']));
      expect(await c.lookup([key])).not.toEqual([null]);
      await relay.cut();
      const started = Date.now();
      expect(await c.lookup([key])).toEqual([null]);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      cut.client.disconnect();
    }
  });
});
