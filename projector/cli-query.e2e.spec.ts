import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventStoreMigration } from '../platform/event-store/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../platform/testing/postgres.ts';
import { localLakeStorage } from './storage/local.ts';
import { TEST_PSEUDONYM_KEY, testConsumer } from './testing/consumer-harness.ts';
import { insertSyntheticEvents } from './testing/synthetic-events.ts';

const EVENTS = 300;
let t: TestDatabase;
let dir: string;

beforeAll(async () => {
  t = await createTestDatabase('cli_query', [{ service: 'es', migrations: [eventStoreMigration] }]);
  await insertSyntheticEvents(t.db.pool, EVENTS);
  dir = await mkdtemp(join(tmpdir(), 'projector-cli-query-'));
  await testConsumer(t.settings, localLakeStorage(join(dir, 'lake')), dir, { untilCaughtUp: true }).start();
});
afterAll(async () => {
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `npm run projector -- query SQL` against the test lake: the cells of its table, header first. */
async function query(sql: string): Promise<string[][]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/projector.ts', 'query', sql], {
    cwd: join(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH, NODE_ENV: 'test', ANGELIS_LOG_LEVEL: 'error', ANGELIS_LAKE_DIR: join(dir, 'lake'), ANGELIS_PSEUDONYM_KEY: TEST_PSEUDONYM_KEY },
  });
  // console.table rows: "│ (index) │ a │ b │"; border lines have no cells.
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) => line.split('│').slice(1, -1).map((cell) => cell.trim()));
}

describe('npm run projector -- query', () => {
  it('prints counts and other BIGINTs as numbers, and a BIGINT beyond exact doubles as its digits', async () => {
    const rows = await query(
      `SELECT count(*) AS events, max(global_position) AS last, sum(global_position) AS total, 9007199254740993::BIGINT AS huge, 'x' AS label FROM lake.raw.workforce`,
    );
    expect(rows[0]).toEqual(['(index)', 'events', 'last', 'total', 'huge', 'label']);
    expect(rows.length).toBe(2);
    const [, events, last, total, huge, label] = rows[1];
    // Numbers print bare; strings print quoted.
    expect(events).toBe(String(EVENTS));
    expect(Number(last)).toBeGreaterThanOrEqual(EVENTS);
    expect(total).toMatch(/^\d+$/);
    expect(huge).toBe(`'9007199254740993'`);
    expect(label).toBe(`'x'`);
  });
});
