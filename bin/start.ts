import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../platform/config.ts';
import { identitySecret, type Identity } from '../platform/auth/identity.ts';
import { subgraphClient } from '../platform/graphql/subgraph-client.ts';
import { createLogger } from '../platform/logger.ts';
import { embeddedPassword, startEmbeddedPostgres, type EmbeddedPostgres } from '../platform/postgres/embedded.ts';
import { bootDomain } from '../platform/service/boot.ts';
import type { SeedPeers } from '../platform/service/definition.ts';
import { gatewayUrl, startBanner } from '../platform/cli/banner.ts';
import { alreadyRunningMessage, claimStack } from '../platform/cli/stack-record.ts';
import { configFragments, SERVICES, subgraphEntries, type ServiceEntry } from '../services/registry.ts';

/**
 * `npm start`: the whole platform in one command, as the service registry lists it. Starts
 * an embedded PostgreSQL unless ANGELIS_POSTGRES_DB_HOST is set, runs each service as its own
 * process (each migrates its own database), seeds sample data on a first development
 * start, then prints where everything is. Ctrl-C stops the services, then the database.
 */

const log = createLogger('angelis');
const ROOT = path.resolve(import.meta.dirname, '..');
let config: Config;
try {
  // Every service's fragment: a variable no service knows is a typo, refused here.
  config = loadConfig(process.env, await configFragments(), { complete: true });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}

const enabled = SERVICES.filter((s) => s.enabled?.(config) ?? true);

// One stack per data folder: a second start would take the first one's database for an
// orphan and stop it, then fail on its ports.
const recordFile = path.join(path.dirname(path.resolve(config.ANGELIS_EMBEDDED_POSTGRES_DIR)), 'stack.json');
const claim = claimStack(recordFile, {
  folder: process.cwd(),
  gatewayUrl: gatewayUrl(config),
  ports: Object.fromEntries([
    ...enabled.map((s) => [s.name, s.listen(config).port] as const),
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

/** Starts a service's process and waits until it answers on its ready path. */
async function launch(service: ServiceEntry, env: NodeJS.ProcessEnv, serviceConfig: Config): Promise<void> {
  const listen = service.listen(serviceConfig);
  await waitPortFree(listen);
  const child = spawn(process.execPath, [path.join(ROOT, service.entry), ...(service.args ?? [])], {
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
  await waitReady(service.name, new URL(service.readyPath, `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`).toString(), child);
}

/** The seeds' window on other subgraphs: their GraphQL API, as the system acting as ADMIN. */
function seedPeers(serviceConfig: Config): SeedPeers {
  const system: Identity = { userId: 'seed', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 'seed' };
  return {
    gatewayUrl: gatewayUrl(serviceConfig),
    async query<T>(name: string, document: string, variables: Record<string, unknown> = {}) {
      const entry = subgraphEntries().find((s) => s.name === name);
      if (!entry) throw new Error(`a seed asked for ${name}, which is not a subgraph`);
      const ask = subgraphClient({ name, url: entry.listen(serviceConfig).url, identitySecret: identitySecret(serviceConfig), log, timeoutMs: 30_000 });
      const answer = await ask<T>(system, document, variables, 'seed');
      if (answer.errors?.length || !answer.data) throw new Error(`seed query to ${name} failed: ${answer.errors?.[0]?.message ?? answer.status}`);
      return answer.data;
    },
  };
}

/**
 * Sample data on a development start, domain by domain in registry order, each through its
 * own commands; later domains read earlier ones through their API. Each seed is
 * idempotent (a seeded domain is left as it is). Returns the lines seeds want printed.
 */
async function seedAll(serviceConfig: Config): Promise<string[]> {
  const lines: string[] = [];
  const peers = seedPeers(serviceConfig);
  for (const entry of subgraphEntries()) {
    const definition = await entry.subgraph!();
    if (!definition.seed) continue;
    const domain = await bootDomain(definition, serviceConfig, createLogger(`${entry.name}-seed`, 'warn'), {});
    try {
      lines.push(...((await definition.seed(domain, peers)) ?? []));
    } finally {
      await domain.close();
    }
  }
  return lines;
}

try {
  const env: NodeJS.ProcessEnv = { ...process.env, ANGELIS_SUPERVISOR_PID: String(process.pid) };
  if (!config.ANGELIS_POSTGRES_DB_HOST) {
    postgres = await startEmbeddedPostgres(
      { dataDir: config.ANGELIS_EMBEDDED_POSTGRES_DIR, port: config.ANGELIS_EMBEDDED_POSTGRES_PORT, password: embeddedPassword(config.ANGELIS_EMBEDDED_POSTGRES_DIR) },
      log,
    );
    env.ANGELIS_POSTGRES_DB_HOST = postgres.host;
    env.ANGELIS_POSTGRES_DB_PORT = String(postgres.port);
    env.ANGELIS_POSTGRES_DB_USER = postgres.user;
    env.ANGELIS_POSTGRES_DB_PASSWORD = postgres.password;
  }
  // Every service learns where every subgraph is (CIAM asks Workforce, for one).
  for (const s of subgraphEntries()) env[`ANGELIS_${s.name.toUpperCase()}_URL`] ??= s.listen(config).url;
  const serviceConfig = loadConfig(env, await configFragments(), { complete: true });

  for (const service of enabled) await launch(service, env, serviceConfig);

  const production = serviceConfig.NODE_ENV === 'production';
  if (production && serviceConfig.ANGELIS_SEED) log.info('production: no sample data is seeded');
  const seeded = serviceConfig.ANGELIS_SEED && !production ? await seedAll(serviceConfig) : [];
  const urls = subgraphEntries().map((s) => ({ name: s.name, url: s.listen(serviceConfig).url }));
  console.log(startBanner({ config: serviceConfig, subgraphs: urls, embeddedPostgres: postgres && { port: postgres.port, dataDir: config.ANGELIS_EMBEDDED_POSTGRES_DIR }, loginLines: seeded }));
} catch (err) {
  log.error({ err }, 'start failed');
  await stopAll(1);
}
