import type pg from 'pg';
import type { Config } from '../config.ts';
import { PostgresEventStore } from '../event-store/postgres.ts';
import type { Logger } from '../logger.ts';
import { ensureDatabase, migrate, type Migration } from '../postgres/migrate.ts';
import { Db, poolSettings } from '../postgres/pool.ts';
import { withEmbeddedDefaults } from '../postgres/embedded.ts';
import type { EventSourceSettings, Storage } from './definition.ts';

/** An owned domain's PostgreSQL database: its pool, its event store, its read tables. */
export interface PostgresStorage extends Storage<pg.PoolClient> {
  db: Db;
  store: PostgresEventStore;
}

/** Where the projector reads a PostgreSQL domain's events (the embedded server of a running `npm start` when no host is set). */
export function postgresEventSource(database: (config: Config) => string) {
  return (config: Config): EventSourceSettings => {
    const resolved = withEmbeddedDefaults(config);
    return { kind: 'postgres', settings: poolSettings(resolved, database(resolved), 'angelis-projector') };
  };
}

/**
 * Opens a domain's own PostgreSQL database: created on first start (a managed server may
 * have made it already), migrated under an advisory lock. A `db` passed in options (tests)
 * is used as it is and left open.
 */
export function postgresStorage(o: { service: string; database: (config: Config) => string; migrations: Migration[] }) {
  return async (config: Config, log: Logger, options: { db?: Db }): Promise<PostgresStorage> => {
    const db = options.db ?? new Db(poolSettings(config, o.database(config), `angelis-${o.service}`));
    if (!options.db) await ensureDatabase(db.settings);
    await migrate(db, o.service, o.migrations, log);
    return {
      db,
      store: new PostgresEventStore(db),
      ready: async () => (await db.query('SELECT 1')).rowCount === 1,
      close: async () => {
        if (!options.db) await db.end();
      },
    };
  };
}
