import { describe, expect, it } from 'vitest';
import { applyCommit, deserialiseState, emptyCommitState, serialiseState, type CommitRecord } from './commit-state.ts';
import { planCompaction } from './compaction-plan.ts';

const batch = (n: number, files: string[], removed: string[] = [], kind: CommitRecord['kind'] = 'batch'): CommitRecord => ({
  n, source: 'w', kind, checkpoint: { transactionId: String(n), globalPosition: n * 10 }, events: kind === 'batch' ? 10 : 0,
  added: files.map((path) => ({ path, rows: 5 })), removed, committedAt: `2025-01-0${n}T00:00:00Z`,
});

describe('commit log state', () => {
  it('adds files, swaps compacted ones, resets, and refuses a gap', () => {
    let s = emptyCommitState();
    s = applyCommit(s, batch(1, ['a', 'b']));
    s = applyCommit(s, batch(2, ['c']));
    expect([...s.live.keys()]).toEqual(['a', 'b', 'c']);
    expect(s.events).toBe(20);
    s = applyCommit(s, batch(3, ['ab'], ['a', 'b'], 'compaction'));
    expect([...s.live.keys()].sort()).toEqual(['ab', 'c']);
    expect(s.events).toBe(20);
    expect(deserialiseState(serialiseState(s))).toEqual(s);
    s = applyCommit(s, { ...batch(4, [], [...s.live.keys()], 'reset'), checkpoint: { transactionId: '0', globalPosition: 0 } });
    expect(s.live.size).toBe(0);
    expect(s.events).toBe(0);
    expect(() => applyCommit(s, batch(6, []))).toThrow(/expected commit 5/);
  });
});

describe('compaction plan', () => {
  it('merges crowded partitions only, naming the result from the positions it holds', () => {
    const live = new Map<string, number>([
      ['tables/p/date=2025-01-01/workforce-000000000001-000000000010.parquet', 3],
      ['tables/p/date=2025-01-01/workforce-000000000011-000000000020.parquet', 4],
      ['tables/p/date=2025-01-01/workforce-000000000021-000000000030.parquet', 5],
      ['tables/p/date=2025-01-02/workforce-000000000031-000000000040.parquet', 5],
      ['raw/workforce/X/date=2025-01-01/000000000001-000000000005.parquet', 1],
    ]);
    expect(planCompaction(live, 3)).toEqual([
      {
        partition: 'tables/p/date=2025-01-01/',
        inputs: [...live.keys()].slice(0, 3),
        rows: 12,
        output: 'tables/p/date=2025-01-01/workforce-000000000001-000000000030.parquet',
      },
    ]);
  });
});
