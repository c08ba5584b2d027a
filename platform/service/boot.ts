import { endpointOf, type Config } from '../config.ts';
import { identitySecret } from '../auth/identity.ts';
import { CommandHandler } from '../event-store/command-handler.ts';
import type { RequestContext } from '../graphql/context.ts';
import { startSubgraph, type SubgraphServer } from '../graphql/subgraph.ts';
import type { Logger } from '../logger.ts';
import type { Booted, Storage, SubgraphDefinition, TxOf } from './definition.ts';
import { cacheTagsPlugin, recordStatement, wholeReadModel, withTimeout, writtenTags, type ReadRules } from '../response-cache/reads.ts';
import { RedisTagVersions, type TagVersions } from '../response-cache/versions.ts';
import { RedisKeyValueStore } from '../redis/ioredis.ts';

/** A bump that has not answered in this long counts as failed (and is retried). */
const BUMP_TIMEOUT_MS = 500;

/** A domain's parts without an HTTP server: what seeding and tools run commands with. */
export interface BootedDomain<S extends Storage, P, O> extends Booted<S, O> {
  parts: P;
  /** Its part of the response cache, when its answers may be cached: every commit, seeds and tools' included, bumps its tags. */
  responseCache?: { rules: ReadRules; plugin: ReturnType<typeof cacheTagsPlugin> };
  /** Stops the parts, then closes the storage. */
  close(): Promise<void>;
}

/** What the kit takes besides the definition's own options. */
export interface KitOptions {
  /** Tag versions for the response cache (tests); null turns it off; default: Redis at ANGELIS_REDIS_URL. */
  cacheVersions?: TagVersions | null;
}

/** A running subgraph: the domain's parts (also spread at the top, for tools and tests) behind its HTTP server. */
export type RunningSubgraph<S extends Storage, P, O> = P &
  BootedDomain<S, P, O> & {
    name: string;
    server: SubgraphServer;
    /** Stops taking requests, lets in-flight ones finish, then closes everything. */
    stop(): Promise<void>;
  };

/** Opens a domain's storage and builds its parts (no server). */
export async function bootDomain<S extends Storage, P, C extends RequestContext, O extends object>(
  definition: SubgraphDefinition<S, P, C, O>,
  config: Config,
  log: Logger,
  options: O & KitOptions,
): Promise<BootedDomain<S, P, O>> {
  const storage = await definition.open(config, log, options);
  let cache: Awaited<ReturnType<typeof responseCacheOf>>;
  try {
    const handler = storage.store ? new CommandHandler<TxOf<S>>(storage.store as never, definition.handlerOptions) : null;
    const booted: Booted<S, O> = { config, log, storage, handler, options };
    cache = await responseCacheOf(definition, booted, options.cacheVersions);
    const parts = await definition.setup(booted);
    return {
      ...booted,
      parts,
      responseCache: cache?.rules,
      async close() {
        await definition.stop?.(parts);
        await storage.close();
        await cache?.close();
      },
    };
  } catch (err) {
    await cache?.close().catch(() => {});
    await storage.close().catch(() => {});
    throw err;
  }
}

/**
 * Boots a subgraph in one call: storage and migrations, command handler, parts, then the
 * HTTP server (federation schema from its SDL, error masking, signed identity, /healthz,
 * /readyz on its storage). Listens on ANGELIS_<NAME>_HOST/_PORT, or `options.port`.
 */
export async function bootSubgraph<S extends Storage, P, C extends RequestContext, O extends object>(
  definition: SubgraphDefinition<S, P, C, O>,
  config: Config,
  log: Logger,
  options: O & KitOptions & { port?: number } = {} as O,
): Promise<RunningSubgraph<S, P, O>> {
  const domain = await bootDomain(definition, config, log, options);
  const endpoint = endpointOf(config, definition.name, { port: definition.defaultPort })!;
  let server: SubgraphServer;
  try {
    server = await startSubgraph<C>({
      name: definition.name,
      resolvers: definition.resolvers,
      host: endpoint.host,
      port: options.port ?? endpoint.port,
      nodeEnv: config.NODE_ENV,
      compiledExecution: config.ANGELIS_SUBGRAPH_COMPILED_EXECUTION === 'on',
      identitySecret: identitySecret(config),
      log,
      plugins: definition.plugins,
      routes: definition.routes?.(domain.parts, domain),
      context: (base, req) => definition.context(base, domain.parts, req),
      ready: () => domain.storage.ready(),
      readLog: domain.responseCache,
    });
  } catch (err) {
    await domain.close().catch(() => {});
    throw err;
  }
  log.info({ url: server.url, storage: domain.storage.store?.adapter ?? 'read-only' }, `${definition.name} subgraph listening`);
  return {
    ...domain.parts,
    ...domain,
    name: definition.name,
    server,
    async stop() {
      await server.stop();
      await domain.close();
    },
  };
}

/**
 * The subgraph's part of the response cache, when it opts in (definition.responseCache)
 * and there are tag versions to keep: passed in (tests: null turns it off), else Redis at
 * ANGELIS_REDIS_URL under ANGELIS_REDIS_KEY_PREFIX. Statements of its pool go to the request's read
 * log; each commit bumps the tags of what it wrote before its commands are answered.
 */
async function responseCacheOf<S extends Storage, P, C extends RequestContext, O extends object>(
  definition: SubgraphDefinition<S, P, C, O>,
  domain: Booted<S, O>,
  given: TagVersions | null | undefined,
): Promise<{ rules: { rules: ReadRules; plugin: ReturnType<typeof cacheTagsPlugin> }; close(): Promise<void> } | undefined> {
  const declared = definition.responseCache?.(domain.storage);
  if (!declared || given === null) return undefined;
  const { config, log } = domain;
  let versions = given;
  let opened: RedisKeyValueStore | undefined;
  if (!versions) {
    if (!config.ANGELIS_REDIS_URL) return undefined;
    opened = await RedisKeyValueStore.connect(config.ANGELIS_REDIS_URL);
    versions = new RedisTagVersions(opened.client, config.ANGELIS_REDIS_KEY_PREFIX);
  }
  const tagVersions = versions;
  const { db, rules } = declared;
  db.observe(recordStatement);
  domain.handler?.beforeAnswer(async (events) => {
    const tags = writtenTags(definition.name, rules, events);
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTimeout(tagVersions.bump(tags), BUMP_TIMEOUT_MS);
      } catch (err) {
        if (attempt < 3) {
          await new Promise((r) => setTimeout(r, 50 * 4 ** attempt));
          continue;
        }
        // Last resort: a new epoch, so nothing cached before this write is served by anyone.
        const dropped = await withTimeout(tagVersions.dropEverything(), BUMP_TIMEOUT_MS).then(() => true, () => false);
        return log.error({ err, tags: tags.length, dropped }, dropped
          ? 'response cache: tags of a committed write could not be bumped; every cached answer was dropped instead'
          : 'response cache: tags of a committed write could not be bumped and Redis cannot be reached (gateways that still reach it may serve answers from before this write until it can)');
      }
    }
  });
  // A commit that may have happened (the connection broke during COMMIT) wrote who knows what: drop everything.
  domain.handler?.onUncertainCommit(async () => {
    await tagVersions.bump([wholeReadModel(definition.name)]).catch((err) => log.error({ err }, 'response cache: could not drop answers after an uncertain commit'));
  });
  // Whatever was cached before this start (a rebuild, a migration, another version of the code) is dropped.
  await tagVersions.bump([wholeReadModel(definition.name)]);
  log.info(`${definition.name}: answers may be cached by the gateway (tags bumped after each commit)`);
  return {
    rules: { rules, plugin: cacheTagsPlugin(definition.name, tagVersions) },
    close: async () => {
      await opened?.close();
    },
  };
}

/**
 * After its read tables were rebuilt outside a running subgraph (`npm run rebuild`): every
 * answer the gateway cached from them is dropped (their subgraph's whole-read-model tag).
 */
export async function dropCachedAnswers(definition: Pick<SubgraphDefinition, 'name' | 'responseCache'>, config: Config, log: Logger): Promise<void> {
  if (!definition.responseCache || !config.ANGELIS_REDIS_URL) return;
  const redis = await RedisKeyValueStore.connect(config.ANGELIS_REDIS_URL);
  try {
    await new RedisTagVersions(redis.client, config.ANGELIS_REDIS_KEY_PREFIX).bump([wholeReadModel(definition.name)]);
    log.info({ domain: definition.name }, 'cached answers of the rebuilt read model dropped');
  } finally {
    await redis.close();
  }
}
