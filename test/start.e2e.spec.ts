import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive } from '../platform/process/inspect.ts';
import { npmStart, npmStartSetup, stopRun, untilRunning, type NpmStartRun, type NpmStartSetup } from './support/npm-start.ts';

/** `npm start` on a fresh machine: embedded PostgreSQL, seed, services; Ctrl-C stops all. */
let setup: NpmStartSetup;
let run: NpmStartRun;
let output = '';
let dir: string;
let dataDir: string;
let lakeDir: string;
let gatewayUrl: string;

beforeAll(async () => {
  setup = await npmStartSetup();
  ({ dir, dataDir, lakeDir, gatewayUrl } = setup);
  run = npmStart(setup.env);
  try {
    await untilRunning(run);
  } finally {
    output = run.output();
  }
}, 120_000);

afterAll(async () => {
  if (run) await stopRun(run);
  setup?.remove();
});

/** The embedded server's pid, from its pid file (null when there is none). */
function postmasterPid(): number | null {
  const file = path.join(dataDir, 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : null;
}

async function query(q: string) {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'newcomer@example.com' },
    body: JSON.stringify({ query: q }),
  });
  return (await res.json()) as any;
}

describe('npm start', () => {
  it('prints the gateway URL where it listens (127.0.0.1, not localhost) and an example query', () => {
    expect(output).toContain(`GraphQL gateway   ${gatewayUrl}`);
    expect(output).toContain(`curl -s ${gatewayUrl} `);
    expect(output).not.toContain('localhost');
    expect(output).toMatch(/curl -s .*x-angelis-dev-user/);
  });

  it('serves the seeded sample: 3 companies, 10 projects with faena codes, 200 profiles, licences expiring within 30 days', async () => {
    const all = await query(`{
      companies(first: 100) { nodes { id subscriptions { seats } projects(first: 100) { nodes { faenaCode } } } }
      profiles(first: 100) { pageInfo { hasNextPage endCursor } nodes { rut } }
      licenses(expiringWithinDays: 30, first: 100) { nodes { expiresInDays status } }
      offerings { code }
    }`);
    expect(all.errors).toBeUndefined();
    const companies = all.data.companies.nodes;
    expect(companies).toHaveLength(3);
    const faenas = companies.flatMap((c: any) => c.projects.nodes.map((p: any) => p.faenaCode));
    expect(faenas).toHaveLength(10);
    expect(new Set(faenas).size).toBe(10);
    expect(companies.every((c: any) => c.subscriptions.length > 0)).toBe(true);
    expect(all.data.offerings.length).toBeGreaterThan(0);
    const expiring = all.data.licenses.nodes;
    expect(expiring.length).toBeGreaterThan(0);
    expect(expiring.every((l: any) => l.status === 'VALID' && l.expiresInDays >= 0 && l.expiresInDays <= 30)).toBe(true);
    let count = all.data.profiles.nodes.length;
    let cursor = all.data.profiles.pageInfo.endCursor;
    while (cursor) {
      const page = await query(`{ profiles(first: 100, after: "${cursor}") { pageInfo { hasNextPage endCursor } nodes { rut } } }`);
      count += page.data.profiles.nodes.length;
      cursor = page.data.profiles.pageInfo.hasNextPage ? page.data.profiles.pageInfo.endCursor : null;
    }
    expect(count).toBe(200);
  });

  it('runs the projector: the seeded events reach the lake as committed Parquet', async () => {
    const commits = path.join(lakeDir, '_commits', 'workforce');
    const deadline = Date.now() + 60_000;
    while (!(existsSync(commits) && readdirSync(commits).length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(readdirSync(commits).length).toBeGreaterThan(0);
    expect(existsSync(path.join(lakeDir, 'raw', 'workforce', 'ProfileCreated'))).toBe(true);
  });

  it('a second npm start in the same folder refuses, says where the running one is, and leaves it running', async () => {
    const pgPid = postmasterPid();
    expect(pgPid).not.toBeNull();
    const second = npmStart(setup.env);
    const code = await Promise.race([second.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    if (code === 'hung') second.child.kill('SIGKILL');
    expect(code, second.output()).not.toBe(0);
    expect(code).not.toBe('hung');
    expect(second.output()).toMatch(/already running/);
    expect(second.output()).toContain(gatewayUrl);
    expect(second.output()).toContain(`pid ${run.child.pid}`);
    // The first stack, its database included, is untouched.
    expect(postmasterPid()).toBe(pgPid);
    expect(alive(pgPid!)).toBe(true);
    const still = await query('{ companies(first: 1) { nodes { name } } }');
    expect(still.errors).toBeUndefined();
    expect(still.data.companies.nodes).toHaveLength(1);
    expect(run.child.exitCode).toBeNull();
  }, 90_000);

  it('Ctrl-C stops every process and the database cleanly', async () => {
    expect(await stopRun(run)).toBe(0);
    // The embedded server removes its pid file when it shuts down cleanly.
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    await expect(fetch(gatewayUrl, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
    // Nor does it leave its running-stack record behind.
    expect(readdirSync(dir).filter((f) => f.startsWith('stack.json'))).toEqual([]);
  });

  it('starts over records naming a live process that is not ours, and leaves that process alone', async () => {
    // After a reboot the pids in old records may belong to any program: here, a sleep.
    const bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(dataDir, 'postmaster.pid'), `${bystander.pid}\n${dataDir}\n1700000000\n${setup.env.ANGELIS_EMBEDDED_POSTGRES_PORT}\n`);
      writeFileSync(path.join(dir, 'stack.json'), JSON.stringify({ pid: bystander.pid, command: ['node', 'bin/start.ts'], startedAt: '2026-01-01T00:00:00.000Z', folder: dir, gatewayUrl, ports: {} }));
      run = npmStart(setup.env);
      await untilRunning(run);
      expect(alive(bystander.pid!)).toBe(true);
      expect(bystander.exitCode).toBeNull();
      expect(postmasterPid()).not.toBe(bystander.pid);
      expect((await query('{ offerings { code } }')).data.offerings.length).toBeGreaterThan(0);
      expect(await stopRun(run)).toBe(0);
    } finally {
      bystander.kill('SIGKILL');
    }
  }, 150_000);
});
