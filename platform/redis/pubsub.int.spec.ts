import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryPubSub, RedisPubSub, openPubSub, type PubSub } from './pubsub.ts';
import { createLogger } from '../logger.ts';
import { freePort } from '../testing/ports.ts';
import { redisTarget, tcpRelay } from '../testing/tcp-relay.ts';

const REDIS_URL = process.env.ANGELIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the first `n` messages `pubsub` receives on `channel`. */
async function collect(pubsub: PubSub, channel: string, n: number) {
  const got: string[] = [];
  let resolve!: (v: string[]) => void;
  const done = new Promise<string[]>((r) => (resolve = r));
  const unsubscribe = await pubsub.subscribe(channel, (m) => {
    got.push(m);
    if (got.length === n) resolve(got);
  });
  return { got, done, unsubscribe };
}

async function until(check: () => boolean, ms = 5_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** The contract both adapters pass; `open` gives two handles that share one bus (two instances, or one process). */
function contract(name: string, open: () => Promise<PubSub>) {
  describe(`PubSub contract: ${name}`, () => {
    const handles: PubSub[] = [];
    const channel = (n: string) => `angelis:test:${randomBytes(6).toString('hex')}:${n}`;
    const two = async () => {
      const a = await open();
      const b = await open();
      handles.push(a, b);
      return [a, b] as const;
    };
    afterAll(async () => {
      await Promise.all(handles.map((h) => h.close()));
    });

    it('delivers a message published by one handle to subscribers of the channel on every handle, in order, intact', async () => {
      const [a, b] = await two();
      const ch = channel('fanout');
      const hostile = `{"cursor":"x'; DROP TABLE x; --","emoji":"🦺","nul":"\u0000"}`;
      const onA = await collect(a, ch, 3);
      const onB = await collect(b, ch, 3);
      const other = await collect(b, channel('other'), 1);
      await a.publish(ch, 'one');
      await a.publish(ch, hostile);
      await a.publish(ch, 'three');
      expect(await onA.done).toEqual(['one', hostile, 'three']);
      expect(await onB.done).toEqual(['one', hostile, 'three']);
      expect(other.got).toEqual([]);
    });

    it('stops delivering after unsubscribe, but keeps the other subscribers of the channel', async () => {
      const [a, b] = await two();
      const ch = channel('unsub');
      const first = await collect(b, ch, 1);
      const second = await collect(b, ch, 2);
      await a.publish(ch, 'before');
      await first.done;
      await first.unsubscribe();
      await first.unsubscribe(); // twice is harmless
      await a.publish(ch, 'after');
      expect(await second.done).toEqual(['before', 'after']);
      await sleep(50);
      expect(first.got).toEqual(['before']);
    });

    it('a throwing subscriber does not stop the others', async () => {
      const [a, b] = await two();
      const ch = channel('throws');
      await b.subscribe(ch, () => {
        throw new Error('boom');
      });
      const ok = await collect(b, ch, 1);
      await a.publish(ch, 'still delivered');
      expect(await ok.done).toEqual(['still delivered']);
    });

    it('closes: no more deliveries, and close twice is harmless', async () => {
      const [a, b] = await two();
      const ch = channel('close');
      const seen = await collect(b, ch, 1);
      await b.close();
      await b.close();
      await a.publish(ch, 'late');
      await sleep(100);
      expect(seen.got).toEqual([]);
    });
  });
}

contract('Redis (ioredis)', () => RedisPubSub.connect(REDIS_URL));
// The stand-in serves one process: both "instances" are the same object.
const memory = new MemoryPubSub();
contract('in-process stand-in', async () => memory);

describe('RedisPubSub connection status', () => {
  it('reports down when the connection to Redis is lost and up when it is back, and still receives after the reconnect', async () => {
    // A TCP relay in front of Redis that the test can cut, as a network failure would.
    const relay = await tcpRelay(redisTarget(REDIS_URL));
    const viaRelay = await RedisPubSub.connect(`redis://127.0.0.1:${relay.port}`);
    const direct = await RedisPubSub.connect(REDIS_URL);
    try {
      const statuses: string[] = [];
      viaRelay.onStatus((s) => statuses.push(s));
      const ch = `angelis:test:${randomBytes(6).toString('hex')}:status`;
      const seen = await collect(viaRelay, ch, 1);

      await relay.cut();
      await until(() => statuses.includes('down'));
      expect(statuses).toEqual(['down']);

      await relay.restore();
      await until(() => statuses.includes('up'), 10_000);
      expect(statuses).toEqual(['down', 'up']);
      // Re-subscribed after the reconnect.
      await sleep(100);
      await direct.publish(ch, 'after reconnect');
      expect(await seen.done).toEqual(['after reconnect']);
    } finally {
      await viaRelay.close();
      await direct.close();
      await relay.cut();
    }
  }, 20_000);

  it('fails fast when Redis is unreachable', async () => {
    const port = await freePort();
    await expect(RedisPubSub.connect(`redis://127.0.0.1:${port}`)).rejects.toThrow();
  });
});

describe('openPubSub', () => {
  const log = createLogger('test', 'silent');
  it('opens Redis when ANGELIS_REDIS_URL is set and the stand-in otherwise', async () => {
    const redis = await openPubSub({ ANGELIS_REDIS_URL: REDIS_URL }, log);
    const local = await openPubSub({ ANGELIS_REDIS_URL: undefined }, log);
    expect([redis.kind, local.kind]).toEqual(['redis', 'memory']);
    await redis.close();
    await local.close();
  });
});
