import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.ts';
import { startGateway, type RunningGateway } from '../gateway/server.ts';
import { persistedStore, sha256 } from '../gateway/persisted-operations.ts';
import { keepAliveFetcher, SubgraphSource } from '../gateway/subgraph-source.ts';
import { identitySecret, type Identity } from '../platform/auth/identity.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Persisted operations through the real stack (Redis shared by two gateway instances):
 * automatic persisted queries (miss, registration, hit on another instance, a hash that
 * does not match its text), the safelist mode (refusals coded FORBIDDEN /
 * OPERATION_NOT_SAFELISTED, nothing executed), caches warmed at start, and identical
 * in-flight subgraph fetches merged within one permission scope only.
 */
const log = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
const ADMIN = 'persisted@angelis.test';
const OFFERINGS = 'query Offerings { offerings { id code name } }';

interface Body {
  data?: any;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function post(url: string, body: object, user: string | null = ADMIN): Promise<{ status: number } & Body> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { 'x-angelis-dev-user': user } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, ...((await res.json()) as Body) };
}
const byHash = (text: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(text) } } });

describe('persisted operations', () => {
  let stack: TestStack;
  const extra: RunningGateway[] = [];
  const another = async (mode: 'apq' | 'safelist', config: { ANGELIS_GATEWAY_APQ_MAX?: number } = {}, keyPrefix = stack.keyPrefix) => {
    const gateway = await startGateway({ ...stack.config, ANGELIS_GATEWAY_PERSISTED_OPERATIONS: mode, ...config }, log, {
      subgraphUrls: { workforce: stack.workforce.server.url, ciam: stack.ciam.server.url },
      store: stack.store,
      keyPrefix,
    });
    extra.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    stack = await startTestStack('persisted');
    const created = await stack.gql(`mutation { createOffering(input: { code: "APQ1", name: "Persisted" }) { id } }`, {}, ADMIN);
    expect(created.errors).toBeUndefined();
  }, 120_000);
  afterAll(async () => {
    for (const g of extra) await g.stop();
    await stack?.stop();
  });

  describe('automatic persisted queries (the default mode)', () => {
    const text = `${OFFERINGS} # apq ${Date.now()}`;

    it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND and stores nothing', async () => {
      const res = await post(stack.gateway.url, byHash(text));
      expect(res.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(res.data).toBeUndefined();
      expect(await stack.store.get(`${stack.keyPrefix}gateway:apq:${sha256(text)}`)).toBeNull();
    });

    it('registers the text sent with its hash, then answers the hash alone, on another gateway instance too (Redis)', async () => {
      const registered = await post(stack.gateway.url, { query: text, ...byHash(text) });
      expect(registered.errors).toBeUndefined();
      expect(registered.data.offerings.map((o: { code: string }) => o.code)).toContain('APQ1');
      expect(await stack.store.get(`${stack.keyPrefix}gateway:apq:${sha256(text)}`)).toBe(text);

      const hit = await post(stack.gateway.url, byHash(text));
      expect(hit.errors).toBeUndefined();
      expect(hit.data).toEqual(registered.data);

      const second = await another('apq');
      const elsewhere = await post(second.url, byHash(text));
      expect(elsewhere.data).toEqual(registered.data);
      // The second instance warmed its parse, validation and plan caches from what was persisted.
      expect(second.warmed).toBeGreaterThanOrEqual(1);
    });

    it('refuses a hash that does not match the text sent with it, with a coded error', async () => {
      const res = await post(stack.gateway.url, { query: OFFERINGS, ...byHash(`${OFFERINGS} # other`) });
      expect(res.status).toBe(400);
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
      expect(await stack.store.get(`${stack.keyPrefix}gateway:apq:${sha256(`${OFFERINGS} # other`)}`)).toBeNull();
    });

    it('registers nothing for an anonymous caller: the text runs, the hash stays unknown', async () => {
      const anonymous = `{ __typename } # anonymous ${Date.now()}`;
      const sent = await post(stack.gateway.url, { query: anonymous, ...byHash(anonymous) }, null);
      expect(sent.errors).toBeUndefined();
      expect(sent.data).toEqual({ __typename: 'Query' });
      // Asked again by hash (a round trip after Apollo's unawaited write would have landed).
      expect((await post(stack.gateway.url, byHash(anonymous), null)).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect((await post(stack.gateway.url, byHash(anonymous))).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(await stack.store.get(`${stack.keyPrefix}gateway:apq:${sha256(anonymous)}`)).toBeNull();
      expect(await stack.store.setMembers(`${stack.keyPrefix}gateway:apq-index`)).not.toContain(sha256(anonymous));
    });

    it('keeps at most ANGELIS_GATEWAY_APQ_MAX operations: past it a new one runs unregistered, until one expires', async () => {
      const prefix = `${stack.keyPrefix}cap:`;
      const capped = await another('apq', { ANGELIS_GATEWAY_APQ_MAX: 2 }, prefix);
      const texts = [1, 2, 3].map((n) => `${OFFERINGS} # capped ${n} ${Date.now()}`);
      for (const text of texts) {
        const res = await post(capped.url, { query: text, ...byHash(text) });
        expect(res.errors).toBeUndefined();
        await post(capped.url, byHash(text)); // a round trip for the unawaited write
      }
      const index = `${prefix}gateway:apq-index`;
      expect((await stack.store.setMembers(index)).sort()).toEqual([sha256(texts[0]), sha256(texts[1])].sort());
      expect((await post(capped.url, byHash(texts[1]))).data.offerings.length).toBeGreaterThan(0);
      expect((await post(capped.url, byHash(texts[2]))).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(await stack.store.get(`${prefix}gateway:apq:${sha256(texts[2])}`)).toBeNull();

      // The first one expires (its key is gone, its hash still indexed): the index is pruned and the new one fits.
      await stack.store.del(`${prefix}gateway:apq:${sha256(texts[0])}`);
      const fresh = persistedStore(stack.store, prefix, 'apq', stack.config.ANGELIS_GATEWAY_APQ_TTL_MS, 2);
      await fresh.cache.set(`apq:${sha256(texts[2])}`, texts[2]);
      expect((await stack.store.setMembers(index)).sort()).toEqual([sha256(texts[1]), sha256(texts[2])].sort());
      expect((await post(capped.url, byHash(texts[2]))).data.offerings.length).toBeGreaterThan(0);
    });
  });

  describe('safelist mode (production)', () => {
    let safelist: RunningGateway;
    const listed = `${OFFERINGS} # safelisted`;
    beforeAll(async () => {
      safelist = await another('safelist');
      await safelist.persisted.register([listed]);
    }, 60_000);

    it('runs a safelisted operation sent by its text or by its hash alone', async () => {
      const byText = await post(safelist.url, { query: listed });
      expect(byText.errors).toBeUndefined();
      expect(byText.data.offerings.length).toBeGreaterThan(0);
      expect((await post(safelist.url, byHash(listed))).data).toEqual(byText.data);
    });

    it('refuses any other text with FORBIDDEN (OPERATION_NOT_SAFELISTED), and runs nothing of it', async () => {
      const other = await post(safelist.url, { query: OFFERINGS });
      expect(other.status).toBe(403);
      expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OPERATION_NOT_SAFELISTED' });
      expect(other.data).toBeUndefined();

      const code = `NOPE${Date.now() % 100_000}`;
      const write = await post(safelist.url, { query: `mutation { createOffering(input: { code: "${code}", name: "Not listed" }) { id } }` });
      expect(write.errors?.[0]?.extensions?.reason).toBe('OPERATION_NOT_SAFELISTED');
      const offerings = await stack.gql(OFFERINGS, {}, ADMIN);
      expect(offerings.data.offerings.map((o: { code: string }) => o.code)).not.toContain(code);
    });

    it('ignores a client claiming to be a warm-up (extensions.warmUp): refused, and nothing is written', async () => {
      const code = `WARM${Date.now() % 100_000}`;
      const write = await post(safelist.url, { query: `mutation { createOffering(input: { code: "${code}", name: "Bypass" }) { id } }`, extensions: { warmUp: true } });
      expect(write.status).toBe(403);
      expect(write.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'OPERATION_NOT_SAFELISTED' });
      expect(write.data).toBeUndefined();
      const offerings = await stack.gql(OFFERINGS, {}, ADMIN);
      expect(offerings.data.offerings.map((o: { code: string }) => o.code)).not.toContain(code);
    });

    it('lets no client register: an unknown hash stays unknown after its text is sent', async () => {
      const text = `${OFFERINGS} # not listed ${Date.now()}`;
      expect((await post(safelist.url, byHash(text))).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      const attempt = await post(safelist.url, { query: text, ...byHash(text) });
      expect(attempt.errors?.[0]?.extensions?.reason).toBe('OPERATION_NOT_SAFELISTED');
      expect((await post(safelist.url, byHash(text))).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    });
  });

  describe('identical in-flight subgraph fetches', () => {
    const identity = (userId: string): Identity => ({ userId, kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 'dev', dev: true });
    /** A source on the real Workforce whose fetches wait until released, counting what is sent. */
    function gatedSource() {
      const { fetcher, close } = keepAliveFetcher(10_000);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const sent: string[] = [];
      const gated = (async (url: string, init: { body?: string }) => {
        sent.push(init.body ?? '');
        await gate;
        return (fetcher as unknown as (u: string, i: object) => Promise<unknown>)(url, init);
      }) as unknown as typeof fetcher;
      const source = new SubgraphSource({ url: stack.workforce.server.url, fetcher: gated }, identitySecret(stack.config), 'workforce');
      const process = (query: string, who: Identity) =>
        source.process({
          kind: 'incoming operation' as never, // GraphQLDataSourceRequestKind.INCOMING_OPERATION (not exported)
          request: { query, variables: {} },
          context: { identity: who, actor: null, correlationId: 'inflight-test-1', log },
          incomingRequestContext: {} as never,
        });
      return { source, process, sent, release, close };
    }

    it('sends one fetch for identical queries of one caller, each getting its own copy', async () => {
      const g = gatedSource();
      try {
        const pending = [1, 2, 3].map(() => g.process(OFFERINGS, identity('a@angelis.test')));
        g.release();
        const results = await Promise.all(pending);
        expect(g.sent).toHaveLength(1);
        expect(g.source.inflight.merged).toBe(2);
        expect(results[1].data).toEqual(results[0].data);
        (results[1].data as { offerings: unknown[] }).offerings.length = 0;
        expect((results[2].data as { offerings: unknown[] }).offerings.length).toBeGreaterThan(0);
      } finally {
        await g.close();
      }
    });

    it('does not let a query join a fetch that began before a mutation came back (read-your-writes)', async () => {
      const reads = gatedSource();
      const writes = gatedSource();
      try {
        const before = reads.process(OFFERINGS, identity('a@angelis.test'));
        const write = writes.process(`mutation { createOffering(input: { code: "RYW${Date.now() % 100_000}", name: "x" }) { id } }`, identity('a@angelis.test'));
        writes.release();
        await write;
        const after = reads.process(OFFERINGS, identity('a@angelis.test'));
        reads.release();
        await Promise.all([before, after]);
        expect(reads.sent).toHaveLength(2);
        expect(reads.source.inflight.merged).toBe(0);
      } finally {
        await reads.close();
        await writes.close();
      }
    });

    it('never merges across permission scopes, nor mutations', async () => {
      const g = gatedSource();
      try {
        // The same mutation twice: both are sent (the second is refused by Workforce: the code exists).
        const mutation = `mutation { createOffering(input: { code: "M${Date.now() % 100_000}", name: "x" }) { id } }`;
        const pending = [
          g.process(OFFERINGS, identity('a@angelis.test')),
          g.process(OFFERINGS, identity('b@angelis.test')),
          g.process(OFFERINGS, { ...identity('a@angelis.test'), role: 'MANAGER', companyId: '00000000-0000-4000-8000-000000000001' }),
          g.process(mutation, identity('a@angelis.test')),
          g.process(mutation, identity('a@angelis.test')),
        ];
        g.release();
        await Promise.all(pending);
        expect(g.sent).toHaveLength(5);
        expect(g.source.inflight.merged).toBe(0);
      } finally {
        await g.close();
      }
    });
  });
});
