import { z } from 'zod';

/**
 * The one place that reads ANGELIS_* environment variables.
 * Every service calls `loadConfig()` at boot; a wrong variable stops startup with a
 * message that names it.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = z.string().url();
/** A PostgreSQL database name we create: lower-case letters, digits and underscores. */
export const databaseName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and underscores, at most 63');

const base = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  ANGELIS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  ANGELIS_POSTGRES_DB_HOST: z.string().min(1).optional(),
  ANGELIS_POSTGRES_DB_PORT: port.default(5432),
  ANGELIS_POSTGRES_DB_USER: z.string().min(1).default('postgres'),
  ANGELIS_POSTGRES_DB_PASSWORD: z.string().optional(),
  ANGELIS_POSTGRES_DB_NAME: databaseName.default('angelis_workforce'),
  ANGELIS_POSTGRES_POOL_SIZE: positiveInt.default(10),
  ANGELIS_POSTGRES_POOL_OVERFLOW: z.coerce.number().int().min(0).default(20),
  ANGELIS_POSTGRES_STATEMENT_TIMEOUT_MS: positiveInt.default(15_000),
  ANGELIS_POSTGRES_IDLE_CHECK_MS: z.coerce.number().int().min(0).default(30_000),

  ANGELIS_EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.angelis/postgres'),
  ANGELIS_EMBEDDED_POSTGRES_PORT: port.default(54329),
  ANGELIS_SEED: flag.default(true),

  ANGELIS_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  ANGELIS_GATEWAY_PORT: port.default(4000),
  ANGELIS_SUPERGRAPH_PATH: z.string().min(1).default('schema/supergraph.graphql'),
  ANGELIS_GATEWAY_MAX_BODY_BYTES: positiveInt.default(1_000_000),
  ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: positiveInt.default(1_200),
  ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: positiveInt.default(3_000),
  ANGELIS_GATEWAY_RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  ANGELIS_GATEWAY_TRUST_PROXY: flag.default(false),
  /**
   * Subgraphs: take the client address from X-Forwarded-For when the gateway's signed one is
   * missing (only behind a proxy of your own that sets it; the gateway never needs this).
   */
  ANGELIS_SUBGRAPH_TRUST_PROXY: flag.default(false),
  /**
   * Subgraphs: `on` (default) executes operations compiled by graphql-jit from their second
   * sighting (platform/graphql/compiled-execution.ts); `off`: graphql-js only (an escape
   * hatch should a compiled operation ever answer differently; it costs CPU, not answers).
   */
  ANGELIS_SUBGRAPH_COMPILED_EXECUTION: z.enum(['on', 'off']).default('on'),
  /** A subgraph that has not answered the gateway within this time counts as unavailable (SOURCE_UNAVAILABLE). */
  ANGELIS_GATEWAY_SUBGRAPH_TIMEOUT_MS: positiveInt.default(30_000),
  ANGELIS_GATEWAY_MAX_DEPTH: positiveInt.default(12),
  ANGELIS_GATEWAY_MAX_ALIASES: positiveInt.default(30),
  ANGELIS_GATEWAY_MAX_TOKENS: positiveInt.default(5_000),
  // Notifications over Server-Sent Events (/graphql/stream).
  /** An SSE comment line is sent on a stream idle this long, so proxies keep it open. */
  ANGELIS_GATEWAY_SSE_HEARTBEAT_MS: positiveInt.default(15_000),
  /** Events a stream may hold for a client that reads slower than they come; past it the stream ends (BUFFER_FULL) and the client resumes with Last-Event-ID. */
  ANGELIS_GATEWAY_SSE_BUFFER: positiveInt.default(256),
  /** The feed is read this often even without a wake-up (a wake-up lost between commit and publish). */
  ANGELIS_GATEWAY_SSE_POLL_MS: positiveInt.default(5_000),
  /** While Redis pub/sub is down, the feed is read this often instead. */
  ANGELIS_GATEWAY_SSE_DEGRADED_POLL_MS: positiveInt.default(500),
  /** Open streams' sessions are checked this often; a revoked one ends its streams (SESSION_REVOKED). */
  ANGELIS_GATEWAY_SSE_SESSION_CHECK_MS: positiveInt.default(15_000),
  /** The reconnection delay streams suggest (`retry:`) when the gateway closes them to stop or shed load. */
  ANGELIS_GATEWAY_SSE_RETRY_MS: positiveInt.default(1_000),
  /**
   * Persisted operations (gateway/persisted-operations.ts), kept in Redis: `apq` (default)
   * answers automatic persisted queries (an authenticated client may register an operation by its hash, up to ANGELIS_GATEWAY_APQ_MAX);
   * `safelist` (production) runs only operations registered with `npm run safelist`, by hash
   * or by text; `off` takes only full query texts.
   */
  ANGELIS_GATEWAY_PERSISTED_OPERATIONS: z.enum(['apq', 'safelist', 'off']).default('apq'),
  /** How long an automatic persisted query is kept after it was last registered. */
  ANGELIS_GATEWAY_APQ_TTL_MS: positiveInt.default(7 * 24 * 3_600_000),
  /** At most this many automatic persisted queries are kept (only authenticated callers register); past it a new one runs unregistered. */
  ANGELIS_GATEWAY_APQ_MAX: positiveInt.default(10_000),
  /**
   * The gateway's response cache (gateway/response-cache.ts): `on` (default) caches query
   * answers of subgraphs that tag them, invalidated by their writes (needs ANGELIS_REDIS_URL);
   * `off` never caches.
   */
  ANGELIS_GATEWAY_RESPONSE_CACHE: z.enum(['on', 'off']).default('on'),
  /** Memory each gateway keeps cached answers in, in megabytes (least recently used dropped first). */
  ANGELIS_GATEWAY_RESPONSE_CACHE_MEMORY_MB: positiveInt.default(64),
  /** Answers larger than this many bytes are not cached. */
  ANGELIS_GATEWAY_RESPONSE_CACHE_MAX_BYTES: positiveInt.default(256 * 1024),
  /** How long a cached answer is kept in Redis unused (memory only: writes, not time, decide what is current). */
  ANGELIS_GATEWAY_RESPONSE_CACHE_TTL_MS: positiveInt.default(10 * 60_000),
  /**
   * The gateway's entity cache (gateway/entity-cache.ts): `on` (default) keeps the entity
   * subtrees of single-subgraph queries per entity, invalidated like the response cache
   * (needs it on, and passthrough); `off`: such queries are sent whole.
   */
  ANGELIS_GATEWAY_ENTITY_CACHE: z.enum(['on', 'off']).default('on'),
  /** Memory each gateway keeps cached entities in, in megabytes (least recently used dropped first). */
  ANGELIS_GATEWAY_ENTITY_CACHE_MEMORY_MB: positiveInt.default(64),
  /**
   * `off` (default): @apollo/gateway's own data collection stays off (left on, it probes
   * cloud metadata endpoints at start and exports usage metrics to Apollo's servers), and
   * so does Apollo Server's usage and schema reporting, which an APOLLO_KEY in the
   * environment would switch on; `on`: Apollo's defaults, for an operator who wants them.
   */
  ANGELIS_GATEWAY_APOLLO_TELEMETRY: z.enum(['on', 'off']).default('off'),
  /**
   * `on` (default): a query whose plan is one fetch from one subgraph is sent to it as the
   * client wrote it and its answer passed on without result shaping (gateway/passthrough.ts);
   * `off`: every query runs through the planned path.
   */
  ANGELIS_GATEWAY_PASSTHROUGH: z.enum(['on', 'off']).default('on'),
  /** Set by `npm start` for the services it runs: they stop when that process is gone. */
  ANGELIS_SUPERVISOR_PID: positiveInt.optional(),

  // Identity & Access (CIAM).
  /** Redis for one-time codes, sessions and rate limits; unset = in-process stand-ins (one instance only). */
  ANGELIS_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
  /** Prefix of every key and channel the platform keeps in Redis (several platforms, or a benchmark, may share one Redis). */
  ANGELIS_REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, ":", "_" or "-"').default('angelis:'),
  ANGELIS_JWT_ISSUER: z.string().min(1).default('angelis-ciam'),
  ANGELIS_JWT_AUDIENCE: z.string().min(1).default('angelis'),
  ANGELIS_ACCESS_TOKEN_TTL_S: positiveInt.max(3600).default(600),
  /** A session unused this long ends; each refresh starts the wait again. */
  ANGELIS_REFRESH_TOKEN_TTL_S: positiveInt.default(30 * 24 * 3600),
  /** A session ends this long after sign-in however often it is refreshed: then sign in again. */
  ANGELIS_SESSION_MAX_AGE_S: positiveInt.default(90 * 24 * 3600),
  /** Signing keys older than this are rotated out (the previous key stays in the JWKS until its tokens expire). */
  ANGELIS_JWT_KEY_ROTATION_S: positiveInt.default(7 * 24 * 3600),
  /** Shared by the gateway and the subgraphs: the gateway signs the caller's identity with it; required in production. */
  ANGELIS_IDENTITY_SECRET: z.string().min(32, 'at least 32 characters').optional(),

  // Projector (analytics): events -> Parquet lake.
  ANGELIS_PROJECTOR_ENABLED: flag.default(true),
  /** Local lake folder, used when no Azure lake is configured. */
  ANGELIS_LAKE_DIR: z.string().min(1).default('lake'),
  /**
   * Azure lake: the Blob endpoint URL of the container, e.g.
   * `https://acct.blob.core.windows.net/lake`, `abfss://lake@acct.dfs.core.windows.net`,
   * or Azurite's path style `http://127.0.0.1:10000/devstoreaccount1/lake`.
   */
  ANGELIS_LAKE_URL: z.string().url().optional(),
  /** Alternative to the URL: account and container (the endpoint is the public cloud's). */
  ANGELIS_LAKE_AZURE_ACCOUNT: z.string().min(1).optional(),
  ANGELIS_LAKE_AZURE_CONTAINER: z.string().min(3).optional(),
  /** The account's shared key (base64). */
  ANGELIS_LAKE_AZURE_KEY: z.string().min(1).optional(),
  /** HMAC key for RUT/email/phone pseudonyms in the lake; required in production. */
  ANGELIS_PSEUDONYM_KEY: z.string().min(16, 'at least 16 characters').optional(),
  /** Prometheus metrics port; 0 picks a free port. */
  ANGELIS_PROJECTOR_METRICS_PORT: port.default(9464),
  ANGELIS_PROJECTOR_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // 100k measured best on 2 cores: fewer files and statements per event, RSS under 600 MB.
  ANGELIS_PROJECTOR_BATCH_SIZE: positiveInt.max(500_000).default(100_000),
  /** A lease not renewed within this time may be taken by another instance. */
  ANGELIS_PROJECTOR_LEASE_TTL_MS: positiveInt.min(1_000).default(15_000),
  /** Fallback poll when no NOTIFY arrives (e.g. a writer that does not notify). */
  ANGELIS_PROJECTOR_POLL_MS: positiveInt.default(1_000),
  /** Compact a partition once it holds at least this many files. */
  ANGELIS_PROJECTOR_COMPACT_MIN_FILES: z.coerce.number().int().min(2).default(24),
  /** How often the running projector looks for partitions to compact; 0 turns it off. */
  ANGELIS_PROJECTOR_COMPACT_INTERVAL_MS: z.coerce.number().int().min(0).default(600_000),
  /** Scratch folder for CSV batches and Parquet before upload (default: inside the OS temp dir). */
  ANGELIS_PROJECTOR_WORK_DIR: z.string().min(1).optional(),
  /** How often external sources (SaferApp, Fit2000) are read for changed test results. */
  ANGELIS_PROJECTOR_EXTRACT_INTERVAL_MS: positiveInt.default(60_000),
  /** Each extraction starts this long before its watermark: rows committed late with an earlier change time are still read (and written once). */
  /**
   * Sources read by id only (no change column): each pass starts this many ids below the
   * last one extracted, so a row committed after a greater id still lands (once).
   */
  ANGELIS_PROJECTOR_EXTRACT_OVERLAP_IDS: z.coerce.number().int().min(0).default(1_000),
  ANGELIS_PROJECTOR_EXTRACT_OVERLAP_MS: z.coerce.number().int().min(0).default(300_000),
  /** Rows per extraction read (and per lake commit at most). */
  ANGELIS_PROJECTOR_EXTRACT_BATCH_SIZE: positiveInt.max(100_000).default(5_000),
});

// Rules across variables.
const schema = base.superRefine((c, ctx) => {
  if (c.NODE_ENV === 'production') {
    for (const key of ['ANGELIS_PSEUDONYM_KEY', 'ANGELIS_IDENTITY_SECRET'] as const) {
      if (!c[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required in production' });
    }
  }
  const azure = c.ANGELIS_LAKE_URL || c.ANGELIS_LAKE_AZURE_ACCOUNT || c.ANGELIS_LAKE_AZURE_CONTAINER;
  if (azure && !c.ANGELIS_LAKE_AZURE_KEY) {
    ctx.addIssue({ code: 'custom', path: ['ANGELIS_LAKE_AZURE_KEY'], message: 'required with an Azure lake' });
  }
  if (!c.ANGELIS_LAKE_URL && (c.ANGELIS_LAKE_AZURE_ACCOUNT ? !c.ANGELIS_LAKE_AZURE_CONTAINER : c.ANGELIS_LAKE_AZURE_CONTAINER)) {
    ctx.addIssue({ code: 'custom', path: ['ANGELIS_LAKE_AZURE_CONTAINER'], message: 'account and container go together' });
  }
});

/** Where a service listens and is reached. */
export interface Endpoint {
  host: string;
  port: number;
  /** Its GraphQL URL (for subgraphs: what the gateway and other services call). */
  url: string;
}

export type Config = z.infer<typeof schema> & {
  /** Endpoint variables of any service: ANGELIS_<SERVICE>_HOST / _PORT / _URL, by lower-case service name. */
  endpoints: Record<string, Partial<Endpoint>>;
  /** Every ANGELIS_* variable that was set, as given (a service's own fragment reads its keys from here). */
  raw: Record<string, string>;
};

/**
 * A service's own variables, declared in its folder (a new domain adds its variables there,
 * not here). `prefixes` are the names after `ANGELIS_` it owns: ['SAFETY'] owns ANGELIS_SAFETY_*.
 */
export interface ConfigFragment<S extends z.ZodRawShape = z.ZodRawShape> {
  prefixes: string[];
  shape: S;
  /** Its variables a production deployment must set (secrets have no safe default). */
  requiredInProduction: string[];
}

/** Declares a service's configuration fragment. */
export function configFragment<S extends z.ZodRawShape>(prefixes: string[], shape: S, requiredInProduction: (keyof S & string)[] = []): ConfigFragment<S> {
  return { prefixes, shape, requiredInProduction };
}

/** Thrown when an environment variable is missing or malformed; names the variable. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
    this.name = 'ConfigError';
  }
}

const ENDPOINT = /^ANGELIS_([A-Z][A-Z0-9]*)_(HOST|PORT|URL)$/;
const endpointKinds = { HOST: z.string().min(1), PORT: port, URL: url } as const;
/** The word after ANGELIS_: what groups variables by owner. */
const prefixOf = (key: string) => key.split('_')[1] ?? '';
const BASE_PREFIXES = new Set(Object.keys(base.shape).filter((k) => k.startsWith('ANGELIS_')).map(prefixOf));

function issuesOf(error: z.ZodError, present: Record<string, string>): string[] {
  return error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    return `${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`;
  });
}

/**
 * Reads and validates the ANGELIS_* variables (and NODE_ENV) from `env`: the platform's own,
 * every service's endpoint (ANGELIS_<SERVICE>_HOST/_PORT/_URL), and the fragments given.
 *
 * An unknown variable with a prefix this process knows (the platform's, a given fragment's)
 * is a typo and stops startup. One with another prefix belongs to a service whose fragment
 * this process was not given: refused only when `complete` says every fragment is here
 * (what `npm start` and the other top-level commands do, from the service registry).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, fragments: ConfigFragment[] = [], options: { complete?: boolean } = {}): Config {
  // Empty strings count as unset, so `ANGELIS_X=` falls back to the default.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
  const known = new Set([...Object.keys(base.shape), ...fragments.flatMap((f) => Object.keys(f.shape))]);
  const owned = new Set([...BASE_PREFIXES, ...fragments.flatMap((f) => f.prefixes)]);
  const problems: string[] = [];
  const endpoints: Record<string, Partial<Endpoint>> = {};
  for (const key of Object.keys(present).filter((k) => k.startsWith('ANGELIS_') && !known.has(k))) {
    // The platform's own prefixes (POSTGRES, GATEWAY, ...) are not services: ANGELIS_POSTGRES_HOST is a typo.
    const m = BASE_PREFIXES.has(prefixOf(key)) ? null : ENDPOINT.exec(key);
    if (m) {
      const parsed = endpointKinds[m[2] as keyof typeof endpointKinds].safeParse(present[key]);
      if (!parsed.success) problems.push(`${key}=${JSON.stringify(present[key])}: ${parsed.error.issues[0].message}`);
      else (endpoints[m[1].toLowerCase()] ??= {})[m[2].toLowerCase() as keyof Endpoint] = parsed.data as never;
    } else if (options.complete || owned.has(prefixOf(key))) {
      problems.push(`${key}: unknown variable (typo?)`);
    }
  }
  const parsed = schema.safeParse(present);
  if (!parsed.success) problems.push(...issuesOf(parsed.error, present));
  for (const fragment of fragments) {
    const own = z.object(fragment.shape).safeParse(present);
    if (!own.success) problems.push(...issuesOf(own.error, present));
    if (parsed.success && parsed.data.NODE_ENV === 'production') {
      for (const key of fragment.requiredInProduction) if (!present[key]) problems.push(`${key}="": required in production`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const raw = Object.fromEntries(Object.entries(present).filter(([k]) => k.startsWith('ANGELIS_')));
  return { ...parsed.data!, endpoints, raw };
}

/** A fragment's variables, typed and with their defaults (loadConfig has validated them). */
export function fragmentOf<S extends z.ZodRawShape>(config: Config, fragment: ConfigFragment<S>): z.infer<z.ZodObject<S>> {
  return z.object(fragment.shape).parse(config.raw);
}

/**
 * Where service `name` listens and is reached: its ANGELIS_<NAME>_HOST/_PORT/_URL, else
 * the defaults (127.0.0.1, the port given, its /graphql on them). Without a default port
 * and an ANGELIS_<NAME>_URL, the service is not configured: null.
 */
export function endpointOf(config: Config, name: string, defaults: { port?: number; host?: string } = {}): Endpoint | null {
  const set = config.endpoints[name.toLowerCase()] ?? {};
  const host = set.host ?? defaults.host ?? '127.0.0.1';
  const port = set.port ?? defaults.port;
  if (port === undefined && !set.url) return null;
  return { host, port: port ?? Number(new URL(set.url!).port), url: set.url ?? `http://${host}:${port}/graphql` };
}

/** The names of the platform's own configuration keys, for documentation and tests. */
export const configKeys = Object.keys(base.shape) as (keyof z.infer<typeof schema>)[];
