import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import type { Db, PoolSettings } from './pool.ts';

/** One forward-only schema change. Released migrations are frozen: never edit one, add the next. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Hash of a migration's SQL, recorded when applied so an edited migration is caught. */
export function checksum(migration: Migration): string {
  return createHash('sha256').update(migration.sql).digest('hex').slice(0, 16);
}

/**
 * Applies the service's pending migrations in one transaction under an advisory lock,
 * so two instances starting together apply each migration once.
 */
export async function migrate(db: Db, service: string, migrations: Migration[], log?: Logger): Promise<number[]> {
  const versions = migrations.map((m) => m.version);
  if (new Set(versions).size !== versions.length) throw new Error(`${service}: duplicate migration versions`);
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('angelis.migrate.' || $1::text))`, [service]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      service text NOT NULL, version int NOT NULL, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))`);
    const { rows } = await tx.query<{ version: number; checksum: string; name: string }>(
      'SELECT version, checksum, name FROM schema_migrations WHERE service = $1',
      [service],
    );
    const applied = new Map(rows.map((r) => [r.version, r]));
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      const previous = applied.get(m.version);
      if (previous) {
        if (previous.checksum !== checksum(m)) {
          throw new Error(`${service}: migration ${m.version} (${m.name}) was edited after it was applied`);
        }
        continue;
      }
      await tx.query(m.sql);
      await tx.query('INSERT INTO schema_migrations (service, version, name, checksum) VALUES ($1, $2, $3, $4)', [
        service,
        m.version,
        m.name,
        checksum(m),
      ]);
      done.push(m.version);
      log?.info({ schema: service, version: m.version, name: m.name }, 'migration applied');
    }
    return done;
  });
}

async function withAdminClient<T>(settings: PoolSettings, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: 'postgres',
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the settings' database when it does not exist yet. */
export async function ensureDatabase(settings: PoolSettings): Promise<boolean> {
  return withAdminClient(settings, async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [settings.database]);
    if (rowCount) return false;
    try {
      await c.query(`CREATE DATABASE ${pg.escapeIdentifier(settings.database)}`);
    } catch (err) {
      // Another instance created it between our check and our CREATE.
      if ((err as { code?: string }).code !== '42P04') throw err;
    }
    return true;
  });
}

/** Drops the settings' database, disconnecting its sessions (tests and benchmarks only). */
export async function dropDatabase(settings: PoolSettings): Promise<void> {
  await withAdminClient(settings, (c) =>
    c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(settings.database)} WITH (FORCE)`),
  );
}
