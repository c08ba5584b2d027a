import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { RedisTagVersions } from '../platform/response-cache/versions.ts';
import { redisUnderTestPrefix } from '../platform/testing/redis.ts';
import { createLogger } from '../platform/logger.ts';
import type { Identity } from '../platform/auth/identity.ts';
import { EntityCache } from './entity-cache.ts';
import { passthroughGateway } from './passthrough.ts';
import { collectFetch, newCollector, type CacheCollector } from './response-cache.ts';

/**
 * How the passthrough path answers a split query (gateway/passthrough.ts with
 * gateway/entity-cache.ts), on real Redis, with a test double for the Workforce subgraph (a
 * scripted data source that answers each request the test's way and records it): what it
 * asks and in which order, how parts are put back, when it falls back to the query unsplit,
 * and what joins the response cache's collector. The real subgraph behind the same path is
 * covered by test/entity-cache.e2e.spec.ts.
 */
const testRedis = redisUnderTestPrefix();
const { prefix } = testRedis;
const sdl = readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8');
const log = createLogger('test', 'silent');
let versions: RedisTagVersions;

beforeAll(() => {
  versions = new RedisTagVersions(testRedis.store.client, prefix);
});

// The projects' selection uses $n: the split is at the assignments (the outermost entity with no variable inside).
const QUERY = `query Crews($id: ID!, $n: Int) { company(id: $id) { id projects(first: 5) { nodes { id assignments(first: $n) { nodes { id name profiles { profile { id fullName } } } } } } } }`;
const manager: Identity = { userId: 'ann', kind: 'internal-user', role: 'MANAGER', companyId: 'c1', profileId: null, sessionId: 's' };

type Reply = { data?: unknown; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[]; extensions?: Record<string, unknown> };
/** Which request it is: the skeleton, an `_entities` fetch, or the client's query unsplit. */
type Kind3 = 'skeleton' | 'entities' | 'unsplit';
const kindOf = (query: string): Kind3 => (query.includes('_entities') ? 'entities' : /nodes \{\s*id\s*\}/.test(query) ? 'skeleton' : 'unsplit');

const assignment = (id: string) => ({ id, name: `Crew ${id}`, profiles: [{ profile: { id: `p-${id}`, fullName: `Person ${id}` } }] });
const skeletonData = { company: { id: 'c1', projects: { nodes: [{ id: 'pr1', assignments: { nodes: [{ id: 'a1' }, { id: 'a2' }] } }, { id: 'pr2', assignments: { nodes: [{ id: 'a1' }] } }] } } };
const fullData = { company: { id: 'c1', projects: { nodes: [{ id: 'pr1', assignments: { nodes: [assignment('a1'), assignment('a2')] } }, { id: 'pr2', assignments: { nodes: [assignment('a1')] } }] } } };

/** A gateway around the scripted subgraph; `reply` answers each request by kind. */
async function harness(reply: (kind: Kind3, variables: Record<string, unknown> | undefined) => Promise<Reply> | Reply) {
  const asked: { kind: Kind3; variables?: Record<string, unknown> }[] = [];
  const workforce = {
    process: async (o: { request: { query: string; variables?: Record<string, unknown> }; context: { cache?: CacheCollector } }) => {
      const kind = kindOf(o.request.query);
      asked.push({ kind, variables: o.request.variables });
      const answer = await reply(kind, o.request.variables);
      // As the real data source does (gateway/subgraph-source.ts): each fetch's tags join the request's collector.
      collectFetch(o.context.cache, answer.extensions, true);
      return answer;
    },
  };
  const planned = { load: async () => ({ schema: null, executor: async () => ({ data: { planned: true } }) }), onSchemaLoadOrUpdate: () => () => {}, stop: async () => {} };
  const cache = new EntityCache({ versions, redis: testRedis.store.client, prefix, namespace: randomBytes(4).toString('hex'), memoryBytes: 1 << 20, ttlMs: 60_000, log });
  const served = passthroughGateway(planned as never, sdl, () => new Map([['workforce', workforce]]) as never, cache);
  const { executor } = await served.load({} as never);
  const document = parse(QUERY);
  const run = async (identity: Identity | null = manager) => {
    const collector = newCollector();
    const ctx = {
      document,
      operation: document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode,
      operationName: 'Crews',
      request: { query: QUERY, variables: { id: 'c1', n: 10 } },
      context: { identity, cache: collector },
    };
    const result = await executor!(ctx as never);
    return { result: JSON.parse(JSON.stringify(result)) as Reply, collector };
  };
  return { run, asked, cache };
}

/** A clean tagged answer's extension, read now. */
async function tagged(tags: string[], o: { personal?: boolean } = {}) {
  const { epoch, count } = await versions.start();
  return { angelisCache: { tags, epoch, count, personal: o.personal ?? false, validUntil: Date.now() + 60_000 } };
}
const entitiesFor = (variables: Record<string, unknown> | undefined) => (variables!.representations as { id: string }[]).map((r) => assignment(r.id));

describe('a split query through the passthrough path', () => {
  it('asks the skeleton, then each missing entity once; puts parts back in place; the next time asks the skeleton only', async () => {
    const h = await harness(async (kind, variables) => {
      if (kind === 'skeleton') return { data: structuredClone(skeletonData), extensions: await tagged(['workforce/t:assignments']) };
      if (kind === 'entities') return { data: { _entities: entitiesFor(variables) }, extensions: await tagged(['workforce/s:profile-x']) };
      throw new Error('not asked unsplit');
    });
    const first = await h.run();
    expect(first.result).toEqual({ data: fullData });
    expect(h.asked.map((a) => a.kind)).toEqual(['skeleton', 'entities']);
    // a1 appears twice and is asked once.
    expect(h.asked[1].variables).toEqual({ representations: [{ __typename: 'Assignment', id: 'a1' }, { __typename: 'Assignment', id: 'a2' }] });
    const second = await h.run();
    expect(second.result).toEqual({ data: fullData });
    expect(h.asked.map((a) => a.kind)).toEqual(['skeleton', 'entities', 'skeleton']);
    // The answer's tags (for the response cache) hold the cached parts' as well as the skeleton's.
    expect([...second.collector.tags].sort()).toEqual(['workforce/s:profile-x', 'workforce/t:assignments']);
    expect(second.collector.refused).toBeNull();
    expect(h.cache.stats).toMatchObject({ hits: 2, stored: 2, split: 2, unsplit: 0 });
  });

  it('fetches again an entity written since it was cached', async () => {
    const h = await harness(async (kind, variables) =>
      kind === 'skeleton' ? { data: structuredClone(skeletonData), extensions: await tagged(['workforce/t:assignments']) } : { data: { _entities: entitiesFor(variables) }, extensions: await tagged(['workforce/s:written-later']) },
    );
    await h.run();
    await versions.bump(['workforce/s:written-later']);
    await h.run();
    expect(h.asked.map((a) => a.kind)).toEqual(['skeleton', 'entities', 'skeleton', 'entities']);
    expect(h.cache.stats.stale).toBe(2);
  });

  it('falls back to the query unsplit when an entity resolves to nothing or its fetch has an error', async () => {
    for (const entities of [
      (v: Record<string, unknown> | undefined) => ({ data: { _entities: [null, ...entitiesFor(v).slice(1)] } }),
      (v: Record<string, unknown> | undefined) => ({ data: { _entities: entitiesFor(v) }, errors: [{ message: 'no', path: ['_entities', 0, 'name'], extensions: { code: 'FORBIDDEN' } }] }),
    ]) {
      const h = await harness((kind, variables) =>
        kind === 'skeleton' ? { data: structuredClone(skeletonData) } : kind === 'entities' ? entities(variables) : { data: { company: null }, errors: [{ message: 'as unsplit', path: ['company'], extensions: { code: 'FORBIDDEN' } }] },
      );
      const { result } = await h.run();
      expect(h.asked.map((a) => a.kind)).toEqual(['skeleton', 'entities', 'unsplit']);
      expect(result.data).toEqual({ company: null });
      expect(result.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([['as unsplit', 'FORBIDDEN']]);
      expect(h.cache.stats).toMatchObject({ split: 0, unsplit: 1, stored: 0 });
    }
  });

  it('falls back when the skeleton has an error, even SOURCE_UNAVAILABLE, while entities are left to fill', async () => {
    const h = await harness((kind) =>
      kind === 'skeleton'
        ? { data: structuredClone(skeletonData), errors: [{ message: 'a source is down', path: ['company', 'projects', 'nodes', 1, 'id'], extensions: { code: 'SOURCE_UNAVAILABLE' } }] }
        : { data: structuredClone(fullData) },
    );
    const { result } = await h.run();
    expect(h.asked.map((a) => a.kind)).toEqual(['skeleton', 'unsplit']);
    expect(result).toEqual({ data: fullData });
  });

  it('passes on a skeleton answered SOURCE_UNAVAILABLE with nothing left to fill (the subgraph is down), without asking again', async () => {
    const h = await harness((kind) =>
      kind === 'skeleton' ? { data: { company: null }, errors: [{ message: 'workforce is unavailable', path: ['company'], extensions: { code: 'SOURCE_UNAVAILABLE' } }] } : { data: { company: null } },
    );
    const { result } = await h.run();
    expect(h.asked.map((a) => a.kind)).toEqual(['skeleton']);
    expect(result.data).toEqual({ company: null });
    expect(result.errors?.map((e) => [e.extensions?.code, e.extensions?.serviceName, e.path])).toEqual([['SOURCE_UNAVAILABLE', 'workforce', ['company']]]);
  });

  it('does not keep parts read from personal rows or left untagged; anonymous callers are sent the query unsplit', async () => {
    for (const extensions of [await tagged(['workforce/t:notifications'], { personal: true }), { angelisCache: { refused: 'an untagged read' } }, undefined]) {
      const h = await harness((kind, variables) => (kind === 'skeleton' ? { data: structuredClone(skeletonData) } : { data: { _entities: entitiesFor(variables) }, extensions }));
      await h.run();
      await h.run();
      expect(h.asked.map((a) => a.kind)).toEqual(['skeleton', 'entities', 'skeleton', 'entities']);
      expect(h.cache.stats.stored).toBe(0);
    }
    const h = await harness(() => ({ data: structuredClone(fullData) }));
    expect((await h.run(null)).result).toEqual({ data: fullData });
    expect(h.asked.map((a) => a.kind)).toEqual(['unsplit']);
  });
});
