import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '../platform/logger.ts';
import type { LakeSource } from '../schema/lake/contract.ts';
import { loadConfig, type Config as ProjectorConfig } from '../platform/config.ts';
import { DEVELOPMENT_PSEUDONYM_KEY } from './config.ts';
import { SourceConsumer } from './consumer.ts';
import type { EventConnection } from './source/open-reader.ts';
import { VIEWS_PATH } from './lake/lake-paths.ts';
import { assertLakeSources } from './mapping/check-contracts.ts';
import { ProjectorMetrics, serveMetrics } from './metrics.ts';
import { openLakeStorage } from './storage/open.ts';
import type { LakeStorage } from './storage/lake-storage.ts';
import { dremioViewsSql } from './views/current-state.ts';
import { ResultExtractor, type ExtractionSourceOptions } from './extract/test-results.ts';
import type { LakeTable } from '../schema/lake/contract.ts';

/** A domain the projector copies: its lake contract and where its events are read (only read). */
export interface ProjectorSourceOptions {
  source: LakeSource;
  /** Its event store: PostgreSQL (pool settings) or MongoDB (`{ kind: 'mongodb', url, database }`). */
  connection: EventConnection;
}

export interface StartProjectorOptions {
  sources: ProjectorSourceOptions[];
  /** External sources extracted by a watermark (test results), beside the event sources. */
  extractions?: ExtractionSourceOptions[];
  /** Defaults to loadConfig(process.env). */
  config?: ProjectorConfig;
  /** An already open lake (tests); otherwise opened from the config. */
  storage?: LakeStorage;
  log?: Logger;
  /** Serve /metrics (default true; ANGELIS_PROJECTOR_METRICS_PORT, 0 = a free port). */
  serveMetrics?: boolean;
  /** Return once every source has caught up (replay); default false. */
  untilCaughtUp?: boolean;
}

export interface RunningProjector {
  storage: LakeStorage;
  metrics: ProjectorMetrics;
  /** The metrics port actually bound, when served. */
  metricsPort?: number;
  /** Settles when every consumer has stopped (at once after stop(), or when caught up with untilCaughtUp). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** The scratch folder for a lake: beside a local lake (cheap renames), else the OS temp dir. */
function workDirFor(config: ProjectorConfig, storage: LakeStorage): string {
  if (config.ANGELIS_PROJECTOR_WORK_DIR) return resolve(config.ANGELIS_PROJECTOR_WORK_DIR);
  return storage.localRoot ? join(storage.localRoot, '_work') : join(tmpdir(), 'angelis-projector');
}

/** Boots the projector: checks the mappings, writes the views, and starts one consumer per source. */
export async function startProjector(options: StartProjectorOptions): Promise<RunningProjector> {
  const config = options.config ?? loadConfig();
  const log = options.log ?? createLogger('projector');
  const sources = options.sources;
  const extractions = options.extractions ?? [];
  if (sources.length === 0 && extractions.length === 0) throw new Error('the projector needs at least one source');
  assertLakeSources(sources.map((s) => s.source));
  const pseudonymKey = config.ANGELIS_PSEUDONYM_KEY ?? DEVELOPMENT_PSEUDONYM_KEY;
  if (!config.ANGELIS_PSEUDONYM_KEY) log.warn('ANGELIS_PSEUDONYM_KEY is not set: pseudonyms use a development key and are not secret');
  const storage = options.storage ?? (await openLakeStorage(config));
  const tables = new Map<string, LakeTable>([...sources, ...extractions.map((e) => ({ source: e.lake }))].flatMap((s) => s.source.tables).map((t) => [t.name, t]));
  await storage.put(VIEWS_PATH, dremioViewsSql([...tables.values()]));
  const metrics = new ProjectorMetrics();
  const server = options.serveMetrics === false
    ? undefined
    : await serveMetrics(metrics, config.ANGELIS_PROJECTOR_METRICS_HOST, config.ANGELIS_PROJECTOR_METRICS_PORT);
  const owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const consumers = sources.map(
    ({ source, connection }) =>
      new SourceConsumer({
        source, connection, storage, owner, log, metrics,
        workDir: workDirFor(config, storage),
        pseudonymKey,
        batchSize: config.ANGELIS_PROJECTOR_BATCH_SIZE,
        leaseTtlMs: config.ANGELIS_PROJECTOR_LEASE_TTL_MS,
        pollMs: config.ANGELIS_PROJECTOR_POLL_MS,
        compactMinFiles: config.ANGELIS_PROJECTOR_COMPACT_MIN_FILES,
        compactIntervalMs: config.ANGELIS_PROJECTOR_COMPACT_INTERVAL_MS,
        untilCaughtUp: options.untilCaughtUp,
      }),
  );
  const extractors: ResultExtractor[] = [];
  const extractedNames: string[] = [];
  const opened: { close(): Promise<void> }[] = [];
  for (const e of extractions) {
    const source = await e.open().catch((err) => {
      log.warn({ source: e.lake.name, err: { message: (err as Error).message } }, 'external source cannot be opened: not extracted');
      return null;
    });
    if (source) opened.push(source);
    if (!source || source.kind !== 'sql') {
      log.info({ source: e.lake.name }, 'external source not configured (sample data is never extracted): nothing to extract');
      continue;
    }
    extractedNames.push(e.lake.name);
    extractors.push(
      new ResultExtractor({
        name: e.lake.name, source, storage, owner, log,
        pseudonymKey,
        workDir: workDirFor(config, storage),
        leaseTtlMs: config.ANGELIS_PROJECTOR_LEASE_TTL_MS,
        intervalMs: config.ANGELIS_PROJECTOR_EXTRACT_INTERVAL_MS,
        batchSize: config.ANGELIS_PROJECTOR_EXTRACT_BATCH_SIZE,
        overlapMs: config.ANGELIS_PROJECTOR_EXTRACT_OVERLAP_MS,
        overlapIds: config.ANGELIS_PROJECTOR_EXTRACT_OVERLAP_IDS,
        untilCaughtUp: options.untilCaughtUp,
      }),
    );
  }
  log.info({ lake: storage.description, sources: sources.map((s) => s.source.name), extracted: extractedNames, metricsPort: server?.port }, 'projector started');
  const done = Promise.all([...consumers.map((c) => c.start()), ...extractors.map((x) => x.start())]).then(() => {});
  return {
    storage,
    metrics,
    metricsPort: server?.port,
    done,
    async stop() {
      await Promise.all([...consumers.map((c) => c.stop()), ...extractors.map((x) => x.stop())]);
      await Promise.all(opened.map((o) => o.close().catch(() => {})));
      await server?.close();
      log.info('projector stopped');
    },
  };
}
