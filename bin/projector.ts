import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../platform/config.ts';
import { projectorCli } from '../projector/cli.ts';
import type { ProjectorSourceOptions } from '../projector/main.ts';
import { configFragments, SERVICES } from '../services/registry.ts';

/**
 * `npm run projector -- <command>`: the projector over every domain of the service registry
 * that has a lake contract, each read where its definition says its events are.
 */
async function sources(config: ReturnType<typeof loadConfig>, chosenSource: string | undefined): Promise<ProjectorSourceOptions[]> {
  const out: ProjectorSourceOptions[] = [];
  for (const entry of SERVICES.filter((s) => s.lake)) {
    const [source, definition] = await Promise.all([entry.lake!(), entry.subgraph!()]);
    const events = definition.eventSource?.(config);
    if (!events) throw new Error(`${entry.name} has a lake contract but its definition names no event source`);
    // A domain the projector cannot read is left out only when the command names another one.
    if (events.kind !== 'postgres' && chosenSource && chosenSource !== entry.name) continue;
    if (events.kind !== 'postgres') {
      // Refused, never skipped: a lake silently missing a domain looks complete and is not.
      throw new Error(
        `${entry.name} keeps its events in ${events.kind} (database ${events.database}), which the projector cannot read yet; ` +
          `run the projector against its PostgreSQL fallback (unset ANGELIS_MONGO_URL), or name the sources to project (--source workforce)`,
      );
    }
    out.push({ source, connection: events.settings });
  }
  return out;
}

try {
  const config = loadConfig(process.env, await configFragments(), { complete: true });
  const { values } = parseArgs({ args: process.argv.slice(2), options: { source: { type: 'string' } }, strict: false, allowPositionals: true });
  await projectorCli(process.argv.slice(2), config, await sources(config, typeof values.source === 'string' ? values.source : undefined));
  process.exit(0);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
