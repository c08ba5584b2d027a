import { auditTrailLoaders } from '../../platform/graphql/audit-trail.ts';
import { byKey } from '../../platform/graphql/loaders.ts';
import type { EventStore } from '../../platform/event-store/port.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import { readModel } from './store/read-model.ts';

/** Every CIAM read goes through these, created once per request. */
export function createLoaders(db: Db, events: Pick<EventStore, 'readBySubjects'>) {
  const q = db.pool;
  return {
    user: byKey((ids) => readModel.users(q, ids), (r) => r.id),
    worker: byKey((ids) => readModel.workers(q, ids), (r) => r.profileId),
    auditTrail: auditTrailLoaders(events),
  };
}

export type CiamLoaders = ReturnType<typeof createLoaders>;
