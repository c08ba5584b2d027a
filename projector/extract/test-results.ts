import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../platform/logger.ts';
import type { TestResultSource } from '../../platform/sources/adapter.ts';
import type { TestResult } from '../../platform/sources/results.ts';
import type { LakeSource } from '../../schema/lake/contract.ts';
import { testResultsTable } from '../../schema/lake/test-results.ts';
import { appendCommit } from '../lake/commit-log.ts';
import type { CommitState, CommittedFile, Watermark } from '../lake/commit-state.ts';
import { openDuckDb, PARQUET_OPTIONS, type DuckDb } from '../lake/duckdb.ts';
import { tableFilePath } from '../lake/lake-paths.ts';
import { Lease } from '../lake/lease.ts';
import { recoverSource } from '../lake/recovery.ts';
import { literal } from '../sql/literals.ts';
import { pseudonymSql } from '../sql/pseudonym.ts';
import type { LakeStorage } from '../storage/lake-storage.ts';

/**
 * The projector's second kind of source: an external database read by a watermark (not an
 * event log). It shares the event path's lake machinery, not its reader: the same lease,
 * commit log (its checkpoint is the watermark, in the lake), recovery of uncommitted files
 * and Parquet options. Each pass reads rows changed since the watermark minus an overlap
 * window (rows that commit late with an earlier change time are read again), drops those
 * already extracted (by id and change time), writes the rest as change rows of
 * `test_results` and commits them with the new watermark. A source without a change column
is read by id from `overlapIds` below the last id extracted (rows committed out of id order
within that window land; `seen` then holds the window's ids). A crash before the commit leaves
 * files that recovery deletes; the next pass reads the same rows again: exactly once.
 * A source that is down is retried next pass, from the same watermark.
 */

/** A source the projector extracts: its lake part (commit log under its name) and its adapter. */
export interface ExtractionSourceOptions {
  lake: LakeSource;
  /** Opens the source; null when it is not configured (nothing to extract). */
  open(): Promise<TestResultSource | null>;
}

export interface ExtractorOptions {
  name: string;
  source: TestResultSource;
  storage: LakeStorage;
  owner: string;
  log: Logger;
  pseudonymKey: string;
  workDir: string;
  leaseTtlMs: number;
  /** Between passes. */
  intervalMs: number;
  /** Rows per read (and per commit at most). */
  batchSize: number;
  /** How far before the watermark each pass starts reading again. */
  overlapMs: number;
  /**
   * For a source without a change column: how many ids below the last one extracted each
   * pass reads again (a row committed after a greater id, e.g. id 10 after 11, lands if it
   * is within this window). Default `DEFAULT_OVERLAP_IDS`.
   */
  overlapIds?: number;
  /** Stop after the first pass that found nothing new (replay, tests). */
  untilCaughtUp?: boolean;
}

/** Ids read again below the last one extracted when a source has no change column. */
export const DEFAULT_OVERLAP_IDS = 1_000;

const EMPTY: Watermark = { updatedAt: null, lastId: 0, seen: [] };
/** Change rows' positions: commit number times this, plus the row's index in its commit. */
const POSITIONS_PER_COMMIT = 1_000_000;

const seenKey = (r: TestResult) => `${r.sourceId}@${r.updatedAt?.toISOString() ?? ''}`;

export class ResultExtractor {
  private stopped = false;
  private wake: (() => void) | null = null;
  private lease: Lease;
  private state: CommitState | null = null;

  private readonly o: ExtractorOptions;

  constructor(o: ExtractorOptions) {
    this.o = o;
    this.lease = new Lease({ storage: o.storage, source: o.name, owner: o.owner, ttlMs: o.leaseTtlMs, log: o.log });
  }

  private running: Promise<void> | null = null;

  /** Holds the lease, recovers the lake, then extracts every `intervalMs` until stopped. */
  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  private async loop(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    try {
      await this.lease.acquire(abort.signal);
    } catch {
      return;
    }
    const duck = await openDuckDb({ pseudonymKey: this.o.pseudonymKey });
    try {
      this.state = await recoverSource(this.o.storage, this.o.name, [testResultsTable], this.o.log);
      while (!this.stopped) {
        let extracted = 0;
        try {
          extracted = await this.pass(duck);
        } catch (err) {
          if (this.o.untilCaughtUp) throw err;
          if ((err as { extensions?: { code?: string } }).extensions?.code === 'SOURCE_UNAVAILABLE') {
            this.o.log.warn({ source: this.o.name }, 'source unavailable: extraction resumes from the watermark next pass');
          } else {
            // A failed commit (lake, lease): start the next pass from what the commit log says.
            this.o.log.error({ source: this.o.name, err }, 'extraction pass failed; retrying from the commit log');
            if (!this.lease.isHeld()) await this.lease.acquire(this.abort?.signal).catch(() => {});
            this.state = await recoverSource(this.o.storage, this.o.name, [testResultsTable], this.o.log).catch(() => this.state);
          }
        }
        if (this.o.untilCaughtUp) {
          if (extracted === 0) break;
          continue; // catching up: the next pass at once
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.o.intervalMs);
          this.wake = () => (clearTimeout(timer), resolve());
        });
      }
    } finally {
      duck.close();
      await this.lease.release();
    }
  }

  private abort: AbortController | null = null;

  /** Stops after the pass in flight (and waits for it). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.running?.catch(() => {});
  }

  /** One pass: every row changed since the watermark (minus the overlap), committed in batches. Returns rows committed. */
  async pass(duck: DuckDb): Promise<number> {
    let state = this.state!;
    let wm = state.watermark ?? EMPTY;
    const overlapIds = this.o.overlapIds ?? DEFAULT_OVERLAP_IDS;
    // By change time (from the overlap window's start), or, for a source without one, by id
    // from the id window's start (rows committed out of id order are read again; `seen` drops the extracted).
    let cursor = wm.updatedAt ? { updatedAt: new Date(Date.parse(wm.updatedAt) - this.o.overlapMs).toISOString(), afterId: 0 } : { updatedAt: null as string | null, afterId: Math.max(0, wm.lastId - overlapIds) };
    let committed = 0;
    for (;;) {
      const page = await this.o.source.changedSince(cursor, this.o.batchSize);
      if (!page.last) break;
      const seen = new Set(wm.seen);
      const fresh = page.results.filter((r) => !seen.has(seenKey(r)));
      // Past every row read, malformed ones included (counted and logged by the adapter, never extracted).
      cursor = page.last;
      if (fresh.length > 0) {
        const next = nextWatermark(wm, fresh, this.o.overlapMs, overlapIds);
        state = await this.commit(duck, state, fresh, next);
        wm = next;
        committed += fresh.length;
      }
      if (page.read < this.o.batchSize) break;
    }
    this.state = state;
    return committed;
  }

  private async commit(duck: DuckDb, state: CommitState, rows: TestResult[], watermark: Watermark): Promise<CommitState> {
    const n = state.n + 1;
    const dir = join(this.o.workDir, `${this.o.name}-${n}`);
    await mkdir(dir, { recursive: true });
    const added: CommittedFile[] = [];
    try {
      const c = duck.connection;
      await c.run('CREATE OR REPLACE TEMP TABLE extracted (provider VARCHAR, source_id VARCHAR, rut VARCHAR, faena_code VARCHAR, taken_at VARCHAR, result VARCHAR, score DOUBLE, source_updated_at VARCHAR, _position BIGINT, _changed_at VARCHAR)');
      const appender = await c.createAppender('extracted');
      rows.forEach((r, i) => {
        appender.appendVarchar(r.provider);
        appender.appendVarchar(r.sourceId);
        appender.appendVarchar(r.rut);
        appender.appendVarchar(r.faenaCode);
        appender.appendVarchar(r.takenAt.toISOString());
        appender.appendVarchar(r.result);
        if (r.score === null) appender.appendNull();
        else appender.appendDouble(r.score);
        if (r.updatedAt) appender.appendVarchar(r.updatedAt.toISOString());
        else appender.appendNull();
        appender.appendBigInt(BigInt(n * POSITIONS_PER_COMMIT + i));
        appender.appendVarchar((r.updatedAt ?? r.takenAt).toISOString());
        appender.endRow();
      });
      appender.closeSync();
      const ts = (e: string) => `CAST(strptime(${e}, '%Y-%m-%dT%H:%M:%S.%gZ') AS TIMESTAMP)`;
      const dates = (await c.runAndReadAll(`SELECT DISTINCT CAST(${ts('_changed_at')} AS DATE)::VARCHAR AS d FROM extracted ORDER BY d`)).getRowObjects().map((r) => String(r.d));
      for (const date of dates) {
        const path = tableFilePath(testResultsTable.name, this.o.name, date, n, n);
        const local = join(dir, `${date}.parquet`);
        const select = `SELECT provider, source_id, ${pseudonymSql('rut', 'rut')} AS rut, faena_code, ${ts('taken_at')} AS taken_at, result, score,
          ${ts('source_updated_at')} AS source_updated_at, _position, provider || ':' || source_id || '@' || coalesce(source_updated_at, '') AS _event_id,
          'TestResultExtracted' AS _event_type, ${ts('_changed_at')} AS _occurred_at, 'upsert' AS _op, false AS _deleted
          FROM extracted WHERE CAST(${ts('_changed_at')} AS DATE) = CAST(${literal(date)} AS DATE)`;
        const count = Number((await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM (${select})`)).getRowObjects()[0].n);
        await c.run(`COPY (${select}) TO ${literal(local)} (${PARQUET_OPTIONS})`);
        this.lease.assertHeld();
        await this.o.storage.putFile(path, local);
        added.push({ path, rows: count });
      }
      this.lease.assertHeld();
      const lastChange = rows.reduce((m, r) => ((r.updatedAt ?? r.takenAt) > m ? (r.updatedAt ?? r.takenAt) : m), new Date(0));
      const record = {
        n,
        source: this.o.name,
        kind: 'batch' as const,
        checkpoint: { transactionId: '0', globalPosition: watermark.lastId },
        events: rows.length,
        firstPosition: n * POSITIONS_PER_COMMIT,
        lastPosition: n * POSITIONS_PER_COMMIT + rows.length - 1,
        added,
        removed: [],
        committedAt: new Date().toISOString(),
        lastOccurredAt: lastChange.toISOString(),
        watermark,
      };
      await appendCommit(this.o.storage, record);
      const live = new Map(state.live);
      for (const f of added) live.set(f.path, f.rows);
      this.o.log.info({ source: this.o.name, commit: n, rows: rows.length, watermark: { updatedAt: watermark.updatedAt, lastId: watermark.lastId } }, 'test results extracted');
      return { ...state, n, checkpoint: record.checkpoint, live, events: state.events + rows.length, lastCommittedAt: record.committedAt, lastOccurredAt: record.lastOccurredAt, watermark };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/**
 * The watermark after extracting `rows`: the latest change time and id, and what was seen
 * within the overlap window (by change time; for rows without one, by id: the ids within
 * `overlapIds` of the last).
 */
export function nextWatermark(wm: Watermark, rows: TestResult[], overlapMs: number, overlapIds = DEFAULT_OVERLAP_IDS): Watermark {
  let updatedAt = wm.updatedAt;
  let lastId = wm.lastId;
  for (const r of rows) {
    const at = r.updatedAt?.toISOString() ?? null;
    if (at && (!updatedAt || at > updatedAt)) updatedAt = at;
    if (r.position > lastId) lastId = r.position;
  }
  const floor = updatedAt ? new Date(Date.parse(updatedAt) - overlapMs).toISOString() : null;
  const keep = (key: string) => {
    const at = key.slice(key.indexOf('@') + 1);
    if (at === '') return Number(key.slice(0, key.indexOf('@'))) > lastId - overlapIds;
    return floor !== null && at >= floor;
  };
  return { updatedAt, lastId, seen: [...new Set([...wm.seen, ...rows.map(seenKey)])].filter(keep) };
}
