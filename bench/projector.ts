/**
 * Projector benchmark (`npm run bench:projector`), figures printed:
 *  1. replay: N events (default 1,000,000) generated with SQL into a fresh bench database,
 *     projected into a local lake from position 0; events/s end to end and peak RSS
 *     (targets: >= 100,000 events/s, < 1 GB); the lake is then checked with DuckDB.
 *  2. steady state: events appended at 500/s through the event store while the projector
 *     runs; time from each transaction's commit to the lake commit that covers it, p50/p99
 *     (target p99 < 2 s).
 * Options: --events N, --batch-size B (default 100,000: per-file and per-statement costs
 * weigh less than at 50,000, measured ~20% faster at ~600 MB peak RSS), --steady-seconds S,
 * --rate R, --keep (keep the database and lake),
 * BENCH_DB=<existing database with events> skips generation.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { eventStoreMigration, postgresEventStore } from '../platform/event-store/postgres.ts';
import { Db, poolSettings, type PoolSettings } from '../platform/postgres/pool.ts';
import { createTestDatabase } from '../platform/testing/postgres.ts';
import { workforceLakeSource } from '../schema/lake/workforce.ts';
import { SourceConsumer } from '../projector/consumer.ts';
import { openDuckDb } from '../projector/lake/duckdb.ts';
import { localLakeStorage } from '../projector/storage/local.ts';
import { insertSyntheticEvents } from '../projector/testing/synthetic-events.ts';
import { defineLakeViews } from '../projector/views/duckdb-session.ts';
import type { CommitRecord } from '../projector/lake/commit-state.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    'batch-size': { type: 'string', default: '100000' },
    'steady-seconds': { type: 'string', default: '30' },
    rate: { type: 'string', default: '500' },
    keep: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(values.events);
const BATCH_SIZE = Number(values['batch-size']);
const STEADY_SECONDS = Number(values['steady-seconds']);
const RATE = Number(values.rate);
const log = createLogger('bench-projector', 'warn');
const KEY = 'bench-pseudonym-key-0123456789';
const runId = Date.now().toString(36);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

let peakRss = 0;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

function consumer(settings: PoolSettings, lakeDir: string, extra: Partial<ConstructorParameters<typeof SourceConsumer>[0]>) {
  return new SourceConsumer({
    source: workforceLakeSource, connection: settings, storage: localLakeStorage(lakeDir), workDir: join(lakeDir, '_work'),
    pseudonymKey: KEY, batchSize: BATCH_SIZE, leaseTtlMs: 15_000, pollMs: 1_000, owner: `${hostname()}-${process.pid}`,
    compactMinFiles: 24, compactIntervalMs: 0, log, ...extra,
  });
}

async function main() {
  let settings: PoolSettings;
  let drop = async () => {};
  if (process.env.BENCH_DB) {
    settings = poolSettings(loadConfig({ ANGELIS_POSTGRES_DB_HOST: '127.0.0.1' }), process.env.BENCH_DB, 'bench');
  } else {
    const t = await createTestDatabase('bench_projector', [{ service: 'es', migrations: [eventStoreMigration] }]);
    settings = t.settings;
    drop = () => t.drop();
    const started = Date.now();
    await insertSyntheticEvents(t.db.pool, EVENTS);
    await t.db.query('VACUUM ANALYZE events');
    console.log(`generated ${EVENTS} events in ${((Date.now() - started) / 1000).toFixed(1)} s (not part of the figures)`);
    await t.db.end();
  }
  const lakeDir = await mkdtemp(join(tmpdir(), 'bench-lake-'));
  const db = new Db({ ...settings, size: 4, overflow: 4 });
  const total = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0].n);
  try {
    // 1. Replay from position 0.
    peakRss = process.memoryUsage().rss;
    const baseRss = peakRss;
    // The machine's load and this process's CPU time put the figure in context on shared cores.
    const loadBefore = loadavg()[0];
    const cpuBefore = process.cpuUsage();
    let started = performance.now();
    await consumer(settings, lakeDir, { untilCaughtUp: true }).start();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    console.log(`replay (batches of ${BATCH_SIZE}): ${total} events in ${seconds.toFixed(1)} s = ${Math.round(total / seconds)} events/s; peak RSS ${(peakRss / 1e6).toFixed(0)} MB (process at start ${(baseRss / 1e6).toFixed(0)} MB)`);
    console.log(`  projector process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; machine load (1 min) ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after`);

    const duck = await openDuckDb({ pseudonymKey: KEY });
    await defineLakeViews(duck.connection, localLakeStorage(lakeDir), [workforceLakeSource], lakeDir);
    const check = (await duck.connection.runAndReadAll(
      'SELECT count(*) AS n, count(DISTINCT global_position) AS d, min(global_position) AS lo, max(global_position) AS hi FROM lake.raw.workforce',
    )).getRowObjectsJson()[0];
    console.log(`lake check: ${JSON.stringify(check)} (expect n = d = ${total})`);
    duck.close();

    // 2. Steady state: RATE events/s in transactions of 5 events, 10 s warm-up excluded.
    const committed: { tx: bigint; last: number; at: number }[] = [];
    const lakeCommits: { tx: bigint; pos: number; at: number }[] = [];
    const running = consumer(settings, lakeDir, {
      onCommit: (r: CommitRecord) => lakeCommits.push({ tx: BigInt(r.checkpoint.transactionId), pos: r.checkpoint.globalPosition, at: performance.now() }),
    });
    void running.start();
    await new Promise((r) => setTimeout(r, 1000));
    const perTx = 5;
    const interval = (1000 * perTx) / RATE;
    started = performance.now();
    let sent = 0;
    const writes: Promise<void>[] = [];
    while (performance.now() - started < STEADY_SECONDS * 1000) {
      const stream = `bench-steady-${runId}-${sent}`;
      writes.push(
        db.transaction((tx) =>
          postgresEventStore.append(tx, stream, Array.from({ length: perTx }, (_, i) => ({
            type: 'ProfileUpdated',
            data: { profileId: '00000000-0000-4000-8000-000000000001', firstName: `F${i}`, lastName: 'L', email: 'x@y.cl', phone: null, birthDate: null },
          })), { expectedVersion: 0, metadata: { actor: { id: 'bench', kind: 'system' } } }),
        ).then((result) => {
          const last = result.events[result.events.length - 1];
          committed.push({ tx: BigInt(last.transactionId), last: last.globalPosition, at: performance.now() });
        }),
      );
      sent++;
      const next = started + sent * interval;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
    await Promise.all(writes);
    await new Promise((r) => setTimeout(r, 3000));
    await running.stop();
    const latencies: number[] = [];
    for (const c of committed) {
      if (c.at - started < 5000) continue; // warm-up
      const seen = lakeCommits.find((l) => l.tx > c.tx || (l.tx === c.tx && l.pos >= c.last));
      if (seen) latencies.push(Math.max(0, seen.at - c.at));
    }
    latencies.sort((a, b) => a - b);
    const covered = `${latencies.length}/${committed.filter((c) => c.at - started >= 5000).length} transactions`;
    console.log(`steady state at ${RATE} events/s for ${STEADY_SECONDS} s: commit -> lake p50 ${percentile(latencies, 50)?.toFixed(0)} ms, p99 ${percentile(latencies, 99)?.toFixed(0)} ms, max ${latencies.at(-1)?.toFixed(0)} ms (${covered}, ${lakeCommits.length} lake commits)`);
  } finally {
    clearInterval(rssTimer);
    await db.end();
    if (!values.keep) {
      await rm(lakeDir, { recursive: true, force: true });
      await drop();
    } else console.log(`kept lake ${lakeDir}`);
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
