import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../platform/logger.ts';
import type { PoolSettings } from '../platform/postgres/pool.ts';
import type { LakeSource } from '../schema/lake/index.ts';
import { BatchWriter } from './lake/batch-writer.ts';
import { appendCommit, CommitConflict, SNAPSHOT_EVERY, writeSnapshot } from './lake/commit-log.ts';
import { applyCommit, type CommitRecord, type CommitState } from './lake/commit-state.ts';
import { compactSource } from './lake/compaction.ts';
import { forEachConcurrently } from './lake/concurrently.ts';
import { openDuckDb } from './lake/duckdb.ts';
import { Lease, LeaseLost } from './lake/lease.ts';
import { recoverSource } from './lake/recovery.ts';
import type { ProjectorMetrics } from './metrics.ts';
import { EventReader, type FetchedBatch } from './source/event-reader.ts';
import { personalFields } from './sql/raw-events.ts';
import type { LakeStorage } from './storage/lake-storage.ts';

export interface SourceConsumerOptions {
  source: LakeSource;
  /** The source's event store (read only). */
  connection: PoolSettings;
  storage: LakeStorage;
  /** Local scratch folder for CSV batches and staged Parquet. */
  workDir: string;
  pseudonymKey: string;
  batchSize: number;
  leaseTtlMs: number;
  pollMs: number;
  /** Unique per process: who holds the lease. */
  owner: string;
  compactMinFiles: number;
  /** 0: never compact while running. */
  compactIntervalMs: number;
  log: Logger;
  metrics?: ProjectorMetrics;
  /** Return once the lake has caught up with the source (replay, tests), instead of waiting for more. */
  untilCaughtUp?: boolean;
  /** Called after every commit (progress bars, tests). */
  onCommit?: (record: CommitRecord, state: CommitState) => void;
}

/**
 * Projects one source's events into the lake, exactly once as readers of the commit log
 * see it: under the source's lease, recover (drop uncommitted files), then loop: read a
 * batch after the last commit's checkpoint, write its Parquet files, create the next
 * commit record. Reading batch k+1 from PostgreSQL overlaps writing batch k in DuckDB.
 */
export class SourceConsumer {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private notified = false;

  constructor(private readonly options: SourceConsumerOptions) {}

  /** Starts the consumer in the background; `done` settles when it stops. */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  /** Stops after the batch in hand (committed or abandoned) and releases the lease. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.running?.catch(() => {});
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    const { source, log, leaseTtlMs, storage, owner, metrics } = this.options;
    const name = source.name;
    let backoff = 500;
    while (!this.stopped) {
      const lease = new Lease({ storage, source: name, owner, ttlMs: leaseTtlMs, log });
      try {
        await lease.acquire(this.abort.signal);
        const caughtUp = await this.session(lease);
        backoff = 500;
        if (caughtUp) break;
      } catch (err) {
        if (this.stopped) break;
        const kind = err instanceof LeaseLost ? 'lease_lost' : err instanceof CommitConflict ? 'commit_conflict' : 'batch';
        metrics?.errors.inc({ source: name, kind });
        log.error({ err, source: name, kind }, 'projector session failed; recovering');
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, 30_000);
      } finally {
        await lease.release().catch(() => {});
      }
    }
  }

  /** One lease-holding session: recover, then project until stopped. True when caught up (untilCaughtUp). */
  private async session(lease: Lease): Promise<boolean> {
    const o = this.options;
    const name = o.source.name;
    const workDir = join(o.workDir, name);
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    let state = await recoverSource(o.storage, name, o.source.tables, o.log);
    const reader = new EventReader(o.connection, workDir);
    const duck = await openDuckDb({ pseudonymKey: o.pseudonymKey, tempDirectory: join(workDir, 'duckdb') });
    const tablesConnection = await duck.connect().catch((err: unknown) => {
      duck.close();
      throw err;
    });
    const writer = new BatchWriter(duck.connection, tablesConnection, name, o.source.tables, personalFields(o.source.tables));
    let pending: Promise<FetchedBatch> | undefined;
    let lastCompaction = Date.now();
    let lastLagCheck = 0;
    try {
      await reader.connect();
      const unlisten = reader.onCommit(() => {
        this.notified = true;
        this.wake?.();
      });
      try {
        const fetch = (after: CommitState['checkpoint']) => {
          this.notified = false;
          const started = performance.now();
          const p = reader.fetch(after, o.batchSize);
          void p.then(() => o.metrics?.stageSeconds.observe({ source: name, stage: 'fetch' }, (performance.now() - started) / 1000), () => {});
          return p;
        };
        pending = fetch(state.checkpoint);
        while (!this.stopped) {
          const batch = await pending;
          pending = undefined;
          if (batch.rows === 0) {
            await rm(batch.file, { force: true });
            if (Date.now() - lastLagCheck > 5_000) {
              lastLagCheck = Date.now();
              await this.refreshLag(reader, state);
            }
            // Caught up means nothing committed is left, not merely an empty batch: events of a
            // transaction stay invisible while any older transaction in the cluster is open.
            if (o.untilCaughtUp && (await reader.head(state.checkpoint)).behind === 0) return true;
            if (o.compactIntervalMs > 0 && Date.now() - lastCompaction > o.compactIntervalMs) {
              lastCompaction = Date.now();
              state = await this.compact(duck.connection, state, lease, workDir);
            }
            await this.waitForCommit();
            pending = fetch(state.checkpoint);
            continue;
          }
          // Pipeline: PostgreSQL produces the next batch while DuckDB writes this one.
          pending = fetch(batch.to);
          state = await this.commitBatch(writer, batch, state, lease, workDir);
          if (Date.now() - lastLagCheck > 5_000 && batch.rows < o.batchSize) {
            lastLagCheck = Date.now();
            await this.refreshLag(reader, state);
          }
        }
        return false;
      } finally {
        unlisten();
      }
    } finally {
      if (pending) await pending.then((b) => rm(b.file, { force: true }), () => {});
      await reader.close();
      duck.close();
    }
  }

  /** Writes a batch's files, then its commit record; the batch is visible from that moment. */
  private async commitBatch(writer: BatchWriter, batch: FetchedBatch, state: CommitState, lease: Lease, workDir: string): Promise<CommitState> {
    const o = this.options;
    const name = o.source.name;
    const n = state.n + 1;
    const timer = (stage: string) => {
      const started = performance.now();
      return () => o.metrics?.stageSeconds.observe({ source: name, stage }, (performance.now() - started) / 1000);
    };
    let done = timer('parquet');
    const stageDir = join(workDir, `stage-${n}`);
    const staged = await writer.write(batch.file, stageDir);
    await rm(batch.file, { force: true });
    done();
    lease.assertHeld();
    done = timer('upload');
    await forEachConcurrently(staged, 8, (f) => o.storage.putFile(f.path, f.local));
    await rm(stageDir, { recursive: true, force: true });
    done();
    done = timer('commit');
    const record: CommitRecord = {
      n, source: name, kind: 'batch', checkpoint: batch.to, events: batch.rows,
      lastPosition: batch.to.globalPosition,
      added: staged.map(({ path, rows }) => ({ path, rows })), removed: [],
      committedAt: new Date().toISOString(), lastOccurredAt: batch.lastOccurredAt,
    };
    lease.assertHeld();
    await appendCommit(o.storage, record);
    done();
    const next = applyCommit(state, record);
    if (next.n % SNAPSHOT_EVERY === 0) await writeSnapshot(o.storage, name, next);
    const m = o.metrics;
    if (m) {
      m.batchEvents.observe({ source: name }, batch.rows);
      m.events.inc({ source: name }, batch.rows);
      m.files.inc({ source: name, kind: 'batch' }, staged.length);
      m.committedPosition.set({ source: name }, batch.to.globalPosition);
      if (batch.lastOccurredAt) m.commitLatency.observe({ source: name }, Math.max(0, Date.now() - Date.parse(batch.lastOccurredAt)) / 1000);
    }
    o.onCommit?.(record, next);
    return next;
  }

  private async compact(duck: Parameters<typeof compactSource>[0]['duck'], state: CommitState, lease: Lease, workDir: string): Promise<CommitState> {
    const o = this.options;
    const started = performance.now();
    const result = await compactSource({
      storage: o.storage, duck, source: o.source.name, state, minFiles: o.compactMinFiles, workDir, assertHeld: () => lease.assertHeld(),
    });
    if (result.merged > 0) {
      o.metrics?.stageSeconds.observe({ source: o.source.name, stage: 'compaction' }, (performance.now() - started) / 1000);
      o.metrics?.files.inc({ source: o.source.name, kind: 'compaction' }, result.merged);
      o.log.info({ source: o.source.name, merged: result.merged, removed: result.removed }, 'compacted partitions');
      o.onCommit?.({ n: result.state.n } as CommitRecord, result.state);
    }
    return result.state;
  }

  private async refreshLag(reader: EventReader, state: CommitState): Promise<void> {
    const m = this.options.metrics;
    if (!m) return;
    const head = await reader.head(state.checkpoint);
    const name = this.options.source.name;
    m.lagEvents.set({ source: name }, head.behind);
    const oldestPending = head.behind > 0 && state.lastOccurredAt ? Date.now() - Date.parse(state.lastOccurredAt) : 0;
    m.lagSeconds.set({ source: name }, Math.max(0, oldestPending) / 1000);
  }

  /** Sleeps until a source transaction commits (NOTIFY), the poll interval passes, or stop. */
  private waitForCommit(): Promise<void> {
    if (this.notified || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.pollMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
