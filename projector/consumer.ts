import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../platform/logger.ts';
import type { LakeSource } from '../schema/lake/contract.ts';
import { BatchWriter, type LoadedBatch } from './lake/batch-writer.ts';
import { appendCommit, CommitConflict, SNAPSHOT_EVERY, writeSnapshot } from './lake/commit-log.ts';
import { applyCommit, type CommitRecord, type CommitState } from './lake/commit-state.ts';
import { compactSource } from './lake/compaction.ts';
import { forEachConcurrently } from './lake/concurrently.ts';
import { openDuckDb } from './lake/duckdb.ts';
import { Lease, LeaseLost } from './lake/lease.ts';
import { recoverSource } from './lake/recovery.ts';
import type { ProjectorMetrics } from './metrics.ts';
import type { EventSourceReader, FetchedBatch } from './source/event-reader.ts';
import { openEventReader, type EventConnection } from './source/open-reader.ts';
import { personalFields } from './sql/raw-events.ts';
import type { LakeStorage } from './storage/lake-storage.ts';

/** After an empty read that follows activity, the next look comes this soon (then doubles up to the poll interval). */
const QUICK_POLL_MS = 20;

/** A batch read from the source and, unless empty, loaded into DuckDB. */
interface PreparedBatch {
  batch: FetchedBatch;
  loaded?: LoadedBatch;
  loadSeconds: number;
}

/** Every this many commits the stage folder tree (empty partition folders) is removed. */
const STAGE_PRUNE_EVERY = 200;

export interface SourceConsumerOptions {
  source: LakeSource;
  /** The source's event store (read only): PostgreSQL or MongoDB. */
  connection: EventConnection;
  /** Opens the reader (default: `openEventReader` for `connection`); tests give a MongoDB reader over a test double. */
  openReader?: (workDir: string) => EventSourceReader;
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
 * commit record. While batch k is written, batch k+1 is loaded into DuckDB and (when
 * batches come full) batch k+2 is read from the source; commits stay strictly in order.
 */
export class SourceConsumer {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private notified = false;

  private readonly options: SourceConsumerOptions;

  constructor(options: SourceConsumerOptions) {
    this.options = options;
  }

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
    const reader = o.openReader?.(workDir) ?? openEventReader(o.connection, workDir);
    const duck = await openDuckDb({ pseudonymKey: o.pseudonymKey, tempDirectory: join(workDir, 'duckdb') });
    const [tablesConnection, loadConnection] = await Promise.all([duck.connect(), duck.connect()]).catch((err: unknown) => {
      duck.close();
      throw err;
    });
    const writer = new BatchWriter(duck.connection, tablesConnection, loadConnection, name, o.source.tables, personalFields(o.source.tables));
    let pending: Promise<PreparedBatch> | undefined;
    let prefetched: { after: CommitState['checkpoint']; batch: Promise<FetchedBatch> } | undefined;
    let lastCompaction = Date.now();
    let lastLagCheck = 0;
    try {
      await reader.connect();
      const unlisten = reader.onCommit(() => {
        this.notified = true;
        this.wake?.();
      });
      try {
        let loads = 0;
        let quietPolls = 0; // empty reads in a row
        const fetch = (after: CommitState['checkpoint'], limit: number): Promise<FetchedBatch> => {
          this.notified = false; // a NOTIFY from now on may be for events this read misses
          const started = performance.now();
          const p = reader.fetch(after, limit);
          void p.then(() => o.metrics?.stageSeconds.observe({ source: name, stage: 'fetch' }, (performance.now() - started) / 1000), () => {});
          return p;
        };
        // Reads a batch from PostgreSQL into a CSV file, then loads it into DuckDB (into the
        // batch table the batch being written does not use). A full batch means more are
        // probably waiting: the next read then starts at once, so PostgreSQL keeps producing
        // while DuckDB loads and writes (one CSV file ahead at most).
        const prepareNow = async (after: CommitState['checkpoint'], limit: number): Promise<PreparedBatch> => {
          let ahead = prefetched?.batch;
          if (prefetched && !sameCheckpoint(prefetched.after, after)) {
            await ahead!.then((b) => rm(b.file, { force: true }), () => {});
            ahead = undefined;
          }
          prefetched = undefined;
          const batch = await (ahead ?? fetch(after, limit));
          try {
            if (batch.rows === 0) return { batch, loadSeconds: 0 };
            if (batch.rows >= limit && !this.stopped) prefetched = { after: batch.to, batch: fetch(batch.to, o.batchSize) };
            const started = performance.now();
            const loaded = await writer.load(batch.file, loads++ % 2);
            return { batch, loaded, loadSeconds: (performance.now() - started) / 1000 };
          } finally {
            await rm(batch.file, { force: true });
          }
        };
        const prepare = (after: CommitState['checkpoint'], limit = o.batchSize): Promise<PreparedBatch> => {
          const p = prepareNow(after, limit);
          // Awaited by the loop once the batch in hand is committed: a failure meanwhile is not unhandled.
          p.catch(() => {});
          return p;
        };
        // The first batch of a session is smaller, so that DuckDB has work sooner (the
        // first read from PostgreSQL is the only one nothing else overlaps).
        pending = prepare(state.checkpoint, Math.ceil(o.batchSize / 4));
        while (!this.stopped) {
          const prepared = await pending;
          const { batch } = prepared;
          pending = undefined;
          if (!prepared.loaded) {
            let behind: number | undefined;
            if (Date.now() - lastLagCheck > 5_000) {
              lastLagCheck = Date.now();
              behind = await this.refreshLag(reader, state);
            }
            // Caught up means nothing committed is left, not merely an empty batch: events of a
            // transaction stay invisible while any older transaction in the cluster is open.
            if (o.untilCaughtUp && (behind ?? (await reader.behind(state.checkpoint))) === 0) return true;
            if (o.compactIntervalMs > 0 && Date.now() - lastCompaction > o.compactIntervalMs) {
              lastCompaction = Date.now();
              state = await this.compact(duck.connection, state, lease, workDir);
            }
            // Right after activity, look again soon (20 ms, doubling up to the poll interval):
            // a writer may not NOTIFY, and a NOTIFY can come before its events are readable
            // (an older transaction still open in the cluster holds them back).
            await this.waitForCommit(Math.min(o.pollMs, QUICK_POLL_MS * 2 ** quietPolls));
            quietPolls = Math.min(quietPolls + 1, 16);
            pending = prepare(state.checkpoint);
            continue;
          }
          quietPolls = 0;
          // Pipeline: PostgreSQL produces the next batch, and DuckDB loads it, while this one is written.
          pending = prepare(batch.to);
          state = await this.commitBatch(writer, prepared, state, lease, workDir);
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
      if (pending) await pending.then((p) => p.loaded && writer.discard(p.loaded.slot), () => {});
      if (prefetched) await prefetched.batch.then((b) => rm(b.file, { force: true }), () => {});
      await reader.close();
      duck.close();
    }
  }

  /** Writes a batch's files, then its commit record; the batch is visible from that moment. */
  private async commitBatch(writer: BatchWriter, prepared: PreparedBatch, state: CommitState, lease: Lease, workDir: string): Promise<CommitState> {
    const { batch, loaded, loadSeconds } = prepared;
    const o = this.options;
    const name = o.source.name;
    const n = state.n + 1;
    const timer = (stage: string, before = 0) => {
      const started = performance.now();
      return () => o.metrics?.stageSeconds.observe({ source: name, stage }, before + (performance.now() - started) / 1000);
    };
    let done = timer('parquet', loadSeconds);
    // One stage folder for the session: its partition folders are reused from batch to batch.
    // Creating them anew each time (and deleting the old ones) costs a lot on some filesystems
    // (ext4 without a journal scans past recently deleted inodes); pruned now and then.
    const stageDir = join(workDir, 'stage');
    const staged = await writer.write(loaded!, stageDir);
    done();
    lease.assertHeld();
    done = timer('upload');
    // putFile moves the file (local lake) or copies it (Azure); either way it leaves the stage.
    await forEachConcurrently(staged, 8, async (f) => {
      await o.storage.putFile(f.path, f.local);
      await rm(f.local, { force: true });
    });
    if (n % STAGE_PRUNE_EVERY === 0) await rm(stageDir, { recursive: true, force: true });
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

  /** Updates the lag metrics; returns the events behind (undefined without metrics). */
  private async refreshLag(reader: EventSourceReader, state: CommitState): Promise<number | undefined> {
    const m = this.options.metrics;
    if (!m) return undefined;
    const behind = await reader.behind(state.checkpoint);
    const name = this.options.source.name;
    m.lagEvents.set({ source: name }, behind);
    const oldestPending = behind > 0 && state.lastOccurredAt ? Date.now() - Date.parse(state.lastOccurredAt) : 0;
    m.lagSeconds.set({ source: name }, Math.max(0, oldestPending) / 1000);
    return behind;
  }

  /** Sleeps until a source transaction commits (NOTIFY), `ms` pass, or stop. */
  private waitForCommit(ms: number): Promise<void> {
    if (this.notified || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
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

function sameCheckpoint(a: CommitState['checkpoint'], b: CommitState['checkpoint']): boolean {
  return a.transactionId === b.transactionId && a.globalPosition === b.globalPosition;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
