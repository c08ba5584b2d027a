import type http from 'node:http';
import type { Config } from '../../platform/config.ts';
import { CommandHandler } from '../../platform/event-store/command-handler.ts';
import type { Logger } from '../../platform/logger.ts';
import { migrate, ensureDatabase } from '../../platform/postgres/migrate.ts';
import { Db, poolSettings } from '../../platform/postgres/pool.ts';
import { startSubgraph } from '../../platform/graphql/subgraph.ts';
import type { RunningServer } from '../../platform/http/server.ts';
import { openKeyValueStore } from '../../platform/redis/open.ts';
import type { KeyValueStore } from '../../platform/redis/store.ts';
import { SESSION_STATUS_PATH, sessionStatusRoute, storeSessionCheck } from '../../platform/auth/session-status.ts';
import { Authentication } from './authentication.ts';
import { clientAddress } from '../../platform/http/client-address.ts';
import { identitySecret } from '../../platform/auth/identity.ts';
import { logCodeSender, type CodeSender } from './auth/code-sender.ts';
import { DEFAULT_CODE_OPTIONS, OneTimeCodes } from './auth/one-time-codes.ts';
import { DEFAULT_RATE_LIMITS, LoginRateLimiter, type LoginRateLimits } from './auth/rate-limit.ts';
import { CiamSecrets, DEV_CIAM_KEY_SECRET } from './auth/secrets.ts';
import { Sessions } from './auth/sessions.ts';
import { AccessTokens } from './auth/signing-keys.ts';
import { CiamCommands, type CommandContext } from './commands.ts';
import { DEFAULT_LOCKOUT, type LockoutPolicy } from './domain/login.ts';
import { createLoaders } from './loaders.ts';
import { resolvers, type CiamContext } from './resolvers.ts';
import { ciamMigrations } from './store/migrations.ts';
import { workforceProfiles } from './workforce-profiles.ts';
import { refusedRefreshStatusPlugin } from './refused-refresh-status.ts';

export const JWKS_PATH = '/.well-known/jwks.json';

/** Options mostly for tests: every limit and clock-bound setting is injectable. */
export interface CiamOptions {
  db?: Db;
  port?: number;
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

export interface CiamService {
  server: RunningServer;
  db: Db;
  store: KeyValueStore;
  commands: CiamCommands;
  handler: CommandHandler;
  auth: Authentication;
  tokens: AccessTokens;
  keys: KeyRotation;
  stop(): Promise<void>;
}

/** Starts the CIAM subgraph: pool, migrations, key-value store, signing key, HTTP server with the JWKS. */
export async function startCiam(config: Config, log: Logger, options: CiamOptions = {}): Promise<CiamService> {
  const db = options.db ?? new Db(poolSettings(config, config.ANGELIS_CIAM_DB_NAME, 'angelis-ciam'));
  // Its own database: created on first start (a managed server may have made it already).
  if (!options.db) await ensureDatabase(db.settings);
  await migrate(db, 'ciam', ciamMigrations, log);
  const store = options.store ?? (await openKeyValueStore(config, log));
  const prefix = options.keyPrefix ?? 'angelis:';
  if (!config.ANGELIS_CIAM_KEY_SECRET) log.warn('ANGELIS_CIAM_KEY_SECRET is unset: using the development secret for signing keys');
  const secrets = new CiamSecrets(config.ANGELIS_CIAM_KEY_SECRET ?? DEV_CIAM_KEY_SECRET);
  // Logins on one account can arrive in bursts: more retries than the default before a CONFLICT.
  const handler = new CommandHandler(db, { maxRetries: 10 });
  const commands = new CiamCommands(handler);
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

  const workforceProfile = workforceProfiles({ url: options.workforceUrl ?? config.ANGELIS_WORKFORCE_URL, identitySecret: identitySecret(config), log });

  const jwks = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return void res.end();
    }
    const body = JSON.stringify(await tokens.jwks());
    res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=60' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = await startSubgraph<CiamContext>({
    name: 'ciam',
    resolvers,
    host: config.ANGELIS_CIAM_HOST,
    port: options.port ?? config.ANGELIS_CIAM_PORT,
    nodeEnv: config.NODE_ENV,
    identitySecret: identitySecret(config),
    log,
    plugins: [refusedRefreshStatusPlugin<CiamContext>()],
    routes: { [JWKS_PATH]: jwks, [SESSION_STATUS_PATH]: sessionStatusRoute(storeSessionCheck(store, prefix), identitySecret(config)) },
    context: (base, req) => ({
      ...base,
      // Only the gateway reaches this subgraph; it sets the client's address.
      clientAddress: clientAddress(req, { gatewaySecret: identitySecret(config), trustProxy: config.ANGELIS_SUBGRAPH_TRUST_PROXY }),
      db,
      loaders: createLoaders(db),
      commands,
      auth,
      keys,
      workforceProfile,
    }),
    ready: async () => (await db.query('SELECT 1')).rowCount === 1,
  });
  log.info({ url: server.url, jwks: server.url.replace(/\/graphql$/, JWKS_PATH), store: store.kind }, 'ciam subgraph listening');
  return {
    server,
    db,
    store,
    commands,
    handler,
    auth,
    tokens,
    keys,
    async stop() {
      clearInterval(rotationTimer);
      await server.stop();
      if (!options.store) await store.close();
      if (!options.db) await db.end();
    },
  };
}
