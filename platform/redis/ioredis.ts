import { Redis } from 'ioredis';
import { luaScript } from './scripts.ts';
import type { KeyValueStore } from './store.ts';

// Each script is one atomic step on the server: no other client runs between its commands.
const INCR = luaScript<number>(`local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`);
// Counters in order; the first over its limit stops the charge: {its 1-based index, PTTL}, or {0, 0}.
const CHARGE = luaScript<[number, number]>(`for i = 1, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl == -1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) ttl = tonumber(ARGV[1]) end
  if n > tonumber(ARGV[i + 1]) then return {i, ttl} end
end
return {0, 0}`);
// DECR keeps the key's expiry: the window stays as it was.
const UNCHARGE = luaScript<number>(`local n = tonumber(redis.call('GET', KEYS[1]))
if n and n > 0 then return redis.call('DECR', KEYS[1]) end
return 0`);
const COMPARE_AND_SET = luaScript<number>(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`);
const TAKE = luaScript<string | null>(`local v = redis.call('GET', KEYS[1]) if v then redis.call('DEL', KEYS[1]) end return v`);
const SET_ADD = luaScript<number>(`redis.call('SADD', KEYS[1], ARGV[1]) redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1`);

/** The Redis adapter (ioredis): shared by every instance of every service. */
export class RedisKeyValueStore implements KeyValueStore {
  readonly kind = 'redis' as const;

  readonly client: Redis;

  constructor(client: Redis) {
    this.client = client;
  }

  /**
   * Connects to `url` (redis:// or rediss://); fails fast when Redis is unreachable.
   * Auto-pipelining: the commands concurrent requests issue in one tick of the event loop
   * (a rate-limit step, a cache lookup, a version read each) go out in one socket write
   * instead of one write (a system call) each, which was the gateway's largest CPU cost
   * under load.
   */
  static async connect(url: string): Promise<RedisKeyValueStore> {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true, enableAutoPipelining: true });
    // Reconnects are ioredis's job; an 'error' without a listener would crash the process.
    client.on('error', () => {});
    await client.connect();
    return new RedisKeyValueStore(client);
  }

  get(key: string) {
    return this.client.get(key);
  }

  async set(key: string, value: string, ttlMs?: number) {
    if (ttlMs === undefined) await this.client.set(key, value);
    else await this.client.set(key, value, 'PX', ttlMs);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number) {
    return (await this.client.set(key, value, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async compareAndSet(key: string, expected: string, next: string, ttlMs: number) {
    return (await COMPARE_AND_SET(this.client, [key], [expected, next, ttlMs])) === 1;
  }

  async take(key: string) {
    return TAKE(this.client, [key]);
  }

  async del(...keys: string[]) {
    return keys.length ? this.client.del(...keys) : 0;
  }

  async exists(key: string) {
    return (await this.client.exists(key)) === 1;
  }

  async incr(key: string, ttlMs: number) {
    return Number(await INCR(this.client, [key], [ttlMs]));
  }

  async charge(counters: readonly { key: string; limit: number }[], windowMs: number) {
    if (counters.length === 0) return null;
    const [index, ttlMs] = await CHARGE(this.client, counters.map((c) => c.key), [windowMs, ...counters.map((c) => c.limit)]);
    return index === 0 ? null : { refused: index - 1, ttlMs };
  }

  async uncharge(key: string) {
    await UNCHARGE(this.client, [key], []);
  }

  ttl(key: string) {
    return this.client.pttl(key);
  }

  async setAdd(key: string, member: string, ttlMs: number) {
    await SET_ADD(this.client, [key], [member, ttlMs]);
  }

  setMembers(key: string) {
    return this.client.smembers(key);
  }

  async setRemove(key: string, ...members: string[]) {
    if (members.length) await this.client.srem(key, ...members);
  }

  /** Deletes every key under a prefix (tests and tools; SCAN, so it never blocks Redis). */
  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) deleted += await this.client.del(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  async close() {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
