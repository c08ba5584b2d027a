import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { SqlResultSource, type ReadOnlyDriver } from '../../platform/sources/adapter.ts';
import { parseMapping } from '../../platform/sources/mapping.ts';
import { resultFilter } from '../../platform/sources/results.ts';
import { ResultQueries, SQLSERVER, type RawRow, type Statement } from '../../platform/sources/sql.ts';
import { sqlServerConfig } from '../../platform/sources/sqlserver.ts';
import { SAFERAPP_DEFAULT_MAPPING } from './subgraph.ts';

/**
 * SaferApp's SQL Server statements and row mapping, on exactly what is sent: SQL Server
 * cannot run on this machine, so these pin the text and parameters (its adapter's
 * integration test runs against a real server when ANGELIS_SQLSERVER_DB_HOST is set).
 */
const queries = new ResultQueries(SAFERAPP_DEFAULT_MAPPING, SQLSERVER);
const log = createLogger('test', 'silent');

/** A driver that records what it is sent and answers `rows` (a SQL Server stand-in, named as such). */
function recordingDriver(rows: RawRow[] = [], columns = ['bi_saferapp.id', 'bi_saferapp.rut', 'bi_saferapp.faena', 'bi_saferapp.fecha_test', 'bi_saferapp.resultado']) {
  const sent: Statement[] = [];
  const driver: ReadOnlyDriver = {
    dialect: SQLSERVER,
    select: async (s) => (sent.push(s), rows),
    columnsOf: async () => columns.map((name) => ({ name, nullable: false })),
    close: async () => {},
  };
  return { driver, sent };
}

describe('SaferApp statements (SQL Server)', () => {
  it('a page for many RUTs: compacted RUTs compared in any stored format, first + 1 per RUT, every value a parameter', () => {
    const s = queries.pageByKeys('rut', ['123456785', '11111111K'], resultFilter({ first: 2, from: '2026-01-01', to: '2026-01-31', result: 'APPROVED', after: Buffer.from('p:7').toString('base64url') }));
    const rutKey = "UPPER(REPLACE(REPLACE(REPLACE(r.[rut], '.', ''), '-', ''), ' ', ''))";
    expect(s.text).toBe(
      'SELECT id, rut, faena, taken_at, result, score, updated_at, k FROM (' +
        'SELECT r.[id] AS id, r.[rut] AS rut, r.[faena] AS faena, r.[fecha_test] AS taken_at, r.[resultado] AS result, NULL AS score, NULL AS updated_at, ' +
        `${rutKey} AS k, ROW_NUMBER() OVER (PARTITION BY ${rutKey} ORDER BY r.[id]) AS rn FROM [bi_saferapp] r ` +
        `WHERE ${rutKey} IN (@p0, @p1) AND r.[id] > @p2 AND r.[fecha_test] >= @p3 AND r.[fecha_test] < @p4 AND r.[resultado] IN (@p5, @p6)` +
        ') t WHERE t.rn <= @p7 ORDER BY t.id',
    );
    expect(s.params).toEqual(['123456785', '11111111K', 7, '2026-01-01', '2026-02-01', 'APROBADO', 'APTO', 3]);
  });

  it('a page for faenas narrowed to one worker', () => {
    const s = queries.pageByKeys('faena', ['F101'], resultFilter({}), '123456785');
    expect(s.text).toContain('ROW_NUMBER() OVER (PARTITION BY r.[faena] ORDER BY r.[id])');
    expect(s.text).toContain("WHERE r.[faena] IN (@p0) AND UPPER(REPLACE(REPLACE(REPLACE(r.[rut], '.', ''), '-', ''), ' ', '')) = @p1) t WHERE t.rn <= @p2");
    expect(s.params).toEqual(['F101', '123456785', 21]);
  });

  it('the extraction without a change column reads by id, TOP (n) as a parameter', () => {
    expect(queries.changedSince({ updatedAt: null, afterId: 41 }, 500)).toEqual({
      text: 'SELECT TOP (@p1) r.[id] AS id, r.[rut] AS rut, r.[faena] AS faena, r.[fecha_test] AS taken_at, r.[resultado] AS result, NULL AS score, NULL AS updated_at FROM [bi_saferapp] r WHERE r.[id] > @p0 ORDER BY r.[id]',
      params: [41, 500],
    });
  });

  it('a renamed table and columns (ANGELIS_SAFERAPP_MAPPING) are quoted names, never values', () => {
    const m = parseMapping(SAFERAPP_DEFAULT_MAPPING, JSON.stringify({ table: 'Resultados', columns: { rut: 'Resultados.RutTrabajador', id: 'Resultados.Id', faena: 'Resultados.Faena', takenAt: 'Resultados.Fecha', result: 'Resultados.Estado', updatedAt: 'Resultados.Modificado' } }), 'ANGELIS_SAFERAPP_MAPPING');
    const s = new ResultQueries(m, SQLSERVER).changedSince({ updatedAt: '2026-11-01T00:00:00.000Z', afterId: 0 }, 10);
    expect(s.text).toBe(
      'SELECT TOP (@p3) r.[Id] AS id, r.[RutTrabajador] AS rut, r.[Faena] AS faena, r.[Fecha] AS taken_at, r.[Estado] AS result, NULL AS score, r.[Modificado] AS updated_at ' +
        'FROM [Resultados] r WHERE (r.[Modificado] > @p0 OR (r.[Modificado] = @p1 AND r.[Id] > @p2)) ORDER BY r.[Modificado], r.[Id]',
    );
    expect(s.params).toEqual(['2026-11-01 00:00:00.000', '2026-11-01 00:00:00.000', 0, 10]);
  });

  it('names that are not plain identifiers are refused, naming the variable', () => {
    for (const columns of [{ rut: 'bi_saferapp.rut]; DROP TABLE x; --' }, { rut: 'rut' }, { rut: 'otra.rut' }]) {
      expect(() => parseMapping(SAFERAPP_DEFAULT_MAPPING, JSON.stringify({ columns }), 'ANGELIS_SAFERAPP_MAPPING')).toThrow(/^ANGELIS_SAFERAPP_MAPPING: columns\.rut/);
    }
    expect(() => parseMapping(SAFERAPP_DEFAULT_MAPPING, '{not json', 'ANGELIS_SAFERAPP_MAPPING')).toThrow(/ANGELIS_SAFERAPP_MAPPING: not JSON/);
  });
});

describe('SaferApp rows and adapter (a recording stand-in for SQL Server)', () => {
  it('maps rows, counting and leaving out malformed RUTs, dates and outcomes', async () => {
    const { driver, sent } = recordingDriver([
      { id: 1, rut: '12.345.678-5', faena: 'F101', taken_at: new Date('2026-10-03T10:00:00Z'), result: ' aprobado ', score: null, updated_at: null },
      { id: 2, rut: '12.345.678-0', faena: 'F101', taken_at: new Date('2026-10-03T10:00:00Z'), result: 'APROBADO', score: null, updated_at: null },
      { id: 3, rut: '123456785', faena: 'F101', taken_at: 'not a date', result: 'APROBADO', score: null, updated_at: null },
      { id: 4, rut: '123456785', faena: 'F101', taken_at: '2026-02-30', result: 'APROBADO', score: null, updated_at: null },
      { id: 5, rut: '123456785', faena: 'F101', taken_at: '2026-11-04', result: 'quizás', score: null, updated_at: null },
      { id: 6, rut: '12345678-5', faena: ' F102 ', taken_at: '2026-11-04 11:00:00', result: 'NO APTO', score: '55.5', updated_at: null },
    ]);
    const source = new SqlResultSource('SAFERAPP', { driver, mapping: SAFERAPP_DEFAULT_MAPPING, mappingVariable: 'ANGELIS_SAFERAPP_MAPPING', sourceName: 'SaferApp', log });
    const rows = await source.byRuts(['12345678-5'], resultFilter({}));
    expect(rows).toEqual([
      { provider: 'SAFERAPP', sourceId: '1', position: 1, rut: '12345678-5', faenaCode: 'F101', takenAt: new Date('2026-10-03T10:00:00Z'), result: 'APPROVED', score: null, updatedAt: null },
      { provider: 'SAFERAPP', sourceId: '6', position: 6, rut: '12345678-5', faenaCode: 'F102', takenAt: new Date('2026-11-04T11:00:00Z'), result: 'REJECTED', score: 55.5, updatedAt: null },
    ]);
    expect(source.rejected).toEqual({ rut: 1, takenAt: 2, id: 0, result: 1, faena: 0 });
    expect(sent).toHaveLength(1);
    expect(sent[0].params[0]).toBe('123456785');
  });

  it('a mapping that does not match the source stops with the column named', async () => {
    const { driver } = recordingDriver([], ['bi_saferapp.id', 'bi_saferapp.rut', 'bi_saferapp.faena', 'bi_saferapp.resultado']);
    const source = new SqlResultSource('SAFERAPP', { driver, mapping: SAFERAPP_DEFAULT_MAPPING, mappingVariable: 'ANGELIS_SAFERAPP_MAPPING', sourceName: 'SaferApp', log });
    await expect(source.verify()).rejects.toThrow('ANGELIS_SAFERAPP_MAPPING: column bi_saferapp.fecha_test (takenAt) does not exist in SaferApp');
  });

  it('refuses to send anything but its SELECTs', async () => {
    const { driver, sent } = recordingDriver();
    const source = new SqlResultSource('SAFERAPP', { driver, mapping: SAFERAPP_DEFAULT_MAPPING, mappingVariable: 'ANGELIS_SAFERAPP_MAPPING', sourceName: 'SaferApp', log });
    for (const text of ['UPDATE bi_saferapp SET resultado = 1', 'SELECT 1; DELETE FROM bi_saferapp', ' DELETE FROM bi_saferapp']) {
      await expect(source.run({ text, params: [] })).rejects.toThrow(/only SELECTs/);
    }
    expect(sent).toEqual([]);
  });

  it('connects read-only: ApplicationIntent=ReadOnly, trustServerCertificate, 30 s timeout, pool 10 + 20, validated connections', () => {
    const config = sqlServerConfig({ host: 'db', port: 1433, database: 'saferapp', user: 'reader', password: 'pw', connectTimeoutMs: 30_000, poolSize: 10, poolOverflow: 20 });
    expect(config).toMatchObject({
      server: 'db',
      database: 'saferapp',
      connectionTimeout: 30_000,
      validateConnection: true,
      pool: { min: 10, max: 30 },
      options: { readOnlyIntent: true, trustServerCertificate: true },
    });
  });
});

describe('SQL Server parameter limit (2,100 per statement)', () => {
  const ruts = Array.from({ length: 2_500 }, (_, i) => `${10_000_000 + i}K`);
  const filter = resultFilter({ first: 5, from: '2026-01-01', to: '2026-01-31', result: 'APPROVED', after: Buffer.from('p:7').toString('base64url') });

  it('2,500 RUTs are three statements of at most 1,000 keys, each under 2,100 parameters, every RUT asked once', async () => {
    const { driver, sent } = recordingDriver();
    const source = new SqlResultSource('SAFERAPP', { driver, mapping: SAFERAPP_DEFAULT_MAPPING, mappingVariable: 'ANGELIS_SAFERAPP_MAPPING', sourceName: 'SaferApp', log });
    await source.byRuts(ruts.map((r) => `${r.slice(0, -1)}-K`), filter);
    expect(sent.map((s) => s.params.length)).toEqual([1_000 + 6, 1_000 + 6, 500 + 6]);
    for (const s of sent) expect(s.params.length).toBeLessThan(2_100);
    expect(sent.flatMap((s) => s.params.filter((p) => typeof p === 'string' && p.endsWith('K')))).toEqual(ruts);
    // Each chunk carries the whole filter and its own placeholders.
    expect(sent[2].text).toContain('IN (@p0, ');
    expect(sent[2].params.slice(500)).toEqual([7, '2026-01-01', '2026-02-01', 'APROBADO', 'APTO', 6]);
  });

  it('a batch of 100 faenas stays one statement', async () => {
    const { driver, sent } = recordingDriver();
    const source = new SqlResultSource('SAFERAPP', { driver, mapping: SAFERAPP_DEFAULT_MAPPING, mappingVariable: 'ANGELIS_SAFERAPP_MAPPING', sourceName: 'SaferApp', log });
    await source.byFaenas(Array.from({ length: 100 }, (_, i) => `F${i}`), resultFilter({}), '123456785');
    expect(sent).toHaveLength(1);
    const many = queries.pagesByKeys('faena', Array.from({ length: 2_500 }, (_, i) => `F${i}`), resultFilter({}), '123456785');
    expect(many.map((s) => s.params.length)).toEqual([1_002, 1_002, 502]);
  });
});
