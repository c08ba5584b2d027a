import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createConnection, type Connection } from 'mysql2/promise';

/** A throw-away MySQL/MariaDB database of a test, with a root connection to fill it. */
export interface TestMysqlDatabase {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  /** A connection as the server's admin, inside the database (writes the test's rows). */
  admin: Connection;
  /** Drops the database and closes the connection. */
  drop(): Promise<void>;
}

/**
 * `angelis_test_<random>` on the local MariaDB (TEST_MYSQL_HOST/PORT/USER/PASSWORD, else
 * 127.0.0.1:3306 root), created empty, with `sqlFiles` (statements separated by `;` at
 * line ends) run in it.
 */
export async function createTestMysqlDatabase(sqlFiles: URL[] = []): Promise<TestMysqlDatabase> {
  const host = process.env.TEST_MYSQL_HOST ?? '127.0.0.1';
  const port = Number(process.env.TEST_MYSQL_PORT ?? 3306);
  const user = process.env.TEST_MYSQL_USER ?? 'root';
  const password = process.env.TEST_MYSQL_PASSWORD || undefined;
  const database = `angelis_test_${randomBytes(6).toString('hex')}`;
  const admin = await createConnection({ host, port, user, password, dateStrings: true, multipleStatements: false });
  await admin.query(`CREATE DATABASE \`${database}\``);
  await admin.query(`USE \`${database}\``);
  for (const file of sqlFiles) {
    const text = readFileSync(file, 'utf8').replace(/^--.*$/gm, '');
    for (const statement of text.split(/;\s*$/m).map((s) => s.trim()).filter(Boolean)) await admin.query(statement);
  }
  return {
    host,
    port,
    user,
    password,
    database,
    admin,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {});
      await admin.end().catch(() => {});
    },
  };
}
