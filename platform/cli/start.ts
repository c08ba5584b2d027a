import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { CommandHandler } from '../event-store/command-handler.ts';
import { embeddedPassword, startEmbeddedPostgres, type EmbeddedPostgres } from '../postgres/embedded.ts';
import { ensureDatabase, migrate } from '../postgres/migrate.ts';
import { Db, poolSettings } from '../postgres/pool.ts';
import { WorkforceCommands } from '../../subgraphs/workforce/commands.ts';
import { seedWorkforce } from '../../subgraphs/workforce/seed.ts';
import { startCiam } from '../../subgraphs/ciam/service.ts';
import { loginInstructions, seedCiam, type SeededLogin } from '../../subgraphs/ciam/seed.ts';
import { gatewayUrl, startBanner } from './banner.ts';
import { alreadyRunningMessage, claimStack } from './stack-record.ts';
import { MemoryKeyValueStore } from '../redis/memory.ts';
import { workforceMigrations } from '../../subgraphs/workforce/store/migrations.ts';

/**
 * `npm start`: the whole platform in one command. Starts an embedded PostgreSQL unless
 * ANGELIS_POSTGRES_DB_HOST is set, migrates and seeds on first start, then runs each
 * service as its own process. Ctrl-C stops the services, then the database.
 */

interface Service {
  name: string;
  entry: string;
  args?: string[];
  enabled?: (c: Config) => boolean;
  readyUrl: (c: Config) => string;
  listen: (c: Config) => { host: string; port: number; variable: string };
}

const SERVICES: Service[] = [
  {
    name: 'workforce',
    entry: '../../subgraphs/workforce/main.ts',
    readyUrl: (c) => `http://${c.ANGELIS_WORKFORCE_HOST}:${c.ANGELIS_WORKFORCE_PORT}/readyz`,
    listen: (c) => ({ host: c.ANGELIS_WORKFORCE_HOST, port: c.ANGELIS_WORKFORCE_PORT, variable: 'ANGELIS_WORKFORCE_PORT' }),
  },
  {
    name: 'ciam',
    entry: '../../subgraphs/ciam/main.ts',
    readyUrl: (c) => `http://${c.ANGELIS_CIAM_HOST}:${c.ANGELIS_CIAM_PORT}/readyz`,
    listen: (c) => ({ host: c.ANGELIS_CIAM_HOST, port: c.ANGELIS_CIAM_PORT, variable: 'ANGELIS_CIAM_PORT' }),
  },
  {
    name: 'gateway',
    entry: '../../gateway/main.ts',
    readyUrl: (c) => `http://${c.ANGELIS_GATEWAY_HOST}:${c.ANGELIS_GATEWAY_PORT}/readyz`,
    listen: (c) => ({ host: c.ANGELIS_GATEWAY_HOST, port: c.ANGELIS_GATEWAY_PORT, variable: 'ANGELIS_GATEWAY_PORT' }),
  },
  {
    name: 'projector',
    entry: '../../projector/cli.ts',
    args: ['run'],
    enabled: (c) => c.ANGELIS_PROJECTOR_ENABLED,
    readyUrl: (c) => `http://${c.ANGELIS_PROJECTOR_METRICS_HOST}:${c.ANGELIS_PROJECTOR_METRICS_PORT}/metrics`,
    listen: (c) => ({ host: c.ANGELIS_PROJECTOR_METRICS_HOST, port: c.ANGELIS_PROJECTOR_METRICS_PORT, variable: 'ANGELIS_PROJECTOR_METRICS_PORT' }),
  },
];

const log = createLogger('angelis');
let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

// One stack per data folder: a second start would take the first one's database for an
// orphan and stop it, then fail on its ports.
const recordFile = path.join(path.dirname(path.resolve(config.ANGELIS_EMBEDDED_POSTGRES_DIR)), 'stack.json');
const claim = claimStack(recordFile, {
  folder: process.cwd(),
  gatewayUrl: gatewayUrl(config),
  ports: Object.fromEntries([
    ...SERVICES.filter((s) => s.enabled?.(config) ?? true).map((s) => [s.name, s.listen(config).port] as const),
    ...(config.ANGELIS_POSTGRES_DB_HOST ? [] : [['postgres', config.ANGELIS_EMBEDDED_POSTGRES_PORT] as const]),
  ]),
});
if (!claim.claimed) {
  console.error(alreadyRunningMessage(claim.running, claim.file));
  process.exit(1);
}
process.on('exit', () => claim.release());

const children: { name: string; process: ChildProcess }[] = [];
let postgres: EmbeddedPostgres | null = null;
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  // Services first (they hold database connections), newest first, then the database.
  for (const child of [...children].reverse()) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) continue;
    const exited = new Promise((r) => child.process.once('exit', r));
    child.process.kill('SIGTERM');
    const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (postgres) await postgres.stop().catch((err) => log.error({ err }, 'stopping PostgreSQL failed'));
  log.info('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** Waits for a port to be free (an earlier run may still be exiting), else explains. */
async function waitPortFree(l: { host: string; port: number; variable: string }, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portFree(l.host, l.port))) {
    if (Date.now() > deadline) throw new Error(`${l.host}:${l.port} is in use by another program; stop it or set ${l.variable}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Sample logins (an admin, a manager per company, a few workers), through a CIAM instance
 * of this process on a free port: idempotent, so every development start can print them.
 */
async function seedLogins(serviceConfig: Config, workforceDb: Db): Promise<SeededLogin[]> {
  const companies = (await workforceDb.query<{ id: string; name: string }>('SELECT id, name FROM companies ORDER BY position')).rows;
  const profiles = (
    await workforceDb.query<{ id: string; rut: string; companyId: string; name: string }>(
      `SELECT id, rut, company_id AS "companyId", name FROM (
         SELECT p.id, p.rut, pc.company_id, p.full_name AS name, row_number() OVER (PARTITION BY pc.company_id ORDER BY p.position) AS n
         FROM profiles p JOIN profile_companies pc ON pc.profile_id = p.id AND pc.status = 'ACTIVE') x
       WHERE n <= 2 ORDER BY company_id, n`,
    )
  ).rows;
  const ciam = await startCiam(serviceConfig, createLogger('ciam-seed', 'warn'), { port: 0, store: new MemoryKeyValueStore() });
  try {
    return await seedCiam(ciam, { companies, profiles });
  } finally {
    await ciam.stop();
  }
}

async function waitReady(name: string, url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} while starting`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} was not ready at ${url} after ${timeoutMs / 1000}s`);
}

try {
  const env: NodeJS.ProcessEnv = { ...process.env, ANGELIS_SUPERVISOR_PID: String(process.pid) };
  if (!config.ANGELIS_POSTGRES_DB_HOST) {
    postgres = await startEmbeddedPostgres(
      {
        dataDir: config.ANGELIS_EMBEDDED_POSTGRES_DIR,
        port: config.ANGELIS_EMBEDDED_POSTGRES_PORT,
        password: embeddedPassword(config.ANGELIS_EMBEDDED_POSTGRES_DIR),
      },
      log,
    );
    env.ANGELIS_POSTGRES_DB_HOST = postgres.host;
    env.ANGELIS_POSTGRES_DB_PORT = String(postgres.port);
    env.ANGELIS_POSTGRES_DB_USER = postgres.user;
    env.ANGELIS_POSTGRES_DB_PASSWORD = postgres.password;
  }
  const serviceConfig = loadConfig(env);

  let logins: SeededLogin[] = [];
  const settings = { ...poolSettings(serviceConfig, serviceConfig.ANGELIS_POSTGRES_DB_NAME, 'angelis-start'), size: 2, overflow: 0 };
  if (await ensureDatabase(settings)) log.info({ database: settings.database }, 'database created');
  const db = new Db(settings);
  try {
    await migrate(db, 'workforce', workforceMigrations, log);
    const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM events');
    if (config.ANGELIS_SEED && rows[0].n === 0) {
      log.info('first start: seeding sample data');
      await seedWorkforce(new WorkforceCommands(new CommandHandler(db)), log);
    }
    if (config.ANGELIS_SEED) logins = await seedLogins(serviceConfig, db);
  } finally {
    await db.end();
  }

  for (const service of SERVICES.filter((s) => s.enabled?.(serviceConfig) ?? true)) {
    await waitPortFree(service.listen(serviceConfig));
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(service.entry, import.meta.url)), ...(service.args ?? [])], {
      env,
      stdio: 'inherit',
      // Own process group: a terminal's Ctrl-C reaches only this supervisor, which stops
      // the services in order (one signal each, so none takes it for a forced exit).
      detached: true,
    });
    children.push({ name: service.name, process: child });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      log.error({ service: service.name, code, signal }, 'service exited; stopping the platform');
      void stopAll(1);
    });
    await waitReady(service.name, service.readyUrl(serviceConfig), child);
  }

  const loginLines = logins.length ? loginInstructions(logins, gatewayUrl(serviceConfig)) : [];
  console.log(startBanner({ config: serviceConfig, embeddedPostgres: postgres && { port: postgres.port, dataDir: config.ANGELIS_EMBEDDED_POSTGRES_DIR }, loginLines }));
} catch (err) {
  log.error({ err }, 'start failed');
  await stopAll(1);
}
