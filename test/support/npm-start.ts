import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../platform/testing/ports.ts';
import { subgraphEntries } from '../../services/registry.ts';

/** One `npm start` run: its process, everything it printed so far, and how it ended. */
export interface NpmStartRun {
  child: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
}

/** A folder and environment for `npm start` on a fresh machine: its own data and lake, random free ports. */
export interface NpmStartSetup {
  dir: string;
  dataDir: string;
  lakeDir: string;
  gatewayUrl: string;
  env: NodeJS.ProcessEnv;
  /** Removes the folder (stop every run first). */
  remove(): void;
}

/** Prepares a fresh folder and environment; `overrides` adds or replaces variables. */
export async function npmStartSetup(overrides: NodeJS.ProcessEnv = {}): Promise<NpmStartSetup> {
  const dir = mkdtempSync(path.join(tmpdir(), 'angelis-start-'));
  // Run as root, PostgreSQL runs as the `postgres` user, which must reach the data directory.
  chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'postgres');
  const lakeDir = path.join(dir, 'lake');
  const [pgPort, gatewayPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('ANGELIS_')) delete env[k];
  Object.assign(env, {
    NODE_ENV: 'development',
    ANGELIS_LOG_LEVEL: 'warn',
    ANGELIS_EMBEDDED_POSTGRES_DIR: dataDir,
    ANGELIS_EMBEDDED_POSTGRES_PORT: String(pgPort),
    ANGELIS_GATEWAY_PORT: String(gatewayPort),
    ANGELIS_LAKE_DIR: lakeDir,
    ANGELIS_PROJECTOR_METRICS_PORT: String(metricsPort),
    ANGELIS_PROJECTOR_WORK_DIR: path.join(dir, 'work'),
  });
  // Every subgraph of the registry on a free port (npm start tells the others where it is).
  for (const s of subgraphEntries()) env[`ANGELIS_${s.name.toUpperCase()}_PORT`] = String(await freePort());
  Object.assign(env, overrides);
  return { dir, dataDir, lakeDir, gatewayUrl: `http://127.0.0.1:${gatewayPort}/graphql`, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `npm start` (its script, without npm in between) in this repository with `env`. */
export function npmStart(env: NodeJS.ProcessEnv): NpmStartRun {
  let text = '';
  const child = spawn(process.execPath, ['bin/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c) => (text += c));
  child.stderr!.on('data', (c) => (text += c));
  return { child, output: () => text, exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

/** Waits for the banner, or fails with what the start printed. */
export async function untilRunning(run: NpmStartRun, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!run.output().includes('Angelis is running')) {
    if (run.child.exitCode !== null) throw new Error(`npm start exited early:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Ctrl-C, as a terminal sends it; resolves with the exit code. */
export async function stopRun(run: NpmStartRun): Promise<number | null> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGINT');
  return run.exit;
}
