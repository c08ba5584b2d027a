import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Tag versions in Redis: what makes cached answers safe to serve (gateway/response-cache.ts).
 *
 * A tag names something an answer read: a stream (`workforce/s:profile-<id>`), a read
 * table (`workforce/t:licenses`), or a subgraph's whole read model (`workforce/all`).
 * Every domain write bumps the tags of what it changed (after its commit, before its
 * command is answered): one counter for the whole cache is incremented and each tag is
 * set to the new count. So a tag's version is the count at its latest write.
 *
 * A subgraph reads the count (`start`) before it reads any data for an answer. An answer
 * read when the count was `g` is current exactly while every one of its tags is still at
 * most `g`: a write bumped before `g` was read had committed before the data was read
 * (commit, then bump, then `g`, then the read), so the answer includes it; a write bumped
 * later gives its tags a count above `g`. No TTL is involved.
 *
 * `epoch` names this Redis's keyspace: a restarted Redis (versions lost, count back to 0)
 * has a new one, so nothing cached before is believed again. Tag keys never expire; a
 * Redis that evicts keys without a TTL (`allkeys-*` policies) would lose versions, and the
 * gateway refuses to cache on one (`evictsVersions`).
 */
export interface TagVersions {
  /** The epoch and the count, read before an answer's data. */
  start(): Promise<{ epoch: string; count: number }>;
  /** The epoch now (null: none yet) and each tag's version (0: never written). */
  read(tags: readonly string[]): Promise<{ epoch: string | null; versions: number[] }>;
  /** After a commit: a new count, and every tag set to it (one atomic step). */
  bump(tags: readonly string[]): Promise<void>;
}

/** Whether an answer read at `count` in `epoch` is still current, given `read`'s result for its tags. */
export function stillCurrent(entry: { epoch: string; count: number }, now: { epoch: string | null; versions: number[] }): boolean {
  if (now.epoch !== entry.epoch) return false;
  for (const v of now.versions) if (v > entry.count) return false;
  return true;
}

// The epoch is created by whoever first needs it (SET NX inside the script: one winner).
const START = `local e = redis.call('GET', KEYS[1])
if not e then redis.call('SET', KEYS[1], ARGV[1]) e = ARGV[1] end
return {e, redis.call('GET', KEYS[2]) or '0'}`;
const BUMP = `local n = redis.call('INCR', KEYS[1])
for i = 2, #KEYS do redis.call('SET', KEYS[i], n) end
return n`;

/** The Redis adapter; keys under `<prefix>cache:`. */
export class RedisTagVersions implements TagVersions {
  private readonly epochKey: string;
  private readonly countKey: string;

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {
    this.epochKey = `${prefix}cache:epoch`;
    this.countKey = `${prefix}cache:count`;
  }

  private tagKey(tag: string): string {
    return `${this.prefix}cache:v:${tag}`;
  }

  async start() {
    const [epoch, count] = (await this.client.eval(START, 2, this.epochKey, this.countKey, randomUUID())) as [string, string];
    return { epoch, count: Number(count) };
  }

  async read(tags: readonly string[]) {
    const values = await this.client.mget(this.epochKey, ...tags.map((t) => this.tagKey(t)));
    return { epoch: values[0], versions: values.slice(1).map((v) => (v === null ? 0 : Number(v))) };
  }

  async bump(tags: readonly string[]) {
    if (tags.length === 0) return;
    await this.client.eval(BUMP, 1 + tags.length, this.countKey, ...tags.map((t) => this.tagKey(t)));
  }

  /** True when this Redis may evict keys that have no TTL (the versions): caching is then unsafe. */
  async evictsVersions(): Promise<boolean> {
    try {
      const [, policy] = (await this.client.config('GET', 'maxmemory-policy')) as [string, string];
      return typeof policy === 'string' && policy.startsWith('allkeys-');
    } catch {
      // CONFIG disabled (managed Redis): the operator's word stands (docs/operations.md).
      return false;
    }
  }
}
