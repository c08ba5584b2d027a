import { configFragment, databaseName, fragmentOf, type Config } from '../../platform/config.ts';
import { eventStoreMigration } from '../../platform/event-store/postgres.ts';
import type { EventStore } from '../../platform/event-store/port.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import type { EventSourceSettings, Storage } from '../../platform/service/definition.ts';
import { postgresEventSource, postgresStorage } from '../../platform/service/postgres-storage.ts';
import { z } from 'zod';
import type { SafetyStore } from './store/port.ts';
import { PostgresSafetyStore, safetyDocumentsMigration } from './store/postgres.ts';

/** Safety's own variables: where MongoDB is (production), else the PostgreSQL fallback's database. */
export const safetyConfig = configFragment(['SAFETY', 'MONGO'], {
  /** A MongoDB replica set (transactions, change streams): Safety's production store. */
  ANGELIS_MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// URL').optional(),
  /** The database in MongoDB. */
  ANGELIS_MONGO_DB_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('angelis_safety'),
  /** The PostgreSQL database of the fallback (when ANGELIS_MONGO_URL is unset). */
  ANGELIS_SAFETY_DB_NAME: databaseName.default('angelis_safety'),
});

export const safetyMigrations = [eventStoreMigration, safetyDocumentsMigration];

/** Safety's storage: the event store and the documents, on MongoDB or on PostgreSQL. */
export interface SafetyStorage extends Storage<unknown> {
  kind: 'mongodb' | 'postgres';
  store: EventStore<unknown, unknown>;
  documents: SafetyStore<unknown>;
  /** The PostgreSQL fallback's pool (rebuild, tests); null on MongoDB. */
  db: Db | null;
  /** Replays every event into freshly cleared documents; returns how many. */
  rebuild(onProgress?: (replayed: number) => void): Promise<number>;
}

export interface SafetyStorageOptions {
  /** A PostgreSQL database to use as it is (tests); implies the fallback. */
  db?: Db;
}

/**
 * Opens MongoDB when ANGELIS_MONGO_URL is set, else the PostgreSQL fallback (and says so):
 * no MongoDB server ships with the development machine, and every other domain already
 * runs on PostgreSQL, so Safety then keeps its documents as jsonb beside the same event
 * store the others use.
 */
export async function openSafetyStorage(config: Config, log: Logger, options: SafetyStorageOptions): Promise<SafetyStorage> {
  const own = fragmentOf(config, safetyConfig);
  if (own.ANGELIS_MONGO_URL && !options.db) {
    const { openMongoSafetyStorage } = await import('./store/mongodb-storage.ts');
    log.info({ database: own.ANGELIS_MONGO_DB_NAME }, 'safety storage: MongoDB');
    return openMongoSafetyStorage(own.ANGELIS_MONGO_URL, own.ANGELIS_MONGO_DB_NAME, log);
  }
  if (!options.db) {
    log.warn({ database: own.ANGELIS_SAFETY_DB_NAME }, 'ANGELIS_MONGO_URL is unset: Safety keeps its documents and events in PostgreSQL (the fallback), not MongoDB');
  }
  const pg = await postgresStorage({ service: 'safety', database: () => own.ANGELIS_SAFETY_DB_NAME, migrations: safetyMigrations })(config, log, options);
  const documents = new PostgresSafetyStore(pg.db);
  return {
    ...pg,
    kind: 'postgres',
    documents: documents as SafetyStore<unknown>,
    store: pg.store as EventStore<unknown, unknown>,
    async rebuild(onProgress) {
      const { rebuildReadModel } = await import('../../platform/event-store/rebuild.ts');
      return rebuildReadModel(pg.db, ['safety_documents'], (tx, events) => documents.project(tx, events), onProgress);
    },
  };
}

/** Where the projector reads Safety's events: PostgreSQL in the fallback; MongoDB otherwise (the projector's MongoDB reader). */
export function safetyEventSource(config: Config): EventSourceSettings {
  const own = fragmentOf(config, safetyConfig);
  if (own.ANGELIS_MONGO_URL) return { kind: 'mongodb', url: own.ANGELIS_MONGO_URL, database: own.ANGELIS_MONGO_DB_NAME };
  return postgresEventSource(() => own.ANGELIS_SAFETY_DB_NAME)(config);
}
