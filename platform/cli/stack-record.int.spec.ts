import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commandLine } from '../process/inspect.ts';
import { alreadyRunningMessage, claimStack } from './stack-record.ts';

/** The running-stack record `npm start` keeps, against real processes (a `sleep` stands in for a supervisor). */
const dirs: string[] = [];
const sleepers: ChildProcess[] = [];
afterEach(() => {
  for (const s of sleepers.splice(0)) s.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'angelis-record-'));
  dirs.push(dir);
  return path.join(dir, 'stack.json');
}

async function sleeper(): Promise<ChildProcess> {
  const s = spawn('sleep', ['300'], { stdio: 'ignore' });
  sleepers.push(s);
  // Until exec completes, /proc shows node's own command line.
  while (commandLine(s.pid!)?.[0] !== 'sleep') await new Promise((r) => setTimeout(r, 10));
  return s;
}

const details = { folder: '/srv/angelis', gatewayUrl: 'http://127.0.0.1:4000/graphql', ports: { gateway: 4000, postgres: 54329 } };

describe('the running-stack record', () => {
  it('is claimed when absent, names this process, and is removed on release', () => {
    const file = fresh();
    const claim = claimStack(file, details);
    expect(claim.claimed).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, ...details });
    if (claim.claimed) claim.release();
    expect(existsSync(file)).toBe(false);
  });

  it('refuses while the recorded supervisor runs, and the refusal says where', async () => {
    const file = fresh();
    const running = await sleeper();
    writeFileSync(file, JSON.stringify({ pid: running.pid, command: commandLine(running.pid!), startedAt: 'then', ...details }));
    const claim = claimStack(file, { ...details, folder: '/elsewhere' });
    expect(claim.claimed).toBe(false);
    if (claim.claimed) return;
    expect(claim.running.pid).toBe(running.pid);
    const message = alreadyRunningMessage(claim.running, claim.file);
    expect(message).toMatch(/already running from \/srv\/angelis/);
    expect(message).toContain('http://127.0.0.1:4000/graphql');
    expect(message).toContain(`kill ${running.pid}`);
    expect(message).toContain(file);
    // The running stack's record is left as it was.
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(running.pid);
  });

  it.each([
    ['its pid is gone', async () => ({ pid: 2 ** 22 + 12345, command: ['node', 'bin/start.ts'] })],
    ['its pid now runs another program', async () => ({ pid: (await sleeper()).pid, command: ['node', 'bin/start.ts'] })],
    ['it is unreadable (a crash while writing)', async () => null],
  ])('is replaced when stale: %s', async (_, stale) => {
    const file = fresh();
    const old = await stale();
    writeFileSync(file, old ? JSON.stringify({ startedAt: 'then', ...details, ...old }) : '{"pid": 12');
    const claim = claimStack(file, details);
    expect(claim.claimed).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
  });
});
