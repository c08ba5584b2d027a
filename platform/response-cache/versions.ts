import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { luaScript } from '../redis/scripts.ts';

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
 * `epoch` names this Redis's keyspace and server run: a restarted Redis (versions lost or
 * rolled back to its last save, count back) has a new one, so nothing cached before is
 * believed again. Tag keys never expire; a
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
  /** When bumps keep failing: no answer cached so far may be served (a new epoch). */
  dropEverything(): Promise<void>;
}

/** Whether an answer read at `count` in `epoch` is still current, given `read`'s result for its tags. */
export function stillCurrent(entry: { epoch: string; count: number }, now: { epoch: string | null; versions: number[] }): boolean {
  if (now.epoch !== entry.epoch) return false;
  for (const v of now.versions) if (v > entry.count) return false;
  return true;
}

// The epoch is created by whoever first needs it (SET NX inside the script: one winner).
const START = luaScript<[string, string]>(`local e = redis.call('GET', KEYS[1])
if not e then redis.call('SET', KEYS[1], ARGV[1]) e = ARGV[1] end
return {e, redis.call('GET', KEYS[2]) or '0'}`);
// allow-oom: a Redis at maxmemory still takes bumps (they are what keeps answers honest);
// it refuses new answers instead.
const BUMP = luaScript<number>(`#!lua flags=allow-oom
local n = redis.call('INCR', KEYS[1])
for i = 2, #KEYS do redis.call('SET', KEYS[i], n) end
return n`);

/**
 * The Redis adapter; keys under `<prefix>cache:`.
 *
 * The epoch is the epoch key's value and the server's `run_id`: a Redis restarted from its
 * persistence files, or a replica promoted after a failover, may hold the epoch key but
 * versions older than writes already answered; its run_id is new, so nothing read before
 * is believed. A call during which the connection dropped (ioredis may replay it on the
 * new one) counts as no epoch.
 */
export class RedisTagVersions implements TagVersions {
  private readonly epochKey: string;
  private readonly countKey: string;
  private runId: Promise<string> | null = null;
  private connection = 0;

  private readonly client: Redis;
  private readonly prefix: string;

  constructor(client: Redis, prefix: string) {
    this.client = client;
    this.prefix = prefix;
    this.epochKey = `${prefix}cache:epoch`;
    this.countKey = `${prefix}cache:count`;
    client.on('close', () => {
      this.connection++;
      this.runId = null;
    });
  }

  private tagKey(tag: string): string {
    return `${this.prefix}cache:v:${tag}`;
  }

  /** The server's run_id, asked once per connection. */
  private server(): Promise<string> {
    if (!this.runId) {
      const asked = this.client.info('server').then((info) => {
        const id = /run_id:(\w+)/.exec(info)?.[1];
        if (!id) throw new Error('Redis gave no run_id');
        return id;
      });
      asked.catch(() => {
        if (this.runId === asked) this.runId = null;
      });
      this.runId = asked;
    }
    return this.runId;
  }

  /** Runs `call` on one connection, with the server's run_id; throws when the connection changed meanwhile. */
  private async onOneConnection<T>(call: () => Promise<T>): Promise<{ value: T; server: string }> {
    const connection = this.connection;
    const server = await this.server();
    const value = await call();
    if (connection !== this.connection) throw new Error('Redis reconnected during the call');
    return { value, server };
  }

  async start() {
    // Once the epoch exists (every request but the keyspace's first), both in one plain MGET: no script, no new id.
    const { value, server } = await this.onOneConnection(async () => {
      const [epoch, count] = await this.client.mget(this.epochKey, this.countKey);
      return epoch ? [epoch, count ?? '0'] : START(this.client, [this.epochKey, this.countKey], [randomUUID()]);
    });
    return { epoch: `${value[0]}:${server}`, count: Number(value[1]) };
  }

  async read(tags: readonly string[]) {
    try {
      const { value, server } = await this.onOneConnection(() => this.client.mget(this.epochKey, ...tags.map((t) => this.tagKey(t))));
      return { epoch: value[0] === null ? null : `${value[0]}:${server}`, versions: value.slice(1).map((v) => (v === null ? 0 : Number(v))) };
    } catch (err) {
      if (err instanceof Error && /reconnected/.test(err.message)) return { epoch: null, versions: tags.map(() => 0) };
      throw err;
    }
  }

  async bump(tags: readonly string[]) {
    if (tags.length === 0) return;
    await BUMP(this.client, [this.countKey, ...tags.map((t) => this.tagKey(t))]);
  }

  /**
   * The last resort when bumps keep failing: deletes the epoch, so no answer cached so far
   * is served by anyone (DEL is allowed even at maxmemory).
   */
  async dropEverything(): Promise<void> {
    await this.client.del(this.epochKey);
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
