import { ConfigError, loadConfig } from '../platform/config.ts';
import { projectorCli } from '../projector/cli.ts';
import { eventConnectionOf } from '../projector/source/open-reader.ts';
import type { ProjectorSourceOptions } from '../projector/main.ts';
import type { ExtractionSourceOptions } from '../projector/extract/test-results.ts';
import { createLogger } from '../platform/logger.ts';
import type { SourceStorage } from '../platform/sources/subgraph.ts';
import { testResultsLakeSource } from '../schema/lake/test-results.ts';
import { configFragments, SERVICES } from '../services/registry.ts';

/**
 * `npm run projector -- <command>`: the projector over every domain of the service registry
 * that has a lake contract, each read where its definition says its events are (PostgreSQL or
 * MongoDB).
 */
async function sources(config: ReturnType<typeof loadConfig>): Promise<ProjectorSourceOptions[]> {
  const out: ProjectorSourceOptions[] = [];
  for (const entry of SERVICES.filter((s) => s.lake)) {
    const [source, definition] = await Promise.all([entry.lake!(), entry.subgraph!()]);
    const events = definition.eventSource?.(config);
    if (!events) throw new Error(`${entry.name} has a lake contract but its definition names no event source`);
    out.push({ source, connection: eventConnectionOf(entry.name, events) });
  }
  return out;
}

/** The registry's external sources, extracted into test_results with the adapters their subgraphs read through. */
function extractions(config: ReturnType<typeof loadConfig>): ExtractionSourceOptions[] {
  return SERVICES.filter((s) => s.kind === 'source' && s.subgraph).map((entry) => ({
    lake: testResultsLakeSource(entry.name),
    async open() {
      const definition = await entry.subgraph!();
      // Only a configured database is extracted; the development sample stays out of the lake.
      const storage = (await definition.open(config, createLogger(`projector-${entry.name}`, config.ANGELIS_LOG_LEVEL), { workforceUrl: undefined })) as SourceStorage;
      return storage.source;
    },
  }));
}

try {
  const config = loadConfig(process.env, await configFragments(), { complete: true });
  await projectorCli(process.argv.slice(2), config, await sources(config), extractions(config));
  process.exit(0);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
