import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { openKeyValueStore } from '../platform/redis/open.ts';
import { persistedStore } from '../gateway/persisted-operations.ts';

/**
 * `npm run safelist -- <file.graphql>...`: registers each file's exact text as a safelisted
 * operation in Redis (ANGELIS_REDIS_URL), for gateways running with
 * ANGELIS_GATEWAY_PERSISTED_OPERATIONS=safelist. Prints each file's sha256: clients send the
 * same text, or only that hash (extensions.persistedQuery.sha256Hash).
 */
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run safelist -- <operation.graphql>...');
  process.exit(2);
}
try {
  const config = loadConfig(process.env);
  if (!config.ANGELIS_REDIS_URL) throw new ConfigError(['ANGELIS_REDIS_URL is required: the safelist lives in Redis, shared by every gateway']);
  const log = createLogger('safelist', config.ANGELIS_LOG_LEVEL);
  const store = await openKeyValueStore(config, log);
  try {
    const hashes = await persistedStore(store, config.ANGELIS_REDIS_KEY_PREFIX, 'safelist', config.ANGELIS_GATEWAY_APQ_TTL_MS).register(files.map((f) => readFileSync(f, 'utf8')));
    files.forEach((f, i) => console.log(`${hashes[i]}  ${f}`));
  } finally {
    await store.close();
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
