import { loadConfig, type Config } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/postgres.ts';
import { randomBytes } from 'node:crypto';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/server.ts';
import { RedisKeyValueStore } from '../../platform/redis/ioredis.ts';
import { RedisPubSub } from '../../platform/redis/pubsub.ts';
import { RedisTagVersions } from '../../platform/response-cache/versions.ts';
import { startCiam, type CiamService } from './subgraphs.ts';
import { type CiamOptions } from '../../subgraphs/ciam/subgraph.ts';
import { startWorkforce, type WorkforceService } from './subgraphs.ts';
import { startSafety, type SafetyService } from './subgraphs.ts';
import type { SafetyOptions } from '../../subgraphs/safety/subgraph.ts';
import { startFit2000, startSaferApp, type SourceService } from './subgraphs.ts';
import { InMemoryResultSource } from '../../platform/sources/memory.ts';
import type { TestResultSource } from '../../platform/sources/adapter.ts';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

export interface TestStack {
  config: Config;
  database: TestDatabase;
  ciamDatabase: TestDatabase;
  workforce: WorkforceService;
  ciam: CiamService;
  /** Safety on its PostgreSQL fallback (ANGELIS_MONGO_URL is not read here), asking this Workforce. */
  safety: SafetyService;
  safetyDatabase: TestDatabase;
  /** The read-only sources (by default empty in-memory doubles; tests pass real adapters). */
  saferapp: SourceService;
  fit2000: SourceService;
  /** Real Redis, shared by CIAM and the gateway under `keyPrefix`. */
  store: RedisKeyValueStore;
  keyPrefix: string;
  /** One-time codes CIAM sent, by account id (the test's mailbox). */
  inbox: Map<string, string>;
  gateway: RunningGateway;
  /** Real Redis pub/sub (its own connections): Workforce publishes notification wake-ups on it, the stack's gateway listens on it. */
  pubsub: RedisPubSub;
  /** Starts another gateway instance on the same subgraphs, store and key prefix, with its own Redis pub/sub connections (stopped with the stack); `config` overrides the stack's settings for it. */
  startGateway(options?: GatewayOptions, config?: Partial<Config>): Promise<RunningGateway>;
  /** Runs an operation through the gateway as `user` (the development header), or anonymously with null. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, user?: string | null): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

/**
 * The real stack in this process: fresh PostgreSQL databases, the Workforce and CIAM
 * subgraphs (CIAM asking this Workforce about profiles) and the gateway, each on a random
 * free port of 127.0.0.1.
 */
export async function startTestStack(
  prefix: string,
  options: {
    gateway?: GatewayOptions;
    ciam?: Partial<CiamOptions>;
    safety?: Partial<SafetyOptions>;
    env?: Record<string, string>;
    /** What the source subgraphs read; default: empty in-memory doubles. */
    sources?: { saferapp?: TestResultSource; fit2000?: TestResultSource };
  } = {},
): Promise<TestStack> {
  const database = await createTestDatabase(prefix, [], 10);
  const ciamDatabase = await createTestDatabase(`${prefix}_ciam`, [], 5);
  const safetyDatabase = await createTestDatabase(`${prefix}_safety`, [], 5);
  const store = await RedisKeyValueStore.connect(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const keyPrefix = `angelis:test:${randomBytes(6).toString('hex')}:`;
  const inbox = new Map<string, string>();
  const config = loadConfig({
    NODE_ENV: 'test',
    ANGELIS_POSTGRES_DB_HOST: database.settings.host,
    ANGELIS_POSTGRES_DB_PORT: String(database.settings.port),
    ANGELIS_POSTGRES_DB_NAME: database.settings.database,
    ANGELIS_WORKFORCE_PORT: '0',
    ANGELIS_GATEWAY_PORT: '0',
    ...options.env,
  });
  const log = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  // Workforce publishes notification wake-ups where the gateway listens: real Redis, the stack's prefix.
  const pubsub = await RedisPubSub.connect(redisUrl);
  // Workforce keeps its answers' tag versions where the gateway's response cache reads them: real Redis, the stack's prefix.
  const workforceOptions = { db: database.db, pubsub, keyPrefix, cacheVersions: new RedisTagVersions(store.client, keyPrefix) };
  const workforce = await startWorkforce(config, log, workforceOptions);
  const ciam = await startCiam(config, log, {
    db: ciamDatabase.db,
    cacheVersions: new RedisTagVersions(store.client, keyPrefix),
    port: 0,
    store,
    keyPrefix,
    keyActivationDelayMs: 0,
    // CIAM asks Workforce about profiles (enableWorkerLogin), as users' requests do.
    workforceUrl: workforce.server.url,
    // Re-inserted so the newest code is always last in the mailbox.
    sender: { send: async (to, code) => void (inbox.delete(to.accountId), inbox.set(to.accountId, code)) },
    ...options.ciam,
  });
  // The source subgraphs ask this Workforce (a worker's own RUT), as in production.
  const saferapp = await startSaferApp(config, log, {
    port: 0,
    workforceUrl: workforce.server.url,
    source: options.sources?.saferapp ?? new InMemoryResultSource('SAFERAPP', 'sql', 'SaferApp', []),
  });
  const fit2000 = await startFit2000(config, log, {
    port: 0,
    workforceUrl: workforce.server.url,
    source: options.sources?.fit2000 ?? new InMemoryResultSource('FIT2000', 'sql', 'Fit2000', []),
  });
  const safety = await startSafety(config, log, {
    db: safetyDatabase.db,
    port: 0,
    workforceUrl: workforce.server.url,
    // The anomaly relay to Workforce runs where a test asks for it (test/anomaly-notifications.e2e.spec.ts).
    relay: false,
    // Compliance and the merged testResults ask the source subgraphs through their APIs.
    sourceUrls: { SAFERAPP: saferapp.server.url, FIT2000: fit2000.server.url },
    ...options.safety,
  });
  // Every subgraph of the supergraph runs: the gateway is ready only when all answer.
  const subgraphUrls = { workforce: workforce.server.url, ciam: ciam.server.url, safety: safety.server.url, saferapp: saferapp.server.url, fit2000: fit2000.server.url };
  const gateway = await startGateway(config, log, {
    subgraphUrls,
    store,
    keyPrefix,
    pubsub,
    ...options.gateway,
  });
  const others: { gateway: RunningGateway; pubsub: RedisPubSub }[] = [];
  return {
    config,
    database,
    ciamDatabase,
    workforce,
    ciam,
    safety,
    safetyDatabase,
    saferapp,
    fit2000,
    store,
    keyPrefix,
    inbox,
    gateway,
    pubsub,
    async startGateway(more = {}, overrides = {}) {
      const own = await RedisPubSub.connect(redisUrl);
      const other = await startGateway({ ...config, ...overrides }, log, {
        subgraphUrls,
        store,
        keyPrefix,
        pubsub: own,
        port: 0,
        ...more,
      });
      others.push({ gateway: other, pubsub: own });
      return other;
    },
    async gql(query, variables = {}, user = 'tester@angelis.test') {
      const res = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(user ? { 'x-angelis-dev-user': user } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, ...((await res.json()) as object) };
    },
    async stop() {
      for (const other of others) {
        await other.gateway.stop();
        await other.pubsub.close();
      }
      await gateway.stop();
      await safety.stop();
      await pubsub.close();
      await fit2000.stop();
      await saferapp.stop();
      await ciam.stop();
      await workforce.stop();
      await database.drop();
      await ciamDatabase.drop();
      await safetyDatabase.drop();
      await store.deleteByPrefix(keyPrefix);
      await store.close();
    },
  };
}
