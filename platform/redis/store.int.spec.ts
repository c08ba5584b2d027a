import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeyValueStore } from './ioredis.ts';
import { MemoryKeyValueStore } from './memory.ts';
import type { KeyValueStore } from './store.ts';
import { fixedWindowLimiter } from './fixed-window.ts';

const REDIS_URL = process.env.ANGELIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The contract every KeyValueStore adapter passes. */
function contract(name: string, open: () => Promise<KeyValueStore>) {
  describe(`KeyValueStore contract: ${name}`, () => {
    let store: KeyValueStore;
    const prefix = `angelis:test:${randomBytes(6).toString('hex')}:`;
    const used: string[] = [];
    const k = (name: string) => {
      const key = prefix + name;
      used.push(key);
      return key;
    };

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.del(...used);
      await store.close();
    });

    it('limits hits per fixed window: the first counter over its limit refuses with the seconds left', async () => {
      const charge = fixedWindowLimiter(store, 60_000);
      const counters = [{ key: k('rate-a'), limit: 3 }, { key: k('rate-b'), limit: 2 }];
      await charge(counters);
      await charge(counters);
      const refused = await charge(counters).then(() => null, (err) => err);
      expect(refused?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(refused.retryAfterSeconds).toBeGreaterThan(55);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
      // The refused hit still counted on the first counter, which now refuses too.
      expect(await store.get(counters[0].key)).toBe('3');
      await expect(charge([counters[0]])).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    });

    it('takes a hit back within its window, never below zero, and nothing once the window ended; a refusal names its counter', async () => {
      const charge = fixedWindowLimiter(store, 60_000);
      const counter = k('uncharge');
      await charge([{ key: counter, limit: 5 }]);
      await charge([{ key: counter, limit: 5 }]);
      const ttl = await store.ttl(counter);
      await store.uncharge(counter);
      expect(await store.get(counter)).toBe('1');
      // Still the same window.
      expect(await store.ttl(counter)).toBeGreaterThan(0);
      expect(await store.ttl(counter)).toBeLessThanOrEqual(ttl);
      await store.uncharge(counter);
      await store.uncharge(counter);
      expect(await store.get(counter)).toBe('0');
      await store.uncharge(k('never-charged'));
      expect(await store.get(k('never-charged'))).toBeNull();
      const refused = await charge([{ key: k('first'), limit: 5 }, { key: counter, limit: 0 }]).then(() => null, (err) => err);
      expect(refused.counter).toBe(1);
    });

    it('charges counters in one step: in order, stopping at the first over its limit, atomically under concurrency', async () => {
      const a = k('charge-a');
      const b = k('charge-b');
      const counters = [{ key: a, limit: 100 }, { key: b, limit: 5 }];
      const results = await Promise.all(Array.from({ length: 8 }, () => store.charge(counters, 300)));
      // Eight concurrent charges: both counters took every hit; the sixth to eighth went over b's limit.
      expect(await store.get(a)).toBe('8');
      expect(await store.get(b)).toBe('8');
      const refused = results.filter((r) => r !== null);
      expect(refused).toHaveLength(3);
      for (const r of refused) {
        expect(r.refused).toBe(1);
        expect(r.ttlMs).toBeGreaterThan(0);
        expect(r.ttlMs).toBeLessThanOrEqual(300);
      }
      // Over the first counter's limit: the second is not charged.
      const c = k('charge-c');
      const d = k('charge-d');
      expect(await store.charge([{ key: c, limit: 0 }, { key: d, limit: 10 }], 60_000)).toMatchObject({ refused: 0 });
      expect(await store.get(c)).toBe('1');
      expect(await store.get(d)).toBeNull();
      expect(await store.charge([], 1_000)).toBeNull();
      // The window ends: counts start again.
      await sleep(400);
      expect(await store.charge(counters, 300)).toBeNull();
      expect(await store.get(b)).toBe('1');
    });

    it('sets, gets, deletes and reports existence', async () => {
      const key = k('plain');
      expect(await store.get(key)).toBeNull();
      expect(await store.exists(key)).toBe(false);
      await store.set(key, 'v1');
      expect(await store.get(key)).toBe('v1');
      expect(await store.exists(key)).toBe(true);
      expect(await store.ttl(key)).toBe(-1);
      expect(await store.del(key, k('never-set'))).toBe(1);
      expect(await store.get(key)).toBeNull();
      expect(await store.ttl(key)).toBe(-2);
    });

    it('expires keys after their TTL', async () => {
      const key = k('ttl');
      await store.set(key, 'x', 150);
      const left = await store.ttl(key);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(150);
      await sleep(250);
      expect(await store.get(key)).toBeNull();
      expect(await store.exists(key)).toBe(false);
    });

    it('setIfAbsent sets only once', async () => {
      const key = k('nx');
      expect(await store.setIfAbsent(key, 'a', 10_000)).toBe(true);
      expect(await store.setIfAbsent(key, 'b', 10_000)).toBe(false);
      expect(await store.get(key)).toBe('a');
    });

    it('compareAndSet replaces only the expected value', async () => {
      const key = k('cas');
      expect(await store.compareAndSet(key, 'x', 'y', 10_000)).toBe(false);
      await store.set(key, 'one', 10_000);
      expect(await store.compareAndSet(key, 'other', 'two', 10_000)).toBe(false);
      expect(await store.compareAndSet(key, 'one', 'two', 10_000)).toBe(true);
      expect(await store.get(key)).toBe('two');
      const results = await Promise.all([store.compareAndSet(key, 'two', 'a', 10_000), store.compareAndSet(key, 'two', 'b', 10_000)]);
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('take hands a value to exactly one of concurrent callers', async () => {
      const key = k('take');
      await store.set(key, 'once', 10_000);
      const results = await Promise.all(Array.from({ length: 5 }, () => store.take(key)));
      expect(results.filter((r) => r === 'once')).toHaveLength(1);
      expect(await store.exists(key)).toBe(false);
    });

    it('incr counts atomically in a fixed window', async () => {
      const key = k('counter');
      const counts = await Promise.all(Array.from({ length: 10 }, () => store.incr(key, 200)));
      expect([...counts].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const left = await store.ttl(key);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(200);
      await sleep(300);
      expect(await store.incr(key, 200)).toBe(1);
    });

    it('keeps sets with an expiry', async () => {
      const key = k('set');
      await store.setAdd(key, 'a', 10_000);
      await store.setAdd(key, 'b', 10_000);
      await store.setAdd(key, 'a', 10_000);
      expect((await store.setMembers(key)).sort()).toEqual(['a', 'b']);
      await store.setRemove(key, 'a');
      expect(await store.setMembers(key)).toEqual(['b']);
      expect(await store.ttl(key)).toBeGreaterThan(0);
      expect(await store.setMembers(k('no-set'))).toEqual([]);
    });
  });
}

contract('in-process', async () => new MemoryKeyValueStore());
contract('Redis (ioredis)', () => RedisKeyValueStore.connect(REDIS_URL));

describe('Redis scripts', () => {
  it('are sent as EVALSHA and sent again when the server has lost them (SCRIPT FLUSH, a restart)', async () => {
    const store = await RedisKeyValueStore.connect(REDIS_URL);
    const key = `angelis:test:${randomBytes(6).toString('hex')}:flushed`;
    try {
      const sent: string[] = [];
      const monitor = await store.client.monitor();
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[3] === key || args[2] === key) sent.push(String(args[0]).toLowerCase());
      });
      expect(await store.incr(key, 60_000)).toBe(1);
      expect(await store.incr(key, 60_000)).toBe(2);
      await store.client.script('FLUSH');
      expect(await store.incr(key, 60_000)).toBe(3);
      expect(await store.incr(key, 60_000)).toBe(4);
      await sleep(100);
      monitor.disconnect();
      // Once per connection as text, then by digest; after the flush, NOSCRIPT, then the text again.
      expect(sent[0]).toBe('eval');
      expect(sent[1]).toBe('evalsha');
      expect(sent.filter((c) => c === 'eval').length).toBeGreaterThanOrEqual(2);
      expect(sent.at(-1)).toBe('evalsha');
    } finally {
      await store.del(key);
      await store.close();
    }
  });
});
