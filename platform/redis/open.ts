import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { MemoryKeyValueStore } from './memory.ts';
import { RedisKeyValueStore } from './ioredis.ts';
import type { KeyValueStore } from './store.ts';

/** Redis when ANGELIS_REDIS_URL is set, else the in-process stand-in (and says so). */
export async function openKeyValueStore(config: Pick<Config, 'ANGELIS_REDIS_URL'>, log: Logger): Promise<KeyValueStore> {
  if (config.ANGELIS_REDIS_URL) {
    const store = await RedisKeyValueStore.connect(config.ANGELIS_REDIS_URL);
    log.info({ redis: config.ANGELIS_REDIS_URL.replace(/\/\/[^@/]*@/, '//***@') }, 'using Redis');
    return store;
  }
  log.warn('ANGELIS_REDIS_URL is unset: using in-process stand-ins for Redis (one instance only)');
  return new MemoryKeyValueStore();
}
