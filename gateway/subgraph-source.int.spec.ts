import { describe, expect, it } from 'vitest';
import { RedisTagVersions } from '../platform/response-cache/versions.ts';
import { redisUnderTestPrefix } from '../platform/testing/redis.ts';
import type { Identity } from '../platform/auth/identity.ts';
import { SubgraphSource } from './subgraph-source.ts';

/**
 * A subgraph fetch joined while in flight (gateway/inflight.ts) is checked against the tag
 * versions in Redis: when a write was answered since it was read (through any gateway
 * instance), the joining caller fetches again.
 */
const testRedis = redisUnderTestPrefix();
const { prefix } = testRedis;

const identity: Identity = { userId: 'ann', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 's' };

describe('SubgraphSource and joined in-flight answers', () => {
  it('fetches again when the joined answer was read before a write answered elsewhere', async () => {
    const versions = new RedisTagVersions(testRedis.store.client, prefix);
    let sent = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // A subgraph that answers the first fetch only when told, with the count it read before its data.
    const fetcher = (async () => {
      const n = ++sent;
      const { epoch, count } = await versions.start();
      if (n === 1) await held;
      const text = JSON.stringify({ data: { n }, extensions: { angelisCache: { tags: ['w/s:x'], epoch, count, personal: false, validUntil: Date.now() + 60_000 } } });
      return { ok: true, status: 200, statusText: '', url: '', headers: { get: () => 'application/json' }, text: async () => text, json: async () => JSON.parse(text) };
    }) as never;
    const source = new SubgraphSource({ url: 'http://127.0.0.1:9/graphql', fetcher }, 'secret', 'workforce', versions);
    const options = () => ({
      kind: 'incoming operation',
      request: { query: 'query { x }', variables: {} },
      context: { identity, correlationId: 'c', clientAddress: '127.0.0.1' },
      incomingRequestContext: { context: {} },
    }) as never;
    const first = source.process(options());
    await new Promise((r) => setTimeout(r, 50));
    // A write is answered (through another instance) while the first fetch is still on its way.
    await versions.bump(['w/s:x']);
    const second = source.process(options());
    release();
    expect((await first).data).toEqual({ n: 1 });
    // It joined the first fetch, saw the write, and fetched again.
    expect((await second).data).toEqual({ n: 2 });
    expect(source.inflight.merged).toBe(1);
    expect(sent).toBe(2);
  });
});
