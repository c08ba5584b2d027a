import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { SqlResultSource } from '../../platform/sources/adapter.ts';
import { parseMapping } from '../../platform/sources/mapping.ts';
import { mysqlDriver } from '../../platform/sources/mysql.ts';
import { resultFilter } from '../../platform/sources/results.ts';
import { toConnection } from '../../platform/graphql/pagination.ts';
import { createTestMysqlDatabase, type TestMysqlDatabase } from '../../platform/testing/mysql.ts';
import { FIT2000_DEFAULT_MAPPING, fit2000, fit2000Config } from './subgraph.ts';
import { loadConfig } from '../../platform/config.ts';
import { bootSubgraph } from '../../platform/service/boot.ts';

/**
 * The Fit2000 adapter against the real MariaDB of this machine, on a database of its own
 * (Fit2000's default tables, schema/sources/fit2000.sql): RUTs in any stored format, filters,
 * pages, malformed rows, the mapping check and read-only enforcement.
 */
const log = createLogger('test', 'silent');
let db: TestMysqlDatabase;
const sources: SqlResultSource[] = [];

function open(mappingJson?: string) {
  const driver = mysqlDriver({ host: db.host, port: db.port, database: db.database, user: db.user, password: db.password, connectTimeoutMs: 5_000, poolSize: 2 });
  const source = new SqlResultSource('FIT2000', {
    driver,
    mapping: parseMapping(FIT2000_DEFAULT_MAPPING, mappingJson, 'ANGELIS_FIT2000_MAPPING'),
    mappingVariable: 'ANGELIS_FIT2000_MAPPING',
    sourceName: 'Fit2000',
    log,
  });
  sources.push(source);
  return { source, driver };
}

beforeAll(async () => {
  db = await createTestMysqlDatabase([new URL('../../schema/sources/fit2000.sql', import.meta.url)]);
  // RUTs stored in three formats (one person at two faenas: two users); a wrong check digit; an unknown outcome.
  await db.admin.query(`INSERT INTO usuario_faena (user_id, rut, faena) VALUES
    (1, '12.345.678-5', 'F101'), (5, '12345678-5', 'F102'), (2, '111111111', 'F101'), (3, '7654321-6', 'F101'), (4, '12.345.678-0', 'F101')`);
  await db.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado, puntaje) VALUES
    (1, 1, '2026-10-01 08:00:00', 'APROBADO', 82.5),
    (2, 5, '2026-11-01 08:30:00', 'RECHAZADO', 41.0),
    (3, 2, '2026-11-02 09:00:00', 'PENDIENTE', NULL),
    (4, 3, '2026-11-03 09:00:00', 'APTO', 70),
    (5, 4, '2026-11-04 09:00:00', 'APROBADO', 90),
    (6, 1, '2026-11-05 09:00:00', 'DESCONOCIDO', 50),
    (7, 1, '2026-11-06 09:00:00', 'APROBADO', 95)`);
});
afterAll(async () => {
  for (const s of sources) await s.close().catch(() => {});
  await db?.drop();
});

describe('Fit2000 on MariaDB', () => {
  it('joins results to people by RUT whatever the stored format, one statement for many people', async () => {
    const { source } = open();
    const before = source.statements;
    const rows = await source.byRuts(['12345678-5', '11111111-1', '7654321-6'], resultFilter({}));
    expect(source.statements - before).toBe(1);
    expect(rows.map((r) => [r.sourceId, r.rut, r.faenaCode, r.result, r.score])).toEqual([
      ['1', '12345678-5', 'F101', 'APPROVED', 82.5],
      ['2', '12345678-5', 'F102', 'REJECTED', 41],
      ['3', '11111111-1', 'F101', 'PENDING', null],
      ['4', '7654321-6', 'F101', 'APPROVED', 70],
      ['7', '12345678-5', 'F101', 'APPROVED', 95],
    ]);
    expect(rows[0].takenAt.toISOString()).toBe('2026-10-01T08:00:00.000Z');
    // Row 5 (check digit wrong) and row 6 (unknown outcome) are counted, not returned.
    expect(source.rejected.rut).toBe(0);
    expect(source.rejected.result).toBe(1);
  });

  it('a malformed RUT in a faena is counted and left out; filters and pages by key', async () => {
    const { source } = open();
    const all = await source.byFaenas(['F101'], resultFilter({}));
    expect(all.map((r) => r.sourceId)).toEqual(['1', '3', '4', '7']);
    expect(source.rejected.rut).toBe(1);
    const page = await source.byFaenas(['F101', 'F102'], resultFilter({ first: 1 }));
    // first + 1 per faena: whether more follow.
    expect(page.map((r) => `${r.faenaCode}:${r.sourceId}`)).toEqual(['F101:1', 'F102:2', 'F101:3']);
    const after = await source.byFaenas(['F101'], resultFilter({ first: 10, after: Buffer.from('p:3').toString('base64url') }));
    expect(after.map((r) => r.sourceId)).toEqual(['4', '7']);
    const ranged = await source.byFaenas(['F101', 'F102'], resultFilter({ from: '2026-11-01', to: '2026-11-02', result: 'REJECTED' }));
    expect(ranged.map((r) => r.sourceId)).toEqual(['2']);
    const day = await source.byFaenas(['F101'], resultFilter({ from: '2026-11-06', to: '2026-11-06' }));
    expect(day.map((r) => r.sourceId)).toEqual(['7']);
    const own = await source.byFaenas(['F101'], resultFilter({}), '11111111-1');
    expect(own.map((r) => r.sourceId)).toEqual(['3']);
  });

  it('sessions are read-only: a write on the adapter\'s own pool is refused by the server', async () => {
    const { driver } = open();
    await expect(driver.pool.query('INSERT INTO usuario_faena (user_id, rut, faena) VALUES (9, \'1-9\', \'F9\')')).rejects.toThrow(/READ ONLY/i);
    await expect(driver.pool.query('UPDATE ktest SET resultado = \'APROBADO\'')).rejects.toThrow(/READ ONLY/i);
    const [rows] = await db.admin.query('SELECT count(*) AS n FROM usuario_faena WHERE user_id = 9');
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('the adapter sends only SELECTs: anything else is refused before it leaves the process', async () => {
    const { source } = open();
    const before = source.statements;
    await expect(source.run({ text: 'DELETE FROM ktest', params: [] })).rejects.toThrow(/only SELECTs/);
    await expect(source.run({ text: 'SELECT 1; DELETE FROM ktest', params: [] })).rejects.toThrow(/only SELECTs/);
    expect(source.statements).toBe(before);
    const [rows] = await db.admin.query('SELECT count(*) AS n FROM ktest');
    expect(rows).toEqual([{ n: 7 }]);
  });

  it('a mapping naming a column the source lacks stops with a message naming it', async () => {
    const { source } = open(JSON.stringify({ columns: { takenAt: 'ktest.fecha_test' } }));
    await expect(source.verify()).rejects.toThrow(/ANGELIS_FIT2000_MAPPING: column ktest\.fecha_test \(takenAt\) does not exist in Fit2000/);
    await expect(source.byRuts(['12345678-5'], resultFilter({}))).rejects.toMatchObject({ extensions: { code: 'SOURCE_UNAVAILABLE' } });
  });

  it('a nullable change column is refused at the mapping check (rows without a change time would never be extracted)', async () => {
    await db.admin.query('CREATE TABLE ktest_nullable (id INT PRIMARY KEY, user_id INT NOT NULL, fecha DATETIME NOT NULL, resultado VARCHAR(20) NOT NULL, puntaje DECIMAL(5, 1), modificado DATETIME(3) NULL)');
    const columns = { id: 'ktest_nullable.id', takenAt: 'ktest_nullable.fecha', result: 'ktest_nullable.resultado', score: 'ktest_nullable.puntaje' };
    const join = { table: 'usuario_faena', on: ['user_id', 'user_id'] };
    const nullable = open(JSON.stringify({ table: 'ktest_nullable', join, columns: { ...columns, updatedAt: 'ktest_nullable.modificado' } }));
    await expect(nullable.source.verify()).rejects.toThrow(/ANGELIS_FIT2000_MAPPING: column ktest_nullable\.modificado \(updatedAt\) may be NULL in Fit2000/);
    // Without a change column the same table is read (by id).
    await open(JSON.stringify({ table: 'ktest_nullable', join, columns: { ...columns, updatedAt: null } })).source.verify();
    // The default mapping's NOT NULL updated_at passes.
    await open().source.verify();
  });

  it('renamed tables and columns are read through the mapping', async () => {
    await db.admin.query('CREATE TABLE resultados (nro INT PRIMARY KEY, run VARCHAR(20), obra VARCHAR(20), cuando DATE, estado VARCHAR(5))');
    await db.admin.query(`INSERT INTO resultados VALUES (10, '12345678-5', 'F9', '2026-11-20', 'OK'), (11, '12345678-5', 'F9', '2026-02-30', 'OK')`).catch(async () => {
      // MariaDB refuses an impossible DATE in strict mode: store it as the zero date instead.
      await db.admin.query(`INSERT INTO resultados VALUES (10, '12345678-5', 'F9', '2026-11-20', 'OK')`);
    });
    const { source } = open(
      JSON.stringify({
        table: 'resultados',
        join: null,
        columns: { id: 'resultados.nro', rut: 'resultados.run', faena: 'resultados.obra', takenAt: 'resultados.cuando', result: 'resultados.estado', score: null, updatedAt: null },
        results: { APPROVED: ['OK'] },
      }),
    );
    await source.verify();
    const rows = await source.byRuts(['12345678-5'], resultFilter({}));
    expect(rows.map((r) => [r.sourceId, r.faenaCode, r.takenAt.toISOString(), r.result])).toEqual([['10', 'F9', '2026-11-20T00:00:00.000Z', 'APPROVED']]);
  });

  it('a source that cannot be reached is SOURCE_UNAVAILABLE', async () => {
    const driver = mysqlDriver({ host: '127.0.0.1', port: 1, database: 'x', user: 'x', connectTimeoutMs: 1_000, poolSize: 1 });
    const source = new SqlResultSource('FIT2000', { driver, mapping: FIT2000_DEFAULT_MAPPING, mappingVariable: 'M', sourceName: 'Fit2000', log });
    sources.push(source);
    await expect(source.byRuts(['12345678-5'], resultFilter({}))).rejects.toMatchObject({ extensions: { code: 'SOURCE_UNAVAILABLE', source: 'Fit2000' } });
    expect(await source.ping()).toBe(false);
  });

  it('the subgraph does not start with a mapping that does not match the source, and says which column', async () => {
    const config = loadConfig(
      {
        NODE_ENV: 'test',
        ANGELIS_FIT2000_DB_HOST: db.host,
        ANGELIS_FIT2000_DB_PORT: String(db.port),
        ANGELIS_FIT2000_DB_NAME: db.database,
        ANGELIS_FIT2000_DB_USER: db.user,
        ...(db.password ? { ANGELIS_FIT2000_DB_PASSWORD: db.password } : {}),
        ANGELIS_FIT2000_MAPPING: JSON.stringify({ columns: { rut: 'usuario_faena.run' } }),
      },
      [fit2000Config],
    );
    await expect(bootSubgraph(fit2000, config, log, { port: 0 })).rejects.toThrow('ANGELIS_FIT2000_MAPPING: column usuario_faena.run (rut) does not exist in Fit2000');
    // With the default mapping it starts and reads the real database.
    const running = await bootSubgraph(fit2000, loadConfig({ ...config.raw, ANGELIS_FIT2000_MAPPING: '', NODE_ENV: 'test' }, [fit2000Config]), log, { port: 0 });
    try {
      expect(running.source.kind).toBe('sql');
    } finally {
      await running.stop();
    }
  });

  it('a malformed row inside a page window does not end the list: every page after it is reached, nothing skipped', async () => {
    // Faena FMAL (user 90): ids 901..908, 903 and 906 with an outcome the mapping does not know, 905 with a wrong check digit.
    await db.admin.query(`INSERT INTO usuario_faena (user_id, rut, faena) VALUES (90, '11.111.111-1', 'FMAL'), (91, '11.111.111-2', 'FMAL')`);
    await db.admin.query(`INSERT INTO ktest (id, user_id, fecha, resultado) VALUES
      (901, 90, '2026-11-10 08:00:00', 'APROBADO'), (902, 90, '2026-11-10 08:00:00', 'APROBADO'), (903, 90, '2026-11-10 08:00:00', 'QUIZAS'),
      (904, 90, '2026-11-10 08:00:00', 'RECHAZADO'), (905, 91, '2026-11-10 08:00:00', 'APROBADO'), (906, 90, '2026-11-10 08:00:00', 'QUIZAS'),
      (907, 90, '2026-11-10 08:00:00', 'APROBADO'), (908, 90, '2026-11-10 08:00:00', 'PENDIENTE')`);
    const { source } = open();
    for (const first of [1, 2, 3]) {
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 20; pages++) {
        const filter = resultFilter({ first, after });
        // As the resolvers do: the batch's rows grouped by faena, one connection per faena.
        const c = toConnection((await source.byFaenas(['FMAL', 'F102'], filter)).filter((r) => r.faenaCode === 'FMAL'), filter.page);
        seen.push(...c.nodes.map((n) => n.sourceId));
        if (!c.pageInfo.hasNextPage) break;
        expect(c.nodes).toHaveLength(first);
        after = c.pageInfo.endCursor;
      }
      expect({ first, seen }).toEqual({ first, seen: ['901', '902', '904', '907', '908'] });
    }
    // Without malformed rows in the window, still one statement for the batch.
    const before = source.statements;
    expect((await source.byFaenas(['FMAL', 'F102'], resultFilter({ first: 2, after: Buffer.from('p:906').toString('base64url') }))).map((r) => r.sourceId)).toEqual(['907', '908']);
    expect(source.statements - before).toBe(1);
  });
});
