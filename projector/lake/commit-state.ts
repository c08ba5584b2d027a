import type { Checkpoint } from '../../platform/event-store/types.ts';

/** A file a commit made visible, with its row count. */
export interface CommittedFile {
  path: string;
  rows: number;
}

/**
 * One record of a source's commit log (`_commits/<source>/<n>.json`). A batch makes its
 * files visible and moves the checkpoint; a compaction swaps files without moving it;
 * a reset drops every file and moves the checkpoint back (replay).
 */
export interface CommitRecord {
  n: number;
  source: string;
  kind: 'batch' | 'compaction' | 'reset';
  /** Where the source's reader resumes after this commit. */
  checkpoint: Checkpoint;
  events: number;
  firstPosition?: number;
  lastPosition?: number;
  added: CommittedFile[];
  removed: string[];
  committedAt: string;
  /** occurred_at of the batch's last event: the lake is fresh up to here. */
  lastOccurredAt?: string;
  /** Extracted sources (no event log): where the next extraction starts. */
  watermark?: Watermark;
}

/**
 * An extracted source's position: the latest change time and id extracted, and the rows
 * (`<id>@<change time>`) already extracted within the overlap window, so late rows are
 * read again and written once.
 */
export interface Watermark {
  updatedAt: string | null;
  lastId: number;
  seen: string[];
}

/** What the commit log adds up to after commit `n`. */
export interface CommitState {
  n: number;
  checkpoint: Checkpoint;
  live: Map<string, number>;
  events: number;
  lastCommittedAt?: string;
  lastOccurredAt?: string;
  watermark?: Watermark;
}

/** The state before any commit. */
export function emptyCommitState(): CommitState {
  return { n: 0, checkpoint: { transactionId: '0', globalPosition: 0 }, live: new Map(), events: 0 };
}

/** Applies one commit (pure apart from updating the `live` map it is given). */
export function applyCommit(state: CommitState, record: CommitRecord): CommitState {
  if (record.n !== state.n + 1) throw new Error(`commit log: expected commit ${state.n + 1}, got ${record.n}`);
  const live = state.live;
  if (record.kind === 'reset') live.clear();
  for (const path of record.removed) live.delete(path);
  for (const file of record.added) live.set(file.path, file.rows);
  return {
    n: record.n,
    checkpoint: record.checkpoint,
    live,
    events: record.kind === 'reset' ? 0 : state.events + record.events,
    lastCommittedAt: record.committedAt,
    lastOccurredAt: record.kind === 'reset' ? undefined : (record.lastOccurredAt ?? state.lastOccurredAt),
    watermark: record.kind === 'reset' ? undefined : (record.watermark ?? state.watermark),
  };
}

/** The state as JSON, for the snapshot that spares a restart from reading every commit. */
export function serialiseState(state: CommitState): string {
  return JSON.stringify({ ...state, live: [...state.live] });
}

/** Reads a snapshot back. */
export function deserialiseState(json: string): CommitState {
  const raw = JSON.parse(json) as Omit<CommitState, 'live'> & { live: [string, number][] };
  return { ...raw, live: new Map(raw.live) };
}
