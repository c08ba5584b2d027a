import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { RedisKeyValueStore } from '../redis/ioredis.ts';

/** The local Redis integration tests use (TEST_REDIS_URL, else 127.0.0.1:6379). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * For the calling test file: a connection to the test Redis (open from its `beforeAll`) and
 * a key prefix of the file's own, whose keys are deleted and the connection closed after.
 */
export function redisUnderTestPrefix(): { readonly store: RedisKeyValueStore; readonly prefix: string } {
  const prefix = `angelis:test:${randomBytes(6).toString('hex')}:`;
  let store: RedisKeyValueStore | undefined;
  beforeAll(async () => {
    store = await RedisKeyValueStore.connect(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await store?.deleteByPrefix(prefix);
    await store?.close();
  });
  return {
    prefix,
    get store() {
      if (!store) throw new Error('the test Redis is connected in beforeAll');
      return store;
    },
  };
}
