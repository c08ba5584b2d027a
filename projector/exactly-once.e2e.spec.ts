import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventStoreMigration } from '../platform/event-store/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../platform/testing/postgres.ts';
import { readCommitLog } from './lake/commit-log.ts';
import { openDuckDb } from './lake/duckdb.ts';
import { localLakeStorage } from './storage/local.ts';
import { TEST_PSEUDONYM_KEY } from './testing/consumer-harness.ts';
import { insertSyntheticEvents } from './testing/synthetic-events.ts';

const EVENTS = 60_000;
const KILLS = 4;
let t: TestDatabase;
let dir: string;

beforeAll(async () => {
  t = await createTestDatabase('once', [{ service: 'es', migrations: [eventStoreMigration] }]);
  await insertSyntheticEvents(t.db.pool, EVENTS, 5_000);
  dir = await mkdtemp(join(tmpdir(), 'projector-once-'));
});
afterAll(async () => {
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts `npm run projector -- run` as a child process against the test database and lake. */
function spawnProjector(): ChildProcess {
  const s = t.settings;
  return spawn(process.execPath, ['bin/projector.ts', 'run', '--source', 'workforce'], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH, NODE_ENV: 'test', ANGELIS_LOG_LEVEL: 'error',
      ANGELIS_POSTGRES_DB_HOST: s.host, ANGELIS_POSTGRES_DB_PORT: String(s.port), ANGELIS_POSTGRES_DB_USER: s.user,
      ...(s.password ? { ANGELIS_POSTGRES_DB_PASSWORD: s.password } : {}),
      ANGELIS_POSTGRES_DB_NAME: s.database, ANGELIS_LAKE_DIR: join(dir, 'lake'), ANGELIS_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
      ANGELIS_PROJECTOR_METRICS_PORT: '0', ANGELIS_PROJECTOR_BATCH_SIZE: '4000', ANGELIS_PROJECTOR_LEASE_TTL_MS: '1500',
      ANGELIS_PROJECTOR_POLL_MS: '200',
    },
  });
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exactly once under SIGKILL', () => {
  it('loses and duplicates nothing when the projector is killed repeatedly mid-projection', async () => {
    const lake = localLakeStorage(join(dir, 'lake'));
    let killedMidway = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const before = (await readCommitLog(lake, 'workforce')).n;
      const child = spawnProjector();
      // Let it commit something new, then kill it at a random moment of the next batch or
      // two (a batch of 4,000 takes well under 100 ms, so a longer wait could let one run
      // finish the 15 batches and leave nothing for the next kill to interrupt).
      for (let i = 0; i < 300 && (await readCommitLog(lake, 'workforce')).n <= before && child.exitCode === null; i++) await sleep(20);
      await sleep(Math.random() * 100);
      child.kill('SIGKILL');
      await exited(child);
      if ((await readCommitLog(lake, 'workforce')).events < EVENTS) killedMidway++;
    }
    expect(killedMidway).toBeGreaterThanOrEqual(3);

    const last = spawnProjector();
    for (let i = 0; i < 1200 && (await readCommitLog(lake, 'workforce')).events < EVENTS; i++) await sleep(50);
    last.kill('SIGTERM');
    await exited(last);
    expect((await readCommitLog(lake, 'workforce')).events).toBe(EVENTS);

    // Every Parquet file in the folder, not just those the log names: the restart removed
    // the killed runs' uncommitted files, so the folder itself must hold each event once.
    const duck = await openDuckDb({ pseudonymKey: TEST_PSEUDONYM_KEY });
    try {
      const glob = join(dir, 'lake', 'raw', 'workforce', '*', '*', '*.parquet');
      const raw = (await duck.connection.runAndReadAll(
        `SELECT count(*)::INT AS n, count(DISTINCT global_position)::INT AS d, min(global_position)::INT AS lo, max(global_position)::INT AS hi
         FROM read_parquet('${glob}', hive_partitioning = true)`,
      )).getRowObjectsJson()[0];
      expect(raw).toEqual({ n: EVENTS, d: EVENTS, lo: 1, hi: EVENTS });
      const pg = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE event_type IN ('ProfileCreated', 'ProfileUpdated')`);
      const changes = (await duck.connection.runAndReadAll(
        `SELECT count(*)::INT AS n, count(DISTINCT _position)::INT AS d FROM read_parquet('${join(dir, 'lake', 'tables', 'profiles', '*', '*.parquet')}')`,
      )).getRowObjectsJson()[0];
      expect(changes).toEqual({ n: Number(pg.rows[0].n), d: Number(pg.rows[0].n) });
    } finally {
      duck.close();
    }
  });
});
