import type { Db } from '../../platform/postgres/pool.ts';
import { coresUsed, cpuSnapshot } from './cpu.ts';
import { runLoad, type LoadOptions, type LoadResult } from './load.ts';
import type { ServiceProcess } from './services.ts';

export interface PhaseOptions {
  label: string;
  load: Omit<LoadOptions, 'durationS'>;
  warmupS: number;
  durationS: number;
  /** The Workforce subgraph, whose statement counter is read around the timed run. */
  workforce: ServiceProcess;
  /** The database, for the server clock that bounds the timed window. */
  db: Db;
  /** Processes to account CPU for, by name (looked up when the timed run starts). */
  cpuGroups: () => Promise<Record<string, number[]>>;
}

export interface PhaseResult {
  label: string;
  load: LoadResult;
  /** Requests (passing) per second of the timed run. */
  rps: number;
  /** Statements the subgraph's pool sent for the timed run's requests, per request sent. */
  statementsPerRequest: number;
  /** Cores each process group used during the timed run, plus the whole machine and the rest. */
  cores: Record<string, number>;
  /** CPU milliseconds each of our process groups spent per passing request. */
  cpuMsPerRequest: Record<string, number>;
  /** The timed window on PostgreSQL's clock (text, microseconds kept). */
  window: { from: string; to: string };
}

/**
 * A warm-up run (discarded: JIT, prepared statements, aggregate cache, pool growth), then
 * the timed run with the subgraph's statement counter, CPU and the server clock read
 * around it.
 */
export async function measurePhase(o: PhaseOptions): Promise<PhaseResult> {
  const warm = await runLoad({ ...o.load, durationS: o.warmupS });
  if (warm.ok === 0) throw new Error(`${o.label}: warm-up had no successful request: ${warm.samples.join(' | ')}`);

  const groups = await o.cpuGroups();
  const clock = async () => (await o.db.query<{ t: string }>('SELECT clock_timestamp()::text AS t')).rows[0].t;
  // Requests still in flight when the clients stop are served anyway: wait for the
  // server to go quiet so they are not counted in the next run (or are counted in this one).
  const statementsBefore = await settled(o.workforce);
  const from = await clock();
  const cpuBefore = cpuSnapshot(Object.values(groups).flat());
  const load = await runLoad({ ...o.load, durationS: o.durationS });
  const cpuAfter = cpuSnapshot(Object.values(groups).flat());
  const to = await clock();
  const statementsAfter = await settled(o.workforce);

  const cores = coresUsed(cpuBefore, cpuAfter, groups);
  const seconds = (cpuAfter.at - cpuBefore.at) / 1000;
  const cpuMsPerRequest = Object.fromEntries(Object.keys(groups).map((k) => [k, (cores[k] * seconds * 1000) / Math.max(1, load.ok)]));
  return {
    label: o.label,
    load,
    rps: load.ok / (load.elapsedMs / 1000),
    statementsPerRequest: (statementsAfter - statementsBefore) / Math.max(1, load.sent),
    cores,
    cpuMsPerRequest,
    window: { from, to },
  };
}

/** The subgraph's statement counter once it stops moving (100 ms apart, at most 5 s). */
async function settled(workforce: ServiceProcess): Promise<number> {
  let last = await workforce.statements();
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await workforce.statements();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** "subgraph 0.92, postgres 0.71, bench 0.20, others 0.10 (machine 1.93)" */
export function describeCores(cores: Record<string, number>): string {
  const { machine, others, ...ours } = cores;
  const parts = Object.entries(ours).map(([k, v]) => `${k} ${v.toFixed(2)}`);
  return `${parts.join(', ')}, others ${others.toFixed(2)} (machine ${machine.toFixed(2)} of 2)`;
}

/** "subgraph 2.10, postgres 0.80" (CPU ms per request) */
export function describeCpuMs(cpuMs: Record<string, number>): string {
  return Object.entries(cpuMs).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
}
