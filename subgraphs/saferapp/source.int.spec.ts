import { randomBytes } from 'node:crypto';
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { SqlResultSource } from '../../platform/sources/adapter.ts';
import { parseMapping } from '../../platform/sources/mapping.ts';
import { resultFilter } from '../../platform/sources/results.ts';
import { sqlServerConfig, sqlServerDriver, type SqlServerSourceSettings } from '../../platform/sources/sqlserver.ts';
import { SAFERAPP_DEFAULT_MAPPING } from './subgraph.ts';

/**
 * The SaferApp adapter against a real SQL Server: runs only when ANGELIS_SQLSERVER_DB_HOST
 * is set (with ANGELIS_SQLSERVER_DB_USER/_PASSWORD of a login that may create databases);
 * SQL Server cannot run on the development machine, so otherwise it says it was skipped.
 */
const host = process.env.ANGELIS_SQLSERVER_DB_HOST;
if (!host) console.log('SKIPPED subgraphs/saferapp/source.int.spec.ts: ANGELIS_SQLSERVER_DB_HOST is unset (no SQL Server here); the SaferApp adapter was not run against a real server');

describe.skipIf(!host)('SaferApp on SQL Server', () => {
  const database = `angelis_test_${randomBytes(6).toString('hex')}`;
  const settings = (db: string): SqlServerSourceSettings => ({
    host: host!,
    port: Number(process.env.ANGELIS_SQLSERVER_DB_PORT ?? 1433),
    database: db,
    user: process.env.ANGELIS_SQLSERVER_DB_USER,
    password: process.env.ANGELIS_SQLSERVER_DB_PASSWORD,
    connectTimeoutMs: 30_000,
    poolSize: 2,
    poolOverflow: 1,
  });
  let admin: sql.ConnectionPool;
  let inDb: sql.ConnectionPool;
  const log = createLogger('test', 'silent');
  const open = (json?: string) => {
    const driver = sqlServerDriver(settings(database));
    return { driver, source: new SqlResultSource('SAFERAPP', { driver, mapping: parseMapping(SAFERAPP_DEFAULT_MAPPING, json, 'ANGELIS_SAFERAPP_MAPPING'), mappingVariable: 'ANGELIS_SAFERAPP_MAPPING', sourceName: 'SaferApp', log }) };
  };

  beforeAll(async () => {
    admin = await new sql.ConnectionPool({ ...sqlServerConfig(settings('master')), options: { trustServerCertificate: true, encrypt: true } }).connect();
    await admin.request().query(`CREATE DATABASE [${database}]`);
    inDb = await new sql.ConnectionPool({ ...sqlServerConfig(settings(database)), options: { trustServerCertificate: true, encrypt: true } }).connect();
    await inDb.request().query('CREATE TABLE bi_saferapp (id BIGINT PRIMARY KEY, rut NVARCHAR(20), faena NVARCHAR(40), fecha_test DATETIME2, resultado NVARCHAR(20))');
    await inDb.request().query(`INSERT INTO bi_saferapp VALUES
      (1, '12.345.678-5', 'F101', '2026-10-01T08:00:00', 'APROBADO'),
      (2, '123456785', 'F102', '2026-11-01T08:00:00', 'RECHAZADO'),
      (3, '12.345.678-0', 'F101', '2026-11-02T08:00:00', 'APROBADO'),
      (4, '11111111-1', 'F101', '2026-11-03T08:00:00', 'PENDIENTE')`);
  }, 120_000);
  afterAll(async () => {
    await inDb?.close();
    await admin?.request().query(`ALTER DATABASE [${database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${database}]`).catch(() => {});
    await admin?.close();
  });

  it('reads pages by RUT in any stored format and by faena, in one statement each', async () => {
    const { source } = open();
    await source.verify();
    const rows = await source.byRuts(['12345678-5', '11111111-1'], resultFilter({}));
    expect(rows.map((r) => [r.sourceId, r.rut, r.faenaCode, r.result, r.takenAt.toISOString()])).toEqual([
      ['1', '12345678-5', 'F101', 'APPROVED', '2026-10-01T08:00:00.000Z'],
      ['2', '12345678-5', 'F102', 'REJECTED', '2026-11-01T08:00:00.000Z'],
      ['4', '11111111-1', 'F101', 'PENDING', '2026-11-03T08:00:00.000Z'],
    ]);
    const faena = await source.byFaenas(['F101'], resultFilter({ first: 1 }));
    expect(faena.map((r) => r.sourceId)).toEqual(['1', '4']);
    expect(source.rejected.rut).toBe(1);
    expect(source.statements).toBe(2);
    await source.close();
  });

  it('refuses writes through the adapter, and a wrong mapping names the column', async () => {
    const { source } = open(JSON.stringify({ columns: { takenAt: 'bi_saferapp.fecha' } }));
    await expect(source.run({ text: 'DELETE FROM bi_saferapp', params: [] })).rejects.toThrow(/only SELECTs/);
    await expect(source.verify()).rejects.toThrow(/column bi_saferapp\.fecha \(takenAt\) does not exist/);
    const count = await inDb.request().query('SELECT count(*) AS n FROM bi_saferapp');
    expect(count.recordset[0].n).toBe(4);
    await source.close();
  });
});
