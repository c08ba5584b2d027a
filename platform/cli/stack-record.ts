import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alive, canInspectProcesses, commandLine } from '../process/inspect.ts';

/**
 * The record a running `npm start` keeps in its data folder (`.angelis/stack.json`), so a
 * second start in the same folder refuses and says where the first one is, instead of
 * taking its database for an orphan and stopping it.
 */
export interface StackRecord {
  /** The supervisor's pid. */
  pid: number;
  /** The supervisor's argv as the system showed it: a reused pid runs something else. */
  command: string[] | null;
  startedAt: string;
  /** The folder `npm start` ran in. */
  folder: string;
  gatewayUrl: string;
  /** Listen ports by service (and the embedded PostgreSQL's). */
  ports: Record<string, number>;
}

export type Claim = { claimed: true; release(): void } | { claimed: false; running: StackRecord; file: string };

function read(file: string): StackRecord | null {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as StackRecord;
    return Number.isInteger(record.pid) ? record : null;
  } catch {
    return null;
  }
}

/** Whether the record's supervisor still runs: its pid is alive and runs the command it recorded. */
export function stillRunning(record: StackRecord): boolean {
  if (record.pid === process.pid || !alive(record.pid)) return false;
  if (!canInspectProcesses() || !record.command) return true;
  const now = commandLine(record.pid);
  return now !== null && now.join('\0') === record.command.join('\0');
}

/**
 * Claims `file` for this process, or names the stack that holds it. A record whose
 * supervisor is gone (SIGKILL, reboot) is stale and replaced. The record is written
 * whole beside the file, then hard-linked into place, so a concurrent start sees either
 * no record or a complete one, never half of it.
 */
export function claimStack(file: string, record: Omit<StackRecord, 'pid' | 'command' | 'startedAt'>): Claim {
  const mine: StackRecord = { pid: process.pid, command: commandLine(process.pid), startedAt: new Date().toISOString(), ...record };
  mkdirSync(path.dirname(file), { recursive: true });
  const draft = `${file}.${process.pid}`;
  writeFileSync(draft, `${JSON.stringify(mine, null, 2)}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(draft, file);
        return { claimed: true, release: () => release(file) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const running = read(file);
        if (running && stillRunning(running)) return { claimed: false, running, file };
        rmSync(file, { force: true });
      }
    }
    throw new Error(`could not claim ${file}: another start keeps replacing it`);
  } finally {
    rmSync(draft, { force: true });
  }
}

/** Removes the record if it is this process's (never another stack's). */
function release(file: string): void {
  if (read(file)?.pid === process.pid) rmSync(file, { force: true });
}

/** The refusal a second start prints: what runs, where, and how to stop it. */
export function alreadyRunningMessage(running: StackRecord, file: string): string {
  const ports = Object.entries(running.ports).map(([name, port]) => `${name} ${port}`).join(', ');
  return [
    `Angelis is already running from ${running.folder}: supervisor pid ${running.pid}, started ${running.startedAt}.`,
    `  GraphQL gateway ${running.gatewayUrl}; ports: ${ports}.`,
    `  Stop it first (Ctrl-C in its terminal, or kill ${running.pid}). Its record: ${file}`,
  ].join('\n');
}
