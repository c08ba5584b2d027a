import type { LakeStorage } from '../storage/lake-storage.ts';
import { applyCommit, deserialiseState, emptyCommitState, serialiseState, type CommitRecord, type CommitState } from './commit-state.ts';
import { commitPath, snapshotPath } from './lake-paths.ts';

/** Thrown when commit `n` already exists: another writer got there first. */
export class CommitConflict extends Error {
  readonly source: string;
  readonly n: number;

  constructor(source: string, n: number) {
    super(`${source}: commit ${n} already exists; another writer is active or a replay was requested`);
    this.source = source;
    this.n = n;
    this.name = 'CommitConflict';
  }
}

const PROBE_WINDOW = 16;
/** Rewrite the snapshot after this many commits, so a restart reads few commit records. */
export const SNAPSHOT_EVERY = 500;

/**
 * Reads a source's commit log: the snapshot, if any, then every commit after it. Commit
 * numbers are dense, so the log's end is the first number with no record; records are
 * fetched a window at a time instead of listing the folder.
 */
export async function readCommitLog(storage: LakeStorage, source: string): Promise<CommitState> {
  const snapshot = await storage.get(snapshotPath(source));
  let state = snapshot ? deserialiseState(snapshot.toString()) : emptyCommitState();
  for (;;) {
    const numbers = Array.from({ length: PROBE_WINDOW }, (_, i) => state.n + 1 + i);
    const records = await Promise.all(numbers.map((n) => storage.get(commitPath(source, n))));
    for (const record of records) {
      if (!record) return state;
      state = applyCommit(state, JSON.parse(record.toString()) as CommitRecord);
    }
  }
}

/** Writes commit `record.n` if nobody has; a `CommitConflict` otherwise. */
export async function appendCommit(storage: LakeStorage, record: CommitRecord): Promise<void> {
  const created = await storage.create(commitPath(record.source, record.n), JSON.stringify(record));
  if (!created) throw new CommitConflict(record.source, record.n);
}

/** Stores the state as the source's snapshot. Derived data: losing or repeating it is harmless. */
export async function writeSnapshot(storage: LakeStorage, source: string, state: CommitState): Promise<void> {
  await storage.put(snapshotPath(source), serialiseState(state));
}
