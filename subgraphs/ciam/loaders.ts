import DataLoader from 'dataloader';
import { byKey, perArgs } from '../../platform/graphql/loaders.ts';
import type { Page } from '../../platform/graphql/pagination.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import { postgresEventStore } from '../../platform/event-store/postgres.ts';
import type { RecordedEvent } from '../../platform/event-store/types.ts';
import { readModel } from './store/read-model.ts';

/** Every CIAM read goes through these, created once per request. */
export function createLoaders(db: Db) {
  const q = db.pool;
  return {
    user: byKey((ids) => readModel.users(q, ids), (r) => r.id),
    worker: byKey((ids) => readModel.workers(q, ids), (r) => r.profileId),
    auditTrail: perArgs((page: Page) =>
      new DataLoader<string, RecordedEvent[]>(async (ids) => {
        const found = await postgresEventStore.readBySubjects(q, ids, page.afterPosition, page.limit + 1);
        return ids.map((id) => found.get(id) ?? []);
      }),
    ),
  };
}

export type CiamLoaders = ReturnType<typeof createLoaders>;
