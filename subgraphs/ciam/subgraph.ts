import { z } from 'zod';
import { configFragment, databaseName, endpointOf, fragmentOf } from '../../platform/config.ts';
import { identitySecret } from '../../platform/auth/identity.ts';
import { SESSION_STATUS_PATH, sessionStatusRoute, storeSessionCheck } from '../../platform/auth/session-status.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import { clientAddress } from '../../platform/http/client-address.ts';
import { openKeyValueStore } from '../../platform/redis/open.ts';
import type { KeyValueStore } from '../../platform/redis/store.ts';
import { ciamCacheRules } from './store/cache-rules.ts';
import { defineSubgraph, type SeedPeers } from '../../platform/service/definition.ts';
import { postgresStorage } from '../../platform/service/postgres-storage.ts';
import { logCodeSender, type CodeSender } from './auth/code-sender.ts';
import { DEFAULT_CODE_OPTIONS, OneTimeCodes } from './auth/one-time-codes.ts';
import { DEFAULT_RATE_LIMITS, LoginRateLimiter, type LoginRateLimits } from './auth/rate-limit.ts';
import { CiamSecrets, DEV_CIAM_KEY_SECRET } from './auth/secrets.ts';
import { Sessions } from './auth/sessions.ts';
import { AccessTokens } from './auth/signing-keys.ts';
import { Authentication } from './authentication.ts';
import { CiamCommands, type CommandContext } from './commands.ts';
import { DEFAULT_LOCKOUT, type LockoutPolicy } from './domain/login.ts';
import { createLoaders } from './loaders.ts';
import { refusedRefreshStatusPlugin } from './refused-refresh-status.ts';
import { resolvers, type CiamContext } from './resolvers.ts';
import { loginInstructions, seedCiam, type CiamSeedInput } from './seed.ts';
import { ciamMigrations } from './store/migrations.ts';
import { rebuildCiam } from './store/rebuild.ts';
import { jwksRoute, JWKS_PATH } from './jwks-route.ts';
import { workforceProfiles } from './workforce-profiles.ts';

/** CIAM's own variables. */
const ciamConfig = configFragment(
  ['CIAM'],
  {
    ANGELIS_CIAM_DB_NAME: databaseName.default('angelis_ciam'),
    /** Encrypts the private signing keys at rest. */
    ANGELIS_CIAM_KEY_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  },
  ['ANGELIS_CIAM_KEY_SECRET'],
);

/** Options mostly for tests: every limit and clock-bound setting is injectable. */
export interface CiamOptions {
  db?: Db;
  /** The key-value store; default from ANGELIS_REDIS_URL (in-process when unset). */
  store?: KeyValueStore;
  /** Prefix of every key CIAM writes; the gateway expects the default `angelis:`. */
  keyPrefix?: string;
  sender?: CodeSender;
  codeTtlMs?: number;
  codeMaxAttempts?: number;
  rateLimits?: Partial<LoginRateLimits>;
  lockout?: Partial<LockoutPolicy>;
  inviteTtlMs?: number;
  /** How long a new signing key is published before it signs (default 60 s). */
  keyActivationDelayMs?: number;
  /** Workforce's GraphQL URL, asked about profiles; default ANGELIS_WORKFORCE_URL. */
  workforceUrl?: string;
}

/** Signing-key rotation, as resolvers and the timer use it. */
export interface KeyRotation {
  rotate(ctx: CommandContext, force: boolean): Promise<boolean>;
  jwks(): Promise<{ keys: { kid?: string }[] }>;
}

/**
 * Identity & Access: internal users, worker logins, one-time codes, sessions and access
 * tokens (JWKS at /.well-known/jwks.json), in its own PostgreSQL database; short-lived state
 * (codes, sessions, counters) in the key-value store.
 */
export const ciam = defineSubgraph({
  name: 'ciam',
  kind: 'domain',
  defaultPort: 4002,
  config: ciamConfig,
  open: (config, log, options: CiamOptions) =>
    postgresStorage({ service: 'ciam', database: (c) => fragmentOf(c, ciamConfig).ANGELIS_CIAM_DB_NAME, migrations: ciamMigrations })(config, log, options),
  // Logins on one account can arrive in bursts: more retries than the default before a CONFLICT.
  handlerOptions: { retry: { maxRetries: 10 } },
  async setup({ config, log, storage, handler, options }) {
    const db = storage.db;
    const store = options.store ?? (await openKeyValueStore(config, log));
    const prefix = options.keyPrefix ?? config.ANGELIS_REDIS_KEY_PREFIX;
    const { ANGELIS_CIAM_KEY_SECRET: keySecret } = fragmentOf(config, ciamConfig);
    if (!keySecret) log.warn('ANGELIS_CIAM_KEY_SECRET is unset: using the development secret for signing keys');
    const secrets = new CiamSecrets(keySecret ?? DEV_CIAM_KEY_SECRET);
    const commands = new CiamCommands(handler!);
    const tokens = new AccessTokens(db, secrets, {
      issuer: config.ANGELIS_JWT_ISSUER,
      audience: config.ANGELIS_JWT_AUDIENCE,
      accessTokenTtlS: config.ANGELIS_ACCESS_TOKEN_TTL_S,
    });
    const system: CommandContext = { actor: { id: 'ciam', kind: 'system' }, correlationId: 'ciam-key-rotation' };
    const keys: KeyRotation = {
      async rotate(ctx, force) {
        const rotated = await commands.rotateSigningKey(ctx, {
          now: new Date(),
          rotationMs: config.ANGELIS_JWT_KEY_ROTATION_S * 1000,
          activationDelayMs: options.keyActivationDelayMs ?? 60_000,
          force,
          key: await tokens.generateKey(),
        });
        tokens.invalidate();
        if (rotated) log.info('signing key rotated');
        return rotated;
      },
      jwks: () => tokens.jwks(),
    };
    await keys.rotate(system, false);
    const rotationTimer = setInterval(
      () => keys.rotate(system, false).catch((err) => log.error({ err }, 'signing key rotation failed')),
      Math.min(config.ANGELIS_JWT_KEY_ROTATION_S * 250, 3_600_000),
    );
    rotationTimer.unref();
    const sessions = new Sessions(store, {
      prefix,
      ttlMs: config.ANGELIS_REFRESH_TOKEN_TTL_S * 1000,
      maxAgeMs: config.ANGELIS_SESSION_MAX_AGE_S * 1000,
    });
    const auth = new Authentication({
      db,
      commands,
      tokens,
      sessions,
      codes: new OneTimeCodes(store, secrets, {
        prefix: `${prefix}ciam:`,
        ttlMs: options.codeTtlMs ?? DEFAULT_CODE_OPTIONS.ttlMs,
        maxAttempts: options.codeMaxAttempts ?? DEFAULT_CODE_OPTIONS.maxAttempts,
      }),
      limiter: new LoginRateLimiter(store, { ...DEFAULT_RATE_LIMITS, ...options.rateLimits }, `${prefix}ciam:`),
      sender: options.sender ?? logCodeSender(log, config.NODE_ENV),
      secrets,
      lockout: { ...DEFAULT_LOCKOUT, ...options.lockout },
      inviteTtlMs: options.inviteTtlMs ?? 7 * 24 * 3_600_000,
      log,
    });
    const workforceUrl = options.workforceUrl ?? endpointOf(config, 'workforce')?.url ?? null;
    const workforceProfile = workforceProfiles({ url: workforceUrl, identitySecret: identitySecret(config), log });
    log.info({ store: store.kind }, 'ciam key-value store');
    return {
      db,
      events: storage.store,
      store,
      prefix,
      commands,
      tokens,
      keys,
      auth,
      workforceProfile,
      rotationTimer,
      closeStore: !options.store,
      gatewaySecret: identitySecret(config),
      trustProxy: config.ANGELIS_SUBGRAPH_TRUST_PROXY,
    };
  },
  responseCache: (storage) => ({ db: storage.db, rules: ciamCacheRules }),
  context: (base, p, req): CiamContext => ({
    ...base,
    // The client's address as the gateway signed it (login limits count it).
    clientAddress: clientAddress(req, { gatewaySecret: p.gatewaySecret, trustProxy: p.trustProxy }),
    db: p.db,
    loaders: createLoaders(p.db, p.events),
    commands: p.commands,
    auth: p.auth,
    keys: p.keys,
    workforceProfile: p.workforceProfile,
  }),
  resolvers,
  resolverTypes: {
    contextType: '../resolvers.ts#CiamContext',
    mappers: {
      InternalUser: '../store/read-model.ts#InternalUserRow',
      WorkerAccount: '../store/read-model.ts#WorkerAccountRow',
      Me: '../../../platform/auth/identity.ts#Identity',
      AuditEntry: '../../../platform/event-store/types.ts#RecordedEvent',
    },
  },
  plugins: [refusedRefreshStatusPlugin<CiamContext>()],
  routes: (p) => ({ [JWKS_PATH]: jwksRoute(p.tokens), [SESSION_STATUS_PATH]: sessionStatusRoute(storeSessionCheck(p.store, p.prefix), p.gatewaySecret) }),
  async stop(p) {
    clearInterval(p.rotationTimer);
    if (p.closeStore) await p.store.close();
  },
  rebuild: (storage, onProgress) => rebuildCiam(storage.db, onProgress),
  // Accounts for the seeded companies and people, read from Workforce through its API.
  seed: async ({ parts }, peers) => loginInstructions(await seedCiam(parts, await seedInputFromWorkforce(peers)), peers.gatewayUrl),
});

/** The companies, and two active employees of each, as the CIAM seed needs them. */
async function seedInputFromWorkforce(peers: SeedPeers): Promise<CiamSeedInput> {
  const data = await peers.query<{ companies: { nodes: { id: string; name: string; employees: { nodes: { profile: { id: string; rut: string; fullName: string } }[] } }[] } }>(
    'workforce',
    `{ companies(first: 100) { nodes { id name employees(first: 2, status: ACTIVE) { nodes { profile { id rut fullName } } } } } }`,
  );
  const companies = data.companies.nodes;
  return {
    companies: companies.map((c) => ({ id: c.id, name: c.name })),
    profiles: companies.flatMap((c) => c.employees.nodes.map((e) => ({ id: e.profile.id, rut: e.profile.rut, companyId: c.id, name: e.profile.fullName }))),
  };
}

export { JWKS_PATH };
