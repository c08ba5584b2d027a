import type pg from 'pg';
import { PostgresEventStore } from '../../../platform/event-store/postgres.ts';
import { createTestDatabase } from '../../../platform/testing/postgres.ts';
import { safetyMigrations } from '../storage.ts';
import { PostgresSafetyStore } from './postgres.ts';
import { safetyStoreContract } from './safety-store.contract.ts';

safetyStoreContract<pg.PoolClient>('postgres', async () => {
  const d = await createTestDatabase('safety_store', [{ service: 'safety', migrations: safetyMigrations }], 5);
  return { documents: new PostgresSafetyStore(d.db), events: new PostgresEventStore(d.db), cleanup: () => d.drop() };
});
