import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * CPU time from /proc, so a run shows where the cores went: each of our processes, and
 * what the rest of the machine (other people's tests) took meanwhile.
 */
const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

export interface CpuSnapshot {
  at: number;
  /** Jiffies summed over all cores: busy and total. */
  machine: { busy: number; total: number };
  /** utime + stime ticks per pid. */
  pids: Map<number, number>;
}

function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + fields[4]; // idle + iowait
  return { busy: total - idle, total };
}

function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  } catch {
    return undefined; // gone
  }
}

export function cpuSnapshot(pids: number[]): CpuSnapshot {
  const map = new Map<number, number>();
  for (const pid of pids) {
    const t = processTicks(pid);
    if (t !== undefined) map.set(pid, t);
  }
  return { at: performance.now(), machine: machineTicks(), pids: map };
}

/** Cores used (1.0 = one core busy all the time) between two snapshots, per named group of pids. */
export function coresUsed(a: CpuSnapshot, b: CpuSnapshot, groups: Record<string, number[]>): Record<string, number> & { machine: number; others: number } {
  const seconds = (b.at - a.at) / 1000;
  const cores = (ticks: number) => ticks / TICKS_PER_SECOND / seconds;
  const out: Record<string, number> = {};
  let ours = 0;
  for (const [name, pids] of Object.entries(groups)) {
    let ticks = 0;
    for (const pid of pids) {
      const before = a.pids.get(pid);
      const after = b.pids.get(pid);
      if (before !== undefined && after !== undefined) ticks += after - before;
    }
    out[name] = cores(ticks);
    ours += out[name];
  }
  const machine = ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * cpus().length;
  return { ...out, machine, others: Math.max(0, machine - ours) };
}

/**
 * Waits until the processes `pids` gives together use under `cores` over two 1-second
 * windows in a row (at most `maxMs`): work left from seeding or start-up (projections,
 * lazily compiled modules, a gateway's first schema processing) would otherwise be charged
 * to whichever target is timed first. Returns the last reading and how long it took.
 */
export async function untilQuiet(pids: () => Promise<number[]>, o: { cores: number; maxMs: number }): Promise<{ cores: number; waitedMs: number }> {
  const started = performance.now();
  let calm = 0;
  let used = Infinity;
  while (performance.now() - started < o.maxMs) {
    const group = await pids();
    const before = cpuSnapshot(group);
    await new Promise((r) => setTimeout(r, 1_000));
    used = coresUsed(before, cpuSnapshot(group), { all: group }).all;
    calm = used < o.cores ? calm + 1 : 0;
    if (calm === 2) break;
  }
  return { cores: used, waitedMs: performance.now() - started };
}
