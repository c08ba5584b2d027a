import type http from 'node:http';
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { actorOf, correlationIdFrom, type RequestContext } from '../platform/graphql/context.ts';
import { identitySecret, type Identity } from '../platform/auth/identity.ts';
import { createAuthenticator, type AuthenticatorOptions } from './authenticate.ts';
import { rateLimiter } from './plugins/rate-limit.ts';
import { clientAddress as clientAddressOf } from '../platform/http/client-address.ts';
import { operationResolvedPlugin, queryLimitsPlugin } from './plugins/query-limits.ts';
import { remoteSessionCheck, storeSessionCheck } from '../platform/auth/session-status.ts';
import { openKeyValueStore } from '../platform/redis/open.ts';
import type { KeyValueStore } from '../platform/redis/store.ts';
import { maskErrorsPlugin } from '../platform/graphql/plugins/mask-errors.ts';
import { startHttpServer, type PlainRequest, type RunningServer } from '../platform/http/server.ts';
import { subgraphsReady } from './readiness.ts';
import { subgraphUrls } from './subgraph-urls.ts';
import { keepAliveFetcher, SubgraphSource, type CacheStartContext } from './subgraph-source.ts';
import { CACHE_REDIS_TIMEOUT_MS, withTimeout } from '../platform/response-cache/reads.ts';
import { openPubSub, type PubSub } from '../platform/redis/pubsub.ts';
import { notificationStreams, STREAM_PATH, type NotificationStreams } from './notifications/streams.ts';
import { createHash } from 'node:crypto';
import { RedisKeyValueStore } from '../platform/redis/ioredis.ts';
import { RedisTagVersions } from '../platform/response-cache/versions.ts';
import { passthroughGateway, type PassthroughContext, type PassthroughStats } from './passthrough.ts';
import { EntityCache } from './entity-cache.ts';
import { cacheOperationPlugin, newCollector, operationOf, ResponseCache, type CacheCollector } from './response-cache.ts';
import { apqRegistrationPlugin, persistedErrorsPlugin, persistedStore, safelistPlugin, sha256, warmUp, type GatewayOwnOperation, type PersistedStore } from './persisted-operations.ts';

export interface GatewayOptions {
  port?: number;
  /** Subgraph URLs by name; default ANGELIS_<NAME>_URL, else the supergraph's (subgraph-urls.ts). */
  subgraphUrls?: Record<string, string>;
  /** The subgraph that issues tokens (JWKS) and keeps sessions; default `ciam`. */
  identitySubgraph?: string;
  /** How to verify tokens and sessions; default: CIAM's JWKS, and sessions in Redis (or asked of CIAM without Redis). */
  auth?: Partial<Pick<AuthenticatorOptions, 'jwks' | 'sessionActive'>>;
  /** Shared store for rate limits (and sessions); default from ANGELIS_REDIS_URL. */
  store?: KeyValueStore;
  /** Prefix of the keys read and written in the store (CIAM's and the subgraphs' must match); default ANGELIS_REDIS_KEY_PREFIX. */
  keyPrefix?: string;
  /** Wake-ups for notification streams; default from ANGELIS_REDIS_URL (Redis, else in-process). */
  pubsub?: PubSub;
}

/** The gateway's request context: the platform's, plus where the request came from (and, for its own in-process operations only, which they are). */
export interface GatewayContext extends RequestContext, GatewayOwnOperation, PassthroughContext, CacheStartContext {
  clientAddress: string;
  /** What the answer's subgraph fetches said about caching it (gateway/response-cache.ts); none when the cache is off. */
  cache?: CacheCollector;
}

/** The running gateway, with what tests and metrics read of it. */
export interface RunningGateway extends RunningServer {
  /** Its notification streams (/graphql/stream). */
  notifications: NotificationStreams;
  persisted: PersistedStore;
  /** Subgraph fetches answered by an identical one in flight (gateway/inflight.ts). */
  mergedFetches(): number;
  /** Persisted operations run through parse, validation and planning at start. */
  warmed: number;
  /** The response cache (null: off, or no Redis). */
  responseCache: ResponseCache | null;
  /** The entity cache (null: off, or the response cache or passthrough off). */
  entityCache: EntityCache | null;
  /** Queries sent to their one subgraph as written, and those planned (null: passthrough off). */
  passthrough: PassthroughStats | null;
}

/** Starts the federated gateway on the static supergraph. */
export async function startGateway(config: Config, log: Logger, options: GatewayOptions = {}): Promise<RunningGateway> {
  const supergraphSdl = readFileSync(config.ANGELIS_SUPERGRAPH_PATH, 'utf8');
  const urls = subgraphUrls(supergraphSdl, config, options.subgraphUrls);
  const { fetcher, close } = keepAliveFetcher(config.ANGELIS_GATEWAY_SUBGRAPH_TIMEOUT_MS);
  const secret = identitySecret(config);
  const sources = new Map<string, SubgraphSource>();
  // Apollo's gateway reads its only switch for this from the environment, when it is constructed.
  if (config.ANGELIS_GATEWAY_APOLLO_TELEMETRY === 'off') process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  // Tag versions in Redis (the response cache's): joined in-flight answers are checked against them.
  let tagVersions: RedisTagVersions | undefined;
  const gateway = new ApolloGateway({
    supergraphSdl,
    // Called when Apollo starts, after the store below is open.
    buildService: ({ name, url }) => {
      const source = new SubgraphSource({ url: urls[name] ?? url, fetcher }, secret, name, tagVersions);
      sources.set(name, source);
      return source;
    },
  });
  const store = options.store ?? (await openKeyValueStore(config, log));
  const prefix = options.keyPrefix ?? config.ANGELIS_REDIS_KEY_PREFIX;
  if (store instanceof RedisKeyValueStore) tagVersions = new RedisTagVersions(store.client, prefix);
  const persistedMode = config.ANGELIS_GATEWAY_PERSISTED_OPERATIONS;
  const persisted = persistedStore(store, prefix, persistedMode, config.ANGELIS_GATEWAY_APQ_TTL_MS, config.ANGELIS_GATEWAY_APQ_MAX);
  // The identity provider: CIAM signs the tokens (JWKS) and keeps the sessions.
  const ciamUrl = urls[options.identitySubgraph ?? 'ciam'];
  if (!ciamUrl) throw new Error(`the supergraph has no ${options.identitySubgraph ?? 'ciam'} subgraph to verify tokens with`);
  // With Redis, sessions are read where CIAM keeps them; an in-process store is CIAM's alone, so ask it.
  const sessionActive = options.auth?.sessionActive ?? (store.kind === 'redis' ? storeSessionCheck(store, prefix) : remoteSessionCheck(ciamUrl, secret));
  const authenticate = createAuthenticator({
    jwks: options.auth?.jwks ?? new URL('/.well-known/jwks.json', ciamUrl).toString(),
    issuer: config.ANGELIS_JWT_ISSUER,
    audience: config.ANGELIS_JWT_AUDIENCE,
    nodeEnv: config.NODE_ENV,
    sessionActive,
  });
  const limit = rateLimiter(store, {
    perIdentity: config.ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY,
    perAddress: config.ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS,
    windowMs: config.ANGELIS_GATEWAY_RATE_LIMIT_WINDOW_MS,
  }, `${prefix}gateway:rate:`);
  const responseCache = await openResponseCache(config, log, tagVersions, store, prefix, supergraphSdl);
  // Entities of single-subgraph queries cached per entity, on the response cache's Redis and versions (gateway/entity-cache.ts).
  const entityCache = responseCache && tagVersions && store instanceof RedisKeyValueStore && config.ANGELIS_GATEWAY_ENTITY_CACHE === 'on' && config.ANGELIS_GATEWAY_PASSTHROUGH === 'on'
    ? new EntityCache({
        versions: tagVersions,
        redis: store.client,
        prefix,
        namespace: responseCache.namespace,
        memoryBytes: config.ANGELIS_GATEWAY_ENTITY_CACHE_MEMORY_MB * 1024 * 1024,
        ttlMs: config.ANGELIS_GATEWAY_RESPONSE_CACHE_TTL_MS,
        log,
      })
    : null;
  // Single-subgraph queries go to their subgraph as the client wrote them (gateway/passthrough.ts).
  const served = config.ANGELIS_GATEWAY_PASSTHROUGH === 'on' ? passthroughGateway(gateway, supergraphSdl, () => sources, entityCache ?? undefined) : null;
  const apollo = new ApolloServer<GatewayContext>({
    gateway: served ?? gateway,
    plugins: [
      // Apollo Server reports operations to Apollo when the environment holds an APOLLO_KEY: only when asked.
      ...(config.ANGELIS_GATEWAY_APOLLO_TELEMETRY === 'off' ? [ApolloServerPluginUsageReportingDisabled(), ApolloServerPluginSchemaReportingDisabled()] : []),
      ...(responseCache ? [cacheOperationPlugin<GatewayContext>()] : []),
      persistedErrorsPlugin<GatewayContext>(),
      maskErrorsPlugin<GatewayContext>(log),
      operationResolvedPlugin<GatewayContext>(),
      queryLimitsPlugin<GatewayContext>({
        maxDepth: config.ANGELIS_GATEWAY_MAX_DEPTH,
        maxAliases: config.ANGELIS_GATEWAY_MAX_ALIASES,
      }),
      ...(persistedMode === 'safelist' ? [safelistPlugin<GatewayContext>(persisted)] : []),
      ...(persistedMode === 'apq' ? [apqRegistrationPlugin<GatewayContext>()] : []),
    ],
    persistedQueries: persistedMode === 'off' ? false : { cache: persisted.cache, ttl: null },
    // The parser stops at this many tokens, so a huge query costs little to refuse.
    parseOptions: { maxTokens: config.ANGELIS_GATEWAY_MAX_TOKENS },
    includeStacktraceInErrorResponses: false,
    introspection: config.NODE_ENV !== 'production',
  });
  // How every request, query or stream, gets in: the token verified (a refused one still
  // counts against its address, so a flood of bad tokens is limited like any other traffic),
  // then the session (a revoked one is UNAUTHENTICATED, whatever the limits say) and the
  // rate limits checked together, one round trip to Redis.
  const addressOf = (req: http.IncomingMessage) => clientAddressOf(req, { trustProxy: config.ANGELIS_GATEWAY_TRUST_PROXY }) ?? 'unknown';
  const verifyCaller = async (req: http.IncomingMessage, clientAddress: string) => {
    try {
      return await authenticate(req);
    } catch (err) {
      await limit(null, clientAddress);
      throw err;
    }
  };
  const admitCaller = async (identity: Identity | null, confirm: () => Promise<void>, clientAddress: string) => {
    const [session, charge] = await Promise.allSettled([confirm(), limit(identity, clientAddress)]);
    if (session.status === 'rejected') {
      // A revoked session's token no longer speaks for its user: the request counts against its address only.
      if (identity) await limit.unchargeIdentity(identity, charge).catch((err: unknown) => log.warn({ err }, 'could not take back a rate-limit charge'));
      throw session.reason;
    }
    if (charge.status === 'rejected') throw charge.reason;
  };
  const pubsub = options.pubsub ?? (await openPubSub(config, log));
  const notifications = notificationStreams({
    config, log, sessionActive, apollo, pubsub, keyPrefix: prefix,
    safelisted: persistedMode === 'safelist' ? persisted.safelisted : undefined,
    admit: async (req) => {
      const clientAddress = addressOf(req);
      const { identity, confirm } = await verifyCaller(req, clientAddress);
      await admitCaller(identity, confirm, clientAddress);
      return identity;
    },
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => notifications.setSchema(apiSchema));
  await apollo.start();
  await notifications.start();
  const warmed = await warmUp(apollo as never, () => gateway.schema, await persisted.known(500), () => ({
    identity: null, actor: null, clientAddress: 'warm-up', correlationId: 'warm-up', log, warmUp: true,
  }), log);
  // A query Apollo already passed whole to one subgraph is answered again without its request
  // pipeline (gateway/passthrough.ts `answer`). Not with Apollo's telemetry (it reports from
  // that pipeline); in safelist mode the text is checked against the safelist each time, as
  // Apollo's run does; the response cache learns it is a query, as cacheOperationPlugin tells it.
  const direct = served && config.ANGELIS_GATEWAY_APOLLO_TELEMETRY === 'off'
    ? async (request: PlainRequest, context: GatewayContext) => {
        // Not listed, or the safelist could not be read: Apollo answers (and refuses) as it does.
        if (persistedMode === 'safelist' && !(await persisted.safelisted(sha256(request.query)).catch(() => false))) return null;
        if (context.cache) context.cache.operation = 'query';
        return served.answer(request, context);
      }
    : null;
  // Each request's session check (the authenticator's `confirm`), run by `admit` below.
  const sessionChecks = new WeakMap<GatewayContext, () => Promise<void>>();
  const server = await startHttpServer<GatewayContext>({
    host: config.ANGELIS_GATEWAY_HOST,
    port: options.port ?? config.ANGELIS_GATEWAY_PORT,
    log,
    apollo,
    maxBodyBytes: config.ANGELIS_GATEWAY_MAX_BODY_BYTES,
    ready: () => subgraphsReady(Object.values(urls)),
    routes: { [STREAM_PATH]: notifications.route },
    ...(responseCache
      ? {
          responseCache: {
            lookup: (req, body, parsed, ctx) => {
              ctx.cache = newCollector();
              return responseCache.lookup(req, body, operationOf(parsed), ctx.identity);
            },
            store: (req, body, parsed, ctx, answer) => responseCache.store(req, body, operationOf(parsed), ctx.identity, ctx.cache!, answer),
          },
        }
      : {}),
    context: async (req) => {
      const correlationId = correlationIdFrom(req.headers);
      const clientAddress = addressOf(req);
      const { identity, confirm } = await verifyCaller(req, clientAddress);
      const context: GatewayContext = { identity, actor: actorOf(identity), clientAddress, correlationId, log: log.child({ correlationId }) };
      sessionChecks.set(context, confirm);
      return context;
    },
    // Before any answer, alongside the response cache's lookup (the same round trip to Redis),
    // and the tag versions' count every subgraph would otherwise read before its data.
    admit: (ctx) => {
      if (tagVersions) ctx.cacheStart = withTimeout(tagVersions.start(), CACHE_REDIS_TIMEOUT_MS).catch(() => null);
      return admitCaller(ctx.identity, sessionChecks.get(ctx) ?? (() => Promise.resolve()), ctx.clientAddress);
    },
    ...(direct ? { direct } : {}),
  });
  log.info({ url: server.url, subgraphs: urls, persistedOperations: persistedMode, warmed }, 'gateway listening');
  return {
    ...server,
    notifications,
    persisted,
    warmed,
    responseCache,
    entityCache,
    mergedFetches: () => [...sources.values()].reduce((n, s) => n + s.inflight.merged, 0),
    passthrough: served?.stats ?? null,
    async stop() {
      // Streams first: they end with a retry hint instead of being cut when the server closes.
      await notifications.stop();
      await server.stop();
      await close();
      if (!options.pubsub) await pubsub.close();
      if (!options.store) await store.close();
    },
  };
}

/**
 * The response cache, when on (ANGELIS_GATEWAY_RESPONSE_CACHE) and the store is Redis (its
 * tag versions must be the subgraphs'). Entries are namespaced by the supergraph and the
 * gateway's own rules, so a change of either never serves an old answer.
 */
async function openResponseCache(config: Config, log: Logger, versions: RedisTagVersions | undefined, store: KeyValueStore, prefix: string, supergraphSdl: string): Promise<ResponseCache | null> {
  if (config.ANGELIS_GATEWAY_RESPONSE_CACHE === 'off') return null;
  if (!versions || !(store instanceof RedisKeyValueStore)) {
    log.warn('response cache off: it needs Redis (ANGELIS_REDIS_URL), where subgraphs keep the versions of what they write');
    return null;
  }
  if (await versions.evictsVersions()) {
    log.warn('response cache off: Redis may evict keys without a TTL (maxmemory-policy allkeys-*), and with them the versions that keep answers current');
    return null;
  }
  const namespace = createHash('sha256')
    .update(JSON.stringify([supergraphSdl, config.NODE_ENV, config.ANGELIS_GATEWAY_PERSISTED_OPERATIONS, config.ANGELIS_GATEWAY_MAX_DEPTH, config.ANGELIS_GATEWAY_MAX_ALIASES, config.ANGELIS_GATEWAY_MAX_TOKENS]))
    .digest('base64url')
    .slice(0, 16);
  return new ResponseCache({
    versions,
    redis: store.client,
    prefix,
    namespace,
    memoryBytes: config.ANGELIS_GATEWAY_RESPONSE_CACHE_MEMORY_MB * 1024 * 1024,
    maxEntryBytes: config.ANGELIS_GATEWAY_RESPONSE_CACHE_MAX_BYTES,
    ttlMs: config.ANGELIS_GATEWAY_RESPONSE_CACHE_TTL_MS,
    log,
  });
}
