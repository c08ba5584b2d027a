import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../platform/testing/ports.ts';

/** `npm start` on a fresh machine: embedded PostgreSQL, seed, services; Ctrl-C stops all. */
let child: ChildProcess;
let output = '';
let dataDir: string;
let lakeDir: string;
let gatewayUrl: string;
let exit: Promise<number | null>;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'angelis-start-'));
  // Run as root, PostgreSQL runs as the `postgres` user, which must reach the data directory.
  chmodSync(dir, 0o755);
  dataDir = path.join(dir, 'postgres');
  lakeDir = path.join(dir, 'lake');
  const [pgPort, gatewayPort, workforcePort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('ANGELIS_')) delete env[k];
  child = spawn(process.execPath, ['--import', 'tsx', 'platform/cli/start.ts'], {
    env: {
      ...env,
      NODE_ENV: 'development',
      ANGELIS_LOG_LEVEL: 'warn',
      ANGELIS_EMBEDDED_POSTGRES_DIR: dataDir,
      ANGELIS_EMBEDDED_POSTGRES_PORT: String(pgPort),
      ANGELIS_GATEWAY_PORT: String(gatewayPort),
      ANGELIS_WORKFORCE_PORT: String(workforcePort),
      ANGELIS_WORKFORCE_URL: `http://127.0.0.1:${workforcePort}/graphql`,
      ANGELIS_LAKE_DIR: lakeDir,
      ANGELIS_PROJECTOR_METRICS_PORT: String(metricsPort),
      ANGELIS_PROJECTOR_WORK_DIR: path.join(dir, 'work'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  while (!output.includes('Angelis is running')) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGINT');
    await exit;
  }
  rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

async function query(q: string) {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'newcomer@example.com' },
    body: JSON.stringify({ query: q }),
  });
  return (await res.json()) as any;
}

describe('npm start', () => {
  it('prints the gateway URL and an example query', () => {
    expect(output).toContain(gatewayUrl.replace('127.0.0.1', 'localhost'));
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

  it('Ctrl-C stops every process and the database cleanly', async () => {
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    // The embedded server removes its pid file when it shuts down cleanly.
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    await expect(fetch(gatewayUrl, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
  });
});
