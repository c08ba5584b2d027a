import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LakeStorage } from '../storage/lake-storage.ts';
import { literal, literals } from '../sql/literals.ts';
import { appendCommit } from './commit-log.ts';
import { applyCommit, type CommitRecord, type CommitState } from './commit-state.ts';
import { forEachConcurrently } from './concurrently.ts';
import { planCompaction } from './compaction-plan.ts';
import { PARQUET_OPTIONS } from './duckdb.ts';

export interface CompactOptions {
  storage: LakeStorage;
  duck: DuckDBConnection;
  source: string;
  state: CommitState;
  minFiles: number;
  workDir: string;
  /** Called before the commit: throws when the lease is no longer held. */
  assertHeld(): void;
}

/**
 * Merges each crowded partition's files into one and commits the swap like a batch
 * (same create-if-absent commit; the checkpoint does not move). Inputs are deleted only
 * after the commit; a crash before it leaves the merged file an orphan, removed on start.
 */
export async function compactSource(options: CompactOptions): Promise<{ state: CommitState; merged: number; removed: number }> {
  const { storage, duck, source, minFiles, workDir } = options;
  let state = options.state;
  const plans = planCompaction(state.live, minFiles);
  if (plans.length === 0) return { state, merged: 0, removed: 0 };
  const dir = join(workDir, `compaction-${state.n + 1}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  try {
    const added: CommitRecord['added'] = [];
    for (const [i, plan] of plans.entries()) {
      const inputs: string[] = [];
      for (const path of plan.inputs) inputs.push(await storage.localCopy(path, join(dir, `in-${i}`)));
      const out = join(dir, `out-${i}.parquet`);
      // hive_partitioning off: the date lives in the folder, as in every batch file.
      await duck.run(`COPY (SELECT * FROM read_parquet([${literals(inputs)}], hive_partitioning = false, union_by_name = true))
        TO ${literal(out)} (${PARQUET_OPTIONS})`);
      await storage.putFile(plan.output, out);
      added.push({ path: plan.output, rows: plan.rows });
    }
    const record: CommitRecord = {
      n: state.n + 1, source, kind: 'compaction', checkpoint: state.checkpoint, events: 0, added,
      removed: plans.flatMap((p) => p.inputs), committedAt: new Date().toISOString(),
    };
    options.assertHeld();
    await appendCommit(storage, record);
    state = applyCommit(state, record);
    await forEachConcurrently(record.removed, 16, (path) => storage.delete(path));
    return { state, merged: added.length, removed: record.removed.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
