import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config.ts';
import { dropDatabase, ensureDatabase, migrate, type Migration } from '../postgres/migrate.ts';
import { Db, poolSettings, type PoolSettings } from '../postgres/pool.ts';

export interface TestDatabase {
  settings: PoolSettings;
  db: Db;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, uniquely named database on the local PostgreSQL server (127.0.0.1:5432 unless
 * ANGELIS_POSTGRES_DB_HOST/PORT say otherwise), migrated, with a small pool.
 */
export async function createTestDatabase(
  prefix: string,
  migrations: { service: string; migrations: Migration[] }[] = [],
  poolSize = 5,
): Promise<TestDatabase> {
  const config = loadConfig({ ...process.env, ANGELIS_POSTGRES_DB_HOST: process.env.ANGELIS_POSTGRES_DB_HOST ?? '127.0.0.1' });
  const name = `t_${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`.toLowerCase();
  const settings = { ...poolSettings(config, name, `test-${prefix}`), size: poolSize, overflow: poolSize };
  await ensureDatabase(settings);
  const db = new Db(settings);
  for (const m of migrations) await migrate(db, m.service, m.migrations);
  return {
    settings,
    db,
    async drop() {
      await db.end().catch(() => {});
      await dropDatabase(settings);
    },
  };
}
