import sql from 'mssql';
import type { ReadOnlyDriver } from './adapter.ts';
import { SQLSERVER, type RawRow, type Statement } from './sql.ts';

/** How to reach a SQL Server source. */
export interface SqlServerSourceSettings {
  host: string;
  port: number;
  database: string;
  user?: string;
  password?: string;
  connectTimeoutMs: number;
  poolSize: number;
  poolOverflow: number;
}

/** The mssql (tedious) configuration of a read-only source: exported so a test can read what is sent. */
export function sqlServerConfig(s: SqlServerSourceSettings): sql.config {
  return {
    server: s.host,
    port: s.port,
    database: s.database,
    user: s.user,
    password: s.password,
    connectionTimeout: s.connectTimeoutMs,
    requestTimeout: s.connectTimeoutMs,
    // Connections are checked (SELECT 1) before a request uses them.
    validateConnection: true,
    // Like the platform's other pools: `poolSize` kept open, up to `poolOverflow` more under load (closed when idle).
    pool: { min: s.poolSize, max: s.poolSize + s.poolOverflow, idleTimeoutMillis: 30_000 },
    options: {
      encrypt: true,
      trustServerCertificate: true,
      // ApplicationIntent=ReadOnly: routed to a readable replica where there is one.
      readOnlyIntent: true,
      useUTC: true,
      appName: 'angelis-read-only',
    },
  };
}

/**
 * A SQL Server source on an mssql pool (pool size + overflow connections at most,
 * validated before use) with ApplicationIntent=ReadOnly. SQL Server has no read-only
 * session switch: the database user (SELECT rights only) and the adapter's SELECT-only
 * statements are what keep it read-only.
 */
export function sqlServerDriver(s: SqlServerSourceSettings): ReadOnlyDriver & { pool: sql.ConnectionPool } {
  const pool = new sql.ConnectionPool(sqlServerConfig(s));
  let connecting: Promise<sql.ConnectionPool> | null = null;
  const connected = () => {
    connecting ??= pool.connect().catch((err) => {
      connecting = null;
      throw err;
    });
    return connecting;
  };
  const request = async (statement: Statement) => {
    const req = (await connected()).request();
    statement.params.forEach((value, i) => req.input(`p${i}`, value));
    return req.query(statement.text);
  };
  return {
    dialect: SQLSERVER,
    pool,
    async select(statement) {
      return (await request(statement)).recordset as unknown as RawRow[];
    },
    async columnsOf(tables) {
      const list = tables.map((_, i) => `@p${i}`).join(', ');
      const result = await request({ text: `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, IS_NULLABLE AS n FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME IN (${list})`, params: tables });
      return (result.recordset as { t: string; c: string; n: string }[]).map((r) => ({ name: `${r.t}.${r.c}`, nullable: r.n === 'YES' }));
    },
    close: () => pool.close(),
  };
}
