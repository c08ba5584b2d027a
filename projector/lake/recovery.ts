import type { Logger } from '../../platform/logger.ts';
import type { LakeTable } from '../../schema/lake/contract.ts';
import type { LakeStorage } from '../storage/lake-storage.ts';
import { readCommitLog, writeSnapshot } from './commit-log.ts';
import type { CommitState } from './commit-state.ts';
import { forEachConcurrently } from './concurrently.ts';
import { sourceDataFolders } from './lake-paths.ts';

/** The source's data files that no commit names: leftovers of a batch or compaction that never committed. */
export async function findOrphans(storage: LakeStorage, source: string, tables: LakeTable[], state: CommitState): Promise<string[]> {
  const orphans: string[] = [];
  for (const { folder, owns } of sourceDataFolders(source, tables)) {
    for (const object of await storage.list(folder)) {
      if (owns(object.path) && !state.live.has(object.path)) orphans.push(object.path);
    }
  }
  return orphans;
}

/**
 * Makes the lake match the commit log before resuming: reads the log, deletes every
 * data file of the source that no commit names, and refreshes the snapshot. Run only
 * while holding the source's lease.
 */
export async function recoverSource(
  storage: LakeStorage,
  source: string,
  tables: LakeTable[],
  log?: Logger,
): Promise<CommitState> {
  const state = await readCommitLog(storage, source);
  const orphans = await findOrphans(storage, source, tables, state);
  await forEachConcurrently(orphans, 16, (path) => storage.delete(path));
  if (state.n > 0) await writeSnapshot(storage, source, state);
  log?.info({ source, commit: state.n, checkpoint: state.checkpoint, liveFiles: state.live.size, orphansRemoved: orphans.length }, 'lake recovered');
  return state;
}
