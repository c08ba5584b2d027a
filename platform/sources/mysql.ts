import { createPool, type Pool, type PoolOptions, type RowDataPacket } from 'mysql2/promise';
import type { ReadOnlyDriver } from './adapter.ts';
import { MYSQL, type RawRow, type Statement } from './sql.ts';

/** How to reach a MySQL/MariaDB source. */
export interface MysqlSourceSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  connectTimeoutMs: number;
  /** Connections kept (the pool never opens more). */
  poolSize: number;
}

/**
 * A MySQL/MariaDB source on a mysql2 pool whose every session is `READ ONLY` (set when the
 * connection opens, before any query can use it): a write is refused by the server too.
 * Dates come back as text and are read as UTC.
 */
export function mysqlDriver(s: MysqlSourceSettings): ReadOnlyDriver & { pool: Pool } {
  const options: PoolOptions = {
    host: s.host,
    port: s.port,
    database: s.database,
    user: s.user,
    password: s.password,
    connectTimeout: s.connectTimeoutMs,
    connectionLimit: s.poolSize,
    waitForConnections: true,
    queueLimit: 0,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    enableKeepAlive: true,
  };
  const pool = createPool(options);
  // The core pool's 'connection' event: queries queue per connection, so this runs first.
  pool.pool.on('connection', (connection) => {
    connection.query('SET SESSION TRANSACTION READ ONLY');
  });
  return {
    dialect: MYSQL,
    pool,
    async select(statement: Statement) {
      const [rows] = await pool.query<RowDataPacket[]>(statement.text, statement.params);
      return rows as unknown as RawRow[];
    },
    async columnsOf(tables) {
      const [rows] = await pool.query<RowDataPacket[]>(
        'SELECT TABLE_NAME AS t, COLUMN_NAME AS c, IS_NULLABLE AS n FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)',
        [tables],
      );
      return rows.map((r) => ({ name: `${r.t}.${r.c}`, nullable: r.n === 'YES' }));
    },
    close: () => pool.end(),
  };
}
