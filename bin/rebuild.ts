import { ConfigError, loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { withEmbeddedDefaults } from '../platform/postgres/embedded.ts';
import { configFragments, SERVICES } from '../services/registry.ts';
import { dropCachedAnswers } from '../platform/service/boot.ts';

/** `npm run rebuild -- <domain>`: truncates a domain's read tables and replays its events (appends wait meanwhile). */
const rebuildable = SERVICES.filter((s) => s.kind === 'domain' && s.subgraph);
const name = process.argv[2];
const entry = rebuildable.find((s) => s.name === name);
if (!entry) {
  console.error(`usage: npm run rebuild -- <${rebuildable.map((s) => s.name).join('|')}>`);
  process.exit(2);
}
try {
  const definition = await entry.subgraph!();
  if (!definition.rebuild) throw new Error(`${name} has no read model to rebuild`);
  // With no host configured: the embedded server of a running `npm start`.
  const config = withEmbeddedDefaults(loadConfig(process.env, await configFragments(), { complete: true }));
  const log = createLogger('rebuild', config.ANGELIS_LOG_LEVEL);
  const storage = await definition.open(config, log, {});
  try {
    const started = Date.now();
    const replayed = await definition.rebuild(storage, (n) => process.stderr.write(`\rreplayed ${n} events`));
    process.stderr.write('\n');
    log.info({ domain: name, replayed, ms: Date.now() - started }, 'read tables rebuilt');
    await dropCachedAnswers(definition, config, log);
  } finally {
    await storage.close();
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
