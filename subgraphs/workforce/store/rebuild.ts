import type { Db } from '../../../platform/postgres/pool.ts';
import { rebuildReadModel } from '../../../platform/event-store/rebuild.ts';
import { workforceReadTables } from './migrations.ts';
import { projectWorkforce } from './projection.ts';

/** Truncates the Workforce read tables and replays every event; returns the events replayed. */
export function rebuildWorkforce(db: Db, onProgress?: (replayed: number) => void): Promise<number> {
  return rebuildReadModel(db, workforceReadTables, projectWorkforce, onProgress);
}
