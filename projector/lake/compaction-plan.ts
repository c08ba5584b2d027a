import { datasetOf, parseDataFile } from './lake-paths.ts';

/** One partition's small files to merge, and the merged file's name. */
export interface CompactionPlan {
  partition: string;
  inputs: string[];
  rows: number;
  output: string;
}

/**
 * Picks partitions holding at least `minFiles` live files and names each merged file
 * from the positions it will hold (first of the first input, last of the last), in the
 * same form as batch files. Pure: the caller reads and writes.
 */
export function planCompaction(live: Map<string, number>, minFiles: number, maxPartitions = 64): CompactionPlan[] {
  const partitions = new Map<string, { path: string; first: number; last: number; rows: number }[]>();
  for (const [path, rows] of live) {
    const parsed = parseDataFile(path);
    if (!parsed) continue;
    const files = partitions.get(parsed.partition) ?? [];
    files.push({ path, first: parsed.first, last: parsed.last, rows });
    partitions.set(parsed.partition, files);
  }
  const plans: CompactionPlan[] = [];
  for (const [partition, files] of partitions) {
    if (files.length < minFiles) continue;
    files.sort((a, b) => a.first - b.first);
    const first = files[0].first;
    const last = Math.max(...files.map((f) => f.last));
    const sample = files[0].path.slice(partition.length);
    const prefix = /^([a-z0-9_]+-)?\d+-\d+\.parquet$/.exec(sample)?.[1] ?? '';
    const output = `${partition}${prefix}${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}.parquet`;
    if (live.has(output)) continue; // already the name of a live file: nothing sensible to merge into
    plans.push({ partition, inputs: files.map((f) => f.path), rows: files.reduce((s, f) => s + f.rows, 0), output });
    if (plans.length >= maxPartitions) break;
  }
  return plans;
}

/** Live files per dataset (raw type folder or table), for `status`. */
export function filesPerDataset(live: Map<string, number>): Map<string, { files: number; rows: number }> {
  const out = new Map<string, { files: number; rows: number }>();
  for (const [path, rows] of live) {
    const key = datasetOf(path);
    const s = out.get(key) ?? { files: 0, rows: 0 };
    out.set(key, { files: s.files + 1, rows: s.rows + rows });
  }
  return out;
}
