import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchScope } from './lifecycle.ts';
import type { PeerKind } from './peers.ts';

/** The repository root: children run from here so relative paths resolve. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const serviceMain = fileURLToPath(new URL('./service-main.ts', import.meta.url));

export type ServiceRequest = { type: 'statements'; id: number };
export type ServiceMessage = { type: 'ready'; url: string } | { type: 'statements'; id: number; value: number };

export interface ServiceProcess {
  name: string;
  pid: number;
  /** The GraphQL endpoint, on 127.0.0.1. */
  url: string;
  /** The service pool's statement counter (BEGIN/COMMIT included); 0 for the gateway. */
  statements(): Promise<number>;
  /** Last lines the process wrote, for error reports. */
  output(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** ANGELIS_* (and NODE_ENV) variables on top of this process's environment. */
  env: Record<string, string>;
  startTimeoutMs?: number;
}

/**
 * BENCH_CPU_PROF=<dir> writes V8 CPU profiles of each service into <dir>/<service> when it stops;
 * BENCH_VERBOSE=1 echoes the services' output.
 */
const cpuProfDir = process.env.BENCH_CPU_PROF;
const verbose = process.env.BENCH_VERBOSE === '1';

/**
 * Starts `workforce` or `gateway` as a child process (so the load generator does not
 * share its event loop), waits until it reports its URL and its /readyz answers 200,
 * and registers its stop with the scope.
 */
export async function startService(scope: BenchScope, name: 'workforce' | 'ciam' | 'gateway' | PeerKind, o: SpawnOptions): Promise<ServiceProcess> {
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}/${name}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, serviceMain, name], {
    cwd: repoRoot,
    // In-process stand-ins for Redis (as `npm start` without ANGELIS_REDIS_URL): the shared
    // Redis stays out of it and no keys are left behind.
    // APOLLO_TELEMETRY_DISABLED: the bare @apollo/gateway peer would otherwise probe cloud metadata endpoints and export usage metrics (ours turns it off itself).
    env: { ...process.env, NODE_ENV: 'development', ANGELIS_LOG_LEVEL: 'warn', ANGELIS_REDIS_URL: '', APOLLO_TELEMETRY_DISABLED: 'true', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    if (verbose) process.stderr.write(`[${name}] ${chunk}`);
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 40));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  scope.defer(() => stopChild(child, exited));

  const pending = new Map<number, (value: number) => void>();
  let nextId = 0;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in time:\n${lines.join('\n')}`)), o.startTimeoutMs ?? 90_000);
    child.on('message', (m: ServiceMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.url);
      } else if (m.type === 'statements') {
        pending.get(m.id)?.(m.value);
        pending.delete(m.id);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} while starting:\n${lines.join('\n')}`));
    });
  });
  await waitReady(url.replace(/\/graphql$/, '/readyz'), name);

  return {
    name,
    pid: child.pid!,
    url,
    statements: () =>
      new Promise<number>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, resolve);
        child.send({ type: 'statements', id } satisfies ServiceRequest);
        setTimeout(() => pending.has(id) && reject(new Error(`${name} did not report its statements`)), 5_000).unref();
      }),
    output: () => lines.join('\n'),
    stop: () => stopChild(child, exited),
  };
}

/** Polls /readyz every 100 ms for at most 30 s (a loaded machine can be slow to answer). */
async function waitReady(readyz: string, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(readyz, { signal: AbortSignal.timeout(5_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} never became ready (${readyz})`);
}

/** SIGTERM, then SIGKILL if it has not exited after 12 s (its own grace is 10 s). */
async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
  await exited;
  clearTimeout(timer);
}
