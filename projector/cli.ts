import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBTypeId, JsonDuckDBValueConverter, type DuckDBValueConverter, type Json } from '@duckdb/node-api';
import { onShutdown } from '../platform/process/shutdown.ts';
import { createLogger } from '../platform/logger.ts';
import type { PersonalData } from '../schema/lake/contract.ts';
import { type Config as ProjectorConfig } from '../platform/config.ts';
import { DEVELOPMENT_PSEUDONYM_KEY } from './config.ts';
import { appendCommit, readCommitLog } from './lake/commit-log.ts';
import type { CommitState } from './lake/commit-state.ts';
import { compactSource } from './lake/compaction.ts';
import { filesPerDataset } from './lake/compaction-plan.ts';
import { openDuckDb } from './lake/duckdb.ts';
import { Lease } from './lake/lease.ts';
import { startProjector, type ProjectorSourceOptions } from './main.ts';
import { openEventReader } from './source/open-reader.ts';
import { pseudonym } from './sql/pseudonym.ts';
import { openLakeStorage } from './storage/open.ts';
import type { LakeStorage } from './storage/lake-storage.ts';
import { dremioViewsSql } from './views/current-state.ts';
import { defineLakeViews } from './views/duckdb-session.ts';
import type { ExtractionSourceOptions } from './extract/test-results.ts';

export const USAGE = `npm run projector -- <command>
  run [--source workforce]            project in the foreground until SIGTERM/SIGINT
  status                              per source: last commit, lag (events, seconds), files and rows; per external source its watermark
  replay --source workforce --from 0  rebuild the source's lake copies from its events
  views                               print the generated Dremio SQL (_views/dremio.sql)
  query "SQL"                         run SQL over the lake in DuckDB, with lake.tables.*, lake.raw.* and angelis.* defined
  compact [--source workforce]        merge each crowded partition's small files now
  pseudonym rut|email|phone VALUE     the pseudonym a value gets in the lake (to find a known person)`;

/** The sources named by --source (all when absent). */
function chosen(sources: ProjectorSourceOptions[], option: string | undefined): ProjectorSourceOptions[] {
  if (!option) return sources;
  const found = sources.filter((s) => s.source.name === option);
  if (found.length === 0) throw new Error(`unknown source ${option}; known: ${sources.map((s) => s.source.name).join(', ')}`);
  return found;
}

function progressLine(done: number, total: number, started: number): string {
  const width = 30;
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * width);
  const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(1)}% ${done}/${total} events, ${Math.round(rate)} events/s`;
}

async function status(storage: LakeStorage, sources: ProjectorSourceOptions[]): Promise<void> {
  console.log(`lake: ${storage.description}`);
  for (const { source, connection } of sources) {
    const name = source.name;
    const state = await readCommitLog(storage, name);
    let lag = 'unknown (source database unreachable)';
    const reader = openEventReader(connection, tmpdir());
    try {
      await reader.connect();
      const head = await reader.head(state.checkpoint);
      const seconds = head.behind > 0 && state.lastOccurredAt && head.headOccurredAt
        ? Math.max(0, (head.headOccurredAt.getTime() - Date.parse(state.lastOccurredAt)) / 1000)
        : 0;
      lag = `${head.behind} events, ${seconds.toFixed(1)} s`;
    } catch {
      // status must work when only the lake is reachable
    } finally {
      await reader.close();
    }
    const rows = [...state.live.values()].reduce((a, b) => a + b, 0);
    console.log(`\nsource ${name}
  last commit      ${state.n} at ${state.lastCommittedAt ?? '-'}
  checkpoint       transaction ${state.checkpoint.transactionId}, position ${state.checkpoint.globalPosition}
  events in lake   ${state.events} (fresh up to ${state.lastOccurredAt ?? '-'})
  lag              ${lag}
  files            ${state.live.size} live, ${rows} rows`);
    for (const [dataset, s] of [...filesPerDataset(state.live)].sort()) console.log(`    ${dataset.padEnd(48)} ${String(s.files).padStart(6)} files ${String(s.rows).padStart(10)} rows`);
  }
}

/** The external sources' part of `status`: commit, watermark, rows in the lake, whether the source answers. */
async function extractionStatus(storage: LakeStorage, extractions: ExtractionSourceOptions[]): Promise<void> {
  for (const e of extractions) {
    const name = e.lake.name;
    const state = await readCommitLog(storage, name);
    let reachable = 'not configured (nothing is extracted)';
    const source = await e.open().catch(() => null);
    if (source?.kind === 'sql') reachable = (await source.ping()) ? 'answers' : 'unreachable (extraction resumes from the watermark when it answers)';
    await source?.close().catch(() => {});
    const rows = [...state.live.values()].reduce((a, b) => a + b, 0);
    const wm = state.watermark;
    console.log(`\nexternal source ${name} (test_results, extracted by watermark)
  source           ${reachable}
  last commit      ${state.n} at ${state.lastCommittedAt ?? '-'}
  watermark        ${wm ? `changed at ${wm.updatedAt ?? '- (by id)'}, id ${wm.lastId}, ${wm.seen.length} rows in the overlap window` : '- (nothing extracted yet)'}
  rows in lake     ${state.events} extracted (fresh up to ${state.lastOccurredAt ?? '-'})
  files            ${state.live.size} live, ${rows} rows`);
  }
}

async function replay(config: ProjectorConfig, storage: LakeStorage, target: ProjectorSourceOptions, from: string): Promise<void> {
  const name = target.source.name;
  if (from !== '0') throw new Error('replay supports --from 0 (a full rebuild): commit order is not position order, so a partial replay has no well-defined start');
  const log = createLogger('projector', 'warn');
  const connection = target.connection;
  // The reset is itself a commit: a running projector sees its next commit conflict,
  // recovers (deleting the old files) and rebuilds; otherwise we rebuild here.
  for (;;) {
    const state = await readCommitLog(storage, name);
    try {
      await appendCommit(storage, {
        n: state.n + 1, source: name, kind: 'reset', checkpoint: { transactionId: '0', globalPosition: 0 }, events: 0,
        added: [], removed: [...state.live.keys()], committedAt: new Date().toISOString(),
      });
      break;
    } catch (err) {
      if ((err as Error).name !== 'CommitConflict') throw err;
    }
  }
  const reader = openEventReader(connection, tmpdir());
  await reader.connect();
  const total = await reader.behind({ transactionId: '0', globalPosition: 0 });
  await reader.close();
  const started = Date.now();
  const probe = new Lease({ storage, source: name, owner: 'replay-probe', ttlMs: config.ANGELIS_PROJECTOR_LEASE_TTL_MS });
  const draw = (state: CommitState) => process.stderr.write(`\r${progressLine(state.events, total, started)}`);
  const running = await probeRunning(probe);
  if (running) {
    console.error(`a running projector holds ${name}'s lease; it will rebuild. Following its progress:`);
    for (let state = await readCommitLog(storage, name); state.events < total; state = await readCommitLog(storage, name)) {
      draw(state);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } else {
    const projector = await startProjector({
      sources: [target], config, storage, log, serveMetrics: false, untilCaughtUp: true,
    });
    const timer = setInterval(() => void readCommitLog(storage, name).then(draw, () => {}), 500);
    await projector.done;
    clearInterval(timer);
    await projector.stop();
  }
  draw(await readCommitLog(storage, name));
  console.error(`\nreplayed ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** True when another instance holds the lease now (we take it briefly and give it back otherwise). */
async function probeRunning(lease: Lease): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 1500);
  try {
    await lease.acquire(abort.signal);
    await lease.release();
    return false;
  } catch {
    return true;
  } finally {
    clearTimeout(timer);
  }
}

const WIDE_INTEGERS = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);

/**
 * DuckDB's JSON conversion, except that wide integers (count(*) is a BIGINT) print as
 * numbers when a double holds them exactly; beyond that they stay digits, not a rounded number.
 */
const printable: DuckDBValueConverter<Json> = (value, type, self) =>
  WIDE_INTEGERS.has(type.typeId) && typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : JsonDuckDBValueConverter(value, type, self);

async function query(config: ProjectorConfig, storage: LakeStorage, sources: ProjectorSourceOptions[], sql: string): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'angelis-query-'));
  const duck = await openDuckDb({ pseudonymKey: config.ANGELIS_PSEUDONYM_KEY ?? DEVELOPMENT_PSEUDONYM_KEY });
  try {
    await defineLakeViews(duck.connection, storage, sources.map((s) => s.source), scratch);
    const reader = await duck.connection.runAndReadAll(sql);
    console.table(reader.convertRowObjects(printable));
  } finally {
    duck.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

async function compact(config: ProjectorConfig, storage: LakeStorage, names: string[]): Promise<void> {
  const log = createLogger('projector');
  for (const name of names) {
    const lease = new Lease({ storage, source: name, owner: `compact-${process.pid}`, ttlMs: config.ANGELIS_PROJECTOR_LEASE_TTL_MS, log });
    await lease.acquire();
    const workDir = await mkdtemp(join(tmpdir(), 'angelis-compact-'));
    const duck = await openDuckDb({ pseudonymKey: config.ANGELIS_PSEUDONYM_KEY ?? DEVELOPMENT_PSEUDONYM_KEY });
    try {
      const state = await readCommitLog(storage, name);
      const result = await compactSource({
        storage, duck: duck.connection, source: name, state, minFiles: config.ANGELIS_PROJECTOR_COMPACT_MIN_FILES, workDir,
        assertHeld: () => lease.assertHeld(),
      });
      console.log(`${name}: merged ${result.removed} files into ${result.merged}`);
    } finally {
      duck.close();
      await lease.release();
      await rm(workDir, { recursive: true, force: true });
    }
  }
}

async function run(config: ProjectorConfig, sources: ProjectorSourceOptions[], extractions: ExtractionSourceOptions[] = []): Promise<void> {
  const log = createLogger('projector', config.ANGELIS_LOG_LEVEL);
  const projector = await startProjector({ sources, extractions, config, log });
  onShutdown(log, () => projector.stop(), config.ANGELIS_SUPERVISOR_PID);
  await projector.done;
}

/**
 * The projector's command line over the sources it is given (bin/projector.ts gives every
 * domain of the service registry that has a lake contract).
 */
export async function projectorCli(argv: string[], config: ProjectorConfig, sources: ProjectorSourceOptions[], extractions: ExtractionSourceOptions[] = []): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true,
    options: { source: { type: 'string' }, from: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (!command || values.help) {
    console.log(USAGE);
    return;
  }
  if (command === 'views') {
    const tables = new Map([...sources.map((s) => s.source), ...extractions.map((e) => e.lake)].flatMap((s) => s.tables).map((t) => [t.name, t]));
    process.stdout.write(dremioViewsSql([...tables.values()]));
    return;
  }
  if (command === 'pseudonym') {
    const [kind, value] = rest;
    if (!['rut', 'email', 'phone'].includes(kind) || value === undefined) throw new Error('usage: pseudonym rut|email|phone VALUE');
    console.log(pseudonym(config.ANGELIS_PSEUDONYM_KEY ?? DEVELOPMENT_PSEUDONYM_KEY, kind as PersonalData, value));
    return;
  }
  if (command === 'run') return values.source ? run(config, chosen(sources, values.source)) : run(config, sources, extractions);
  const storage = await openLakeStorage(config);
  switch (command) {
    case 'status':
      await status(storage, chosen(sources, values.source));
      if (!values.source) await extractionStatus(storage, extractions);
      return;
    case 'replay':
      if (!values.source) throw new Error('replay needs --source');
      return replay(config, storage, chosen(sources, values.source)[0], values.from ?? '0');
    case 'query':
      if (!rest[0]) throw new Error('query needs the SQL as one argument');
      return query(config, storage, [...sources, ...extractions.map((e) => ({ source: e.lake, connection: undefined as never }))], rest.join(' '));
    case 'compact':
      return compact(config, storage, chosen(sources, values.source).map((s) => s.source.name));
    default:
      throw new Error(`unknown command ${command}\n${USAGE}`);
  }
}

