import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { SqlResultSource } from '../../platform/sources/adapter.ts';
import type { ResultMapping } from '../../platform/sources/mapping.ts';
import { mysqlDriver } from '../../platform/sources/mysql.ts';
import { createTestMysqlDatabase, type TestMysqlDatabase } from '../../platform/testing/mysql.ts';
import { testResultsLakeSource } from '../../schema/lake/test-results.ts';
import { FIT2000_DEFAULT_MAPPING } from '../../subgraphs/fit2000/subgraph.ts';
import { readCommitLog } from '../lake/commit-log.ts';
import { openDuckDb } from '../lake/duckdb.ts';
import { pseudonym } from '../sql/pseudonym.ts';
import { localLakeStorage } from '../storage/local.ts';
import type { LakeStorage } from '../storage/lake-storage.ts';
import { defineLakeViews } from '../views/duckdb-session.ts';
import { ResultExtractor } from './test-results.ts';
import { loadConfig } from '../../platform/config.ts';
import { projectorCli } from '../cli.ts';
import { startProjector } from '../main.ts';
import { VIEWS_PATH } from '../lake/lake-paths.ts';

/**
 * Fit2000 (the real MariaDB, a database of this test's own) extracted into a local lake and
 * read back with DuckDB through the generated views: pseudonymised RUTs, updated rows, rows
 * that arrive late with an earlier change time, a crash before the commit, a source down.
 */
const KEY = 'test-pseudonym-key-0123456789';
const log = createLogger('test', 'silent');
let mysql: TestMysqlDatabase;
let dir: string;
let storage: LakeStorage;
const sources: SqlResultSource[] = [];

function source(db: TestMysqlDatabase = mysql, mapping: ResultMapping = FIT2000_DEFAULT_MAPPING) {
  const s = new SqlResultSource('FIT2000', {
    driver: mysqlDriver({ host: db.host, port: db.port, database: db.database, user: db.user, password: db.password, connectTimeoutMs: 5_000, poolSize: 2 }),
    mapping,
    mappingVariable: 'ANGELIS_FIT2000_MAPPING',
    sourceName: 'Fit2000',
    log,
  });
  sources.push(s);
  return s;
}

async function extract(lake: LakeStorage = storage, batchSize = 2) {
  const extractor = new ResultExtractor({
    name: 'fit2000', source: source(), storage: lake, owner: `test-${Math.random()}`, log, pseudonymKey: KEY,
    workDir: join(dir, '_work'), leaseTtlMs: 5_000, intervalMs: 10, batchSize, overlapMs: 60_000, untilCaughtUp: true,
  });
  await extractor.start();
}

/** The lake as readers see it: change rows and the current-state view. */
async function lake() {
  const duck = await openDuckDb({ pseudonymKey: KEY });
  try {
    await defineLakeViews(duck.connection, storage, [testResultsLakeSource('fit2000')], join(dir, '_scratch'));
    const rows = async (sql: string) => (await duck.connection.runAndReadAll(sql)).getRowObjectsJson();
    return {
      changes: await rows('SELECT source_id, result FROM lake.tables.test_results ORDER BY _position'),
      current: await rows('SELECT provider, source_id, rut, faena_code, CAST(taken_at AS VARCHAR) AS taken_at, result, score FROM angelis.test_results ORDER BY CAST(source_id AS INTEGER)'),
    };
  } finally {
    duck.close();
  }
}

beforeAll(async () => {
  mysql = await createTestMysqlDatabase([new URL('../../schema/sources/fit2000.sql', import.meta.url)]);
  dir = mkdtempSync(join(tmpdir(), 'angelis-extract-'));
  storage = localLakeStorage(join(dir, 'lake'));
  await mysql.admin.query(`INSERT INTO usuario_faena (user_id, rut, faena) VALUES (1, '12.345.678-5', 'F101'), (2, '111111111', 'F102'), (3, '12.345.678-0', 'F101')`);
  await mysql.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado, puntaje, updated_at) VALUES
    (1, 1, '2026-10-01 08:00:00', 'APROBADO', 80, '2026-11-01 10:00:00.000'),
    (2, 2, '2026-10-02 08:00:00', 'PENDIENTE', NULL, '2026-11-01 10:00:00.000'),
    (3, 1, '2026-10-03 08:00:00', 'RECHAZADO', 30, '2026-11-01 10:00:01.000'),
    (4, 3, '2026-10-04 08:00:00', 'APROBADO', 99, '2026-11-01 10:00:02.000')`);
});
afterAll(async () => {
  for (const s of sources) await s.close().catch(() => {});
  await mysql?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('test results extracted into the lake', () => {
  it('lands every valid row once, RUTs pseudonymised like the rest of the lake, the watermark in the commit log', async () => {
    await extract();
    const { changes, current } = await lake();
    expect(changes.map((c) => c.source_id)).toEqual(['1', '2', '3']);
    expect(current).toEqual([
      { provider: 'FIT2000', source_id: '1', rut: pseudonym(KEY, 'rut', '12345678-5'), faena_code: 'F101', taken_at: '2026-10-01 08:00:00', result: 'APPROVED', score: 80 },
      { provider: 'FIT2000', source_id: '2', rut: pseudonym(KEY, 'rut', '11111111-1'), faena_code: 'F102', taken_at: '2026-10-02 08:00:00', result: 'PENDING', score: null },
      { provider: 'FIT2000', source_id: '3', rut: pseudonym(KEY, 'rut', '12345678-5'), faena_code: 'F101', taken_at: '2026-10-03 08:00:00', result: 'REJECTED', score: 30 },
    ]);
    const state = await readCommitLog(storage, 'fit2000');
    // The watermark is the last row extracted: row 4 is malformed, read and left out.
    expect(state.watermark).toMatchObject({ updatedAt: '2026-11-01T10:00:01.000Z', lastId: 3 });
    expect(state.events).toBe(3);
    // Row 4 (a wrong check digit) is left out, never in the lake.
    expect(JSON.stringify(current)).not.toContain('"4"');
  });

  it('a run with nothing new writes nothing', async () => {
    const before = await readCommitLog(storage, 'fit2000');
    await extract();
    expect((await readCommitLog(storage, 'fit2000')).n).toBe(before.n);
  });

  it('updated rows and rows that arrive late with an earlier change time are extracted once each', async () => {
    await mysql.admin.query(`UPDATE ktest SET resultado = 'APROBADO', updated_at = '2026-11-01 10:05:00.000' WHERE id = 2`);
    // Committed late: its change time is before the watermark, within the overlap window.
    await mysql.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado, puntaje, updated_at) VALUES (5, 2, '2026-10-05 08:00:00', 'RECHAZADO', 10, '2026-11-01 09:59:59.000')`);
    await extract();
    await extract();
    const { changes, current } = await lake();
    expect(changes.map((c) => `${c.source_id}:${c.result}`)).toEqual(['1:APPROVED', '2:PENDING', '3:REJECTED', '5:REJECTED', '2:APPROVED']);
    expect(current.map((c) => `${c.source_id}:${c.result}`)).toEqual(['1:APPROVED', '2:APPROVED', '3:REJECTED', '5:REJECTED']);
  });

  it('a crash after writing files but before the commit: the files are removed on restart and the rows land once', async () => {
    await mysql.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado, updated_at) VALUES (6, 1, '2026-10-06 08:00:00', 'APROBADO', '2026-11-02 10:00:00.000')`);
    // A lake whose commit primitive fails once: the batch's files are there, its commit is not.
    let failed = false;
    const crashing: LakeStorage = {
      ...storage,
      put: (p, d) => storage.put(p, d),
      putFile: (p, f) => storage.putFile(p, f),
      get: (p) => storage.get(p),
      list: (f) => storage.list(f),
      delete: (p) => storage.delete(p),
      localCopy: (p, s) => storage.localCopy(p, s),
      create: async (p, d) => {
        if (p.startsWith('_commits/') && !failed) {
          failed = true;
          throw new Error('killed before the commit');
        }
        return storage.create(p, d);
      },
    };
    await expect(extract(crashing)).rejects.toThrow(/killed before the commit/);
    // Files on disk that no commit names.
    expect((await storage.list('tables/test_results/')).length).toBeGreaterThan((await readCommitLog(storage, 'fit2000')).live.size);
    // The row changes meanwhile: the retry writes another partition, so only recovery can remove the orphan.
    await mysql.admin.query(`UPDATE ktest SET updated_at = '2026-11-04 10:00:00.000' WHERE id = 6`);
    await extract();
    const { changes } = await lake();
    expect(changes.filter((c) => c.source_id === '6')).toHaveLength(1);
    const state = await readCommitLog(storage, 'fit2000');
    expect((await storage.list('tables/test_results/')).length).toBe(state.live.size);
  });

  it('a source that is down stops the pass; the next one resumes from the watermark', async () => {
    const before = await readCommitLog(storage, 'fit2000');
    await mysql.admin.query('RENAME TABLE ktest TO ktest_away');
    await mysql.admin.query(`INSERT INTO ktest_away (id, user_id, fecha, resultado, updated_at) VALUES (7, 1, '2026-10-07 08:00:00', 'APROBADO', '2026-11-05 10:00:00.000')`);
    await expect(extract()).rejects.toMatchObject({ extensions: { code: 'SOURCE_UNAVAILABLE' } });
    expect((await readCommitLog(storage, 'fit2000')).n).toBe(before.n);
    await mysql.admin.query('RENAME TABLE ktest_away TO ktest');
    await extract();
    const { changes, current } = await lake();
    expect(changes.filter((c) => c.source_id === '7')).toHaveLength(1);
    expect(current.map((c) => c.source_id)).toEqual(['1', '2', '3', '5', '6', '7']);
  });

  it('`projector -- status` shows the external source: its commit, watermark and rows', async () => {
    const lines: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      const config = loadConfig({ ANGELIS_LAKE_DIR: join(dir, 'lake'), ANGELIS_LOG_LEVEL: 'silent' });
      await projectorCli(['status'], config, [], [{ lake: testResultsLakeSource('fit2000'), open: async () => source() }]);
    } finally {
      console.log = original;
    }
    const state = await readCommitLog(storage, 'fit2000');
    const text = lines.join('\n');
    expect(text).toContain('external source fit2000 (test_results, extracted by watermark)');
    expect(text).toContain('source           answers');
    expect(text).toContain(`last commit      ${state.n} at ${state.lastCommittedAt}`);
    expect(text).toContain('watermark        changed at 2026-11-05T10:00:00.000Z, id 7');
    expect(text).toContain(`rows in lake     ${state.events} extracted`);
  });

  it('the projector runs the extraction beside (here: without) event sources, and its views include test_results', async () => {
    await mysql.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado, updated_at) VALUES (8, 2, '2026-10-08 08:00:00', 'RECHAZADO', '2026-11-06 10:00:00.000')`);
    const config = loadConfig({ ANGELIS_LAKE_DIR: join(dir, 'lake'), ANGELIS_PSEUDONYM_KEY: KEY, ANGELIS_PROJECTOR_WORK_DIR: join(dir, '_work') });
    const projector = await startProjector({
      sources: [], config, storage, log, serveMetrics: false, untilCaughtUp: true,
      extractions: [{ lake: testResultsLakeSource('fit2000'), open: async () => source() }],
    });
    await projector.done;
    await projector.stop();
    const { current } = await lake();
    expect(current.map((c) => `${c.source_id}:${c.result}`)).toContain('8:REJECTED');
    expect((await storage.get(VIEWS_PATH))?.toString()).toContain('test_results');
  });
});

describe('a source without a change column (Fit2000 with columns.updatedAt unset): read by id with an id overlap', () => {
  const byId: ResultMapping = { ...FIT2000_DEFAULT_MAPPING, columns: { ...FIT2000_DEFAULT_MAPPING.columns, updatedAt: null } };
  let db: TestMysqlDatabase;
  let lakeDir: string;
  beforeAll(async () => {
    db = await createTestMysqlDatabase([new URL('../../schema/sources/fit2000.sql', import.meta.url)]);
    lakeDir = mkdtempSync(join(tmpdir(), 'angelis-extract-ids-'));
    await db.admin.query(`INSERT INTO usuario_faena (user_id, rut, faena) VALUES (1, '12.345.678-5', 'F101')`);
  });
  afterAll(async () => {
    await db?.drop();
    if (lakeDir) rmSync(lakeDir, { recursive: true, force: true });
  });

  const idsLake = () => localLakeStorage(join(lakeDir, 'lake'));
  async function extractIds() {
    const extractor = new ResultExtractor({
      name: 'fit2000', source: source(db, byId), storage: idsLake(), owner: `test-${Math.random()}`, log, pseudonymKey: KEY,
      workDir: join(lakeDir, '_work'), leaseTtlMs: 5_000, intervalMs: 10, batchSize: 2, overlapMs: 60_000, overlapIds: 5, untilCaughtUp: true,
    });
    await extractor.start();
  }
  async function extractedIds(): Promise<string[]> {
    const duck = await openDuckDb({ pseudonymKey: KEY });
    try {
      await defineLakeViews(duck.connection, idsLake(), [testResultsLakeSource('fit2000')], join(lakeDir, '_scratch'));
      return (await duck.connection.runAndReadAll('SELECT source_id FROM lake.tables.test_results ORDER BY _position')).getRowObjectsJson().map((r) => String(r.source_id));
    } finally {
      duck.close();
    }
  }

  it('a row committed after a greater id (10 after 11), within the window, is extracted exactly once', async () => {
    await db.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado) VALUES (1, 1, '2026-10-01 08:00:00', 'APROBADO'), (2, 1, '2026-10-02 08:00:00', 'APROBADO'), (11, 1, '2026-10-11 08:00:00', 'RECHAZADO')`);
    await extractIds();
    expect(await extractedIds()).toEqual(['1', '2', '11']);
    // Committed later with a lower id (its transaction took its id before 11's and committed after).
    await db.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado) VALUES (10, 1, '2026-10-10 08:00:00', 'APROBADO')`);
    await extractIds();
    await extractIds();
    expect(await extractedIds()).toEqual(['1', '2', '11', '10']);
    const state = await readCommitLog(idsLake(), 'fit2000');
    expect(state.watermark).toMatchObject({ updatedAt: null, lastId: 11 });
    // What the window re-reads is remembered by id, and only within the window.
    expect(state.watermark?.seen.sort()).toEqual(['10@', '11@']);
  });

  it('a row further back than the window is not read again (the documented limit of id-only sources)', async () => {
    await db.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado) VALUES (3, 1, '2026-10-03 08:00:00', 'APROBADO')`);
    await extractIds();
    expect(await extractedIds()).toEqual(['1', '2', '11', '10']);
  });
});
