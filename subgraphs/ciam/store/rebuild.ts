import type { Db } from '../../../platform/postgres/pool.ts';
import { rebuildReadModel } from '../../../platform/event-store/rebuild.ts';
import { ciamReadTables } from './migrations.ts';
import { projectCiam } from './projection.ts';

/** Truncates the CIAM read tables and replays every event; returns the events replayed. */
export function rebuildCiam(db: Db, onProgress?: (replayed: number) => void): Promise<number> {
  return rebuildReadModel(db, ciamReadTables, projectCiam, onProgress);
}
