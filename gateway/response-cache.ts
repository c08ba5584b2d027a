import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Identity } from '../platform/auth/identity.ts';
import type { Logger } from '../platform/logger.ts';
import { CACHE_REDIS_TIMEOUT_MS, withTimeout, type CacheExtension } from '../platform/response-cache/reads.ts';
import { stillCurrent, type TagVersions } from '../platform/response-cache/versions.ts';

/**
 * The gateway's response cache: whole answers to queries, keyed by the request body
 * (operation or persisted hash, and variables), the caller's permission scope and what
 * the client accepts; kept in memory (least recently used first out) in front of Redis
 * (shared by every gateway instance).
 *
 * Nothing is cached by time. An answer is cached only when every subgraph fetch behind it
 * was a query that its subgraph tagged (platform/response-cache/reads.ts: the streams and
 * tables it read, and the count of writes seen before it read them) and nothing in it is
 * an error. It is served only after one read of its tags' versions in Redis shows none
 * written since (platform/response-cache/versions.ts). Writes bump their tags after their
 * commit and before the mutation is answered, so once a mutation's answer is back, no
 * instance serves an answer from before it (read-your-writes across instances).
 *
 * Scope: the caller's kind, role, company and profile (what subgraphs decide visibility
 * by), so managers of one company share answers and nothing crosses companies or roles. An
 * answer that read personal rows (a user's notifications) is kept per user, and its
 * shared key holds only a marker saying so.
 */
export interface CacheCollector {
  /** The operation's type once known; only `query` is cached. */
  operation: string | null;
  fetches: number;
  /** Why not (the first reason); null: cacheable so far. */
  refused: string | null;
  tags: Set<string>;
  epoch: string | null;
  count: number;
  personal: boolean;
  validUntil: number;
}

/** A subgraph that does not tag its answers at all (not opted in): the same operation will not be cacheable next time either. */
const UNTAGGED = 'a subgraph that does not tag its answers';
/** Refusals that follow from the operation itself, whatever its variables: its next requests skip the lookup for a while. */
const STRUCTURAL = new Set([UNTAGGED, 'mutation', 'subscription']);
const NEVER_MS = 60_000;
const SEEN_MAX = 50_000;
const NEVER_MAX = 5_000;

export function newCollector(): CacheCollector {
  return { operation: null, fetches: 0, refused: null, tags: new Set(), epoch: null, count: Number.MAX_SAFE_INTEGER, personal: false, validUntil: Number.MAX_SAFE_INTEGER };
}

/** A subgraph answer's cache extension (platform/response-cache/reads.ts), or why it has none usable. */
export function cacheExtensionOf(extensions: Record<string, unknown> | undefined): CacheExtension | string {
  const ext = extensions?.angelisCache as (Partial<CacheExtension> & { refused?: unknown }) | undefined;
  if (!ext) return UNTAGGED;
  if (typeof ext.refused === 'string') return `refused by the subgraph: ${ext.refused}`;
  if (!Array.isArray(ext.tags) || typeof ext.epoch !== 'string' || typeof ext.count !== 'number' || typeof ext.validUntil !== 'number' || typeof ext.personal !== 'boolean') return 'malformed cache tags';
  return ext as CacheExtension;
}

/** A subgraph fetch's answer joins the request's collector: its tags, or why the answer cannot be cached. */
export function collectFetch(c: CacheCollector | undefined, extensions: Record<string, unknown> | undefined, isQuery: boolean): void {
  if (!c) return;
  c.fetches++;
  if (c.refused) return;
  if (!isQuery) return void (c.refused = 'a mutation');
  const ext = cacheExtensionOf(extensions);
  if (typeof ext === 'string') return void (c.refused = ext);
  if (c.epoch !== null && c.epoch !== ext.epoch) return void (c.refused = 'subgraphs on different Redis');
  c.epoch = ext.epoch;
  // Read at several counts: current only while no tag passes the lowest.
  c.count = Math.min(c.count, ext.count);
  c.validUntil = Math.min(c.validUntil, ext.validUntil);
  c.personal ||= ext.personal;
  for (const t of ext.tags) c.tags.add(t);
}

/** Tells the collector which operation runs (didResolveOperation). */
export function cacheOperationPlugin<C extends BaseContext & { cache?: CacheCollector }>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (contextValue.cache) contextValue.cache.operation = operation?.operation ?? null;
        },
      };
    },
  };
}

interface Entry {
  epoch: string;
  count: number;
  tags: string[];
  validUntil: number;
  contentType: string;
  body: string;
}
/** At a shared key: the answer depends on who asks; look under the user's key. */
interface PersonalMarker {
  personal: true;
}
type Stored = Entry | PersonalMarker;

export interface ResponseCacheOptions {
  versions: TagVersions;
  redis: Redis;
  /** Key prefix (`angelis:`). */
  prefix: string;
  /** Changes with the supergraph and the gateway's own rules (limits, persisted mode): old entries are never read. */
  namespace: string;
  memoryBytes: number;
  maxEntryBytes: number;
  ttlMs: number;
  log: Logger;
  /** Redis calls on the request path give up after this (the answer is then computed, not cached). */
  timeoutMs?: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  stored: number;
  /** Entries found but written since (dropped). */
  stale: number;
  /** Lookups skipped: the operation was recently found never cacheable. */
  skipped: number;
  /** Answers not cached, by reason. */
  refused: Record<string, number>;
}

/** A cache key's hash, as its Redis key holds it. */
export const sha = (s: string) => createHash('sha256').update(s).digest('base64url');

export class ResponseCache {
  /** Least recently used out past `memoryBytes`. */
  private readonly memory: LRUCache<string, Stored>;
  readonly stats: CacheStats = { hits: 0, misses: 0, stored: 0, stale: 0, skipped: 0, refused: {} };
  /** Operations found never cacheable (a mutation, a subgraph that does not tag), until when their lookups are skipped. */
  private readonly never = new Map<string, number>();
  /** Keys (hashed) computed once already: the next computation is kept (admission). */
  private readonly seen = new Set<string>();

  private readonly o: ResponseCacheOptions;

  constructor(o: ResponseCacheOptions) {
    this.o = o;
    this.memory = new LRUCache({ maxSize: o.memoryBytes });
  }

  /** What its keys are namespaced by (the supergraph and the gateway's rules): the entity cache's keys too. */
  get namespace(): string {
    return this.o.namespace;
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    return withTimeout(p, this.o.timeoutMs ?? CACHE_REDIS_TIMEOUT_MS);
  }

  /** The in-memory key of a request: namespace, what the client accepts, scope, body. */
  private key(req: http.IncomingMessage, body: string, scope: string): string {
    return `${this.o.namespace}\u0000${req.headers.accept ?? ''}\u0000${scope}\u0000${body}`;
  }

  /** The Redis key of an in-memory key (or of its hash, when the caller has it already). */
  private redisKey(key: string, hashed = sha(key)): string {
    return `${this.o.prefix}cache:r:${hashed}`;
  }

  private remember(key: string, stored: Stored): void {
    const bytes = key.length + ('body' in stored ? stored.body.length + stored.tags.reduce((n, t) => n + t.length, 0) : 0) + 200;
    this.memory.set(key, stored, { size: bytes });
  }

  /** From memory (refreshing its recency) or else Redis. */
  private async find(key: string): Promise<Stored | null> {
    const local = this.memory.get(key);
    if (local) return local;
    const text = await this.withTimeout(this.o.redis.get(this.redisKey(key)));
    if (!text) return null;
    const stored = JSON.parse(text) as Stored;
    this.remember(key, stored);
    return stored;
  }

  /**
   * A current cached answer for this request, or null (the collector then gathers the
   * answer's tags). `operation` names the operation whatever its variables (text or
   * persisted hash, and name): one recently found never cacheable is not looked up.
   */
  async lookup(req: http.IncomingMessage, body: string, operationText: string, identity: Identity | null): Promise<{ body: string; contentType: string } | null> {
    if (!identity) return null;
    // Apollo refuses a POST that is not JSON (CSRF prevention): so does a hit.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return null;
    // Hashed only when some operation is known never cacheable (the usual case is none).
    const operation = this.never.size ? sha(operationText) : null;
    const never = operation === null ? undefined : this.never.get(operation);
    if (never !== undefined) {
      if (never > Date.now()) {
        this.stats.skipped++;
        return null;
      }
      this.never.delete(operation!);
    }
    try {
      const shared = this.key(req, body, sharedScope(identity));
      let key = shared;
      let found = await this.find(shared);
      if (found && 'personal' in found) {
        key = this.key(req, body, personalScope(identity));
        found = await this.find(key);
      }
      if (!found || 'personal' in found) {
        this.stats.misses++;
        return null;
      }
      const entry = found;
      const now = entry.validUntil > Date.now() ? await this.withTimeout(this.o.versions.read(entry.tags)) : null;
      if (!now || !stillCurrent(entry, now)) {
        this.stats.stale++;
        this.stats.misses++;
        this.memory.delete(key);
        this.o.redis.del(this.redisKey(key)).catch(() => {});
        return null;
      }
      this.stats.hits++;
      return { body: entry.body, contentType: entry.contentType };
    } catch (err) {
      this.stats.misses++;
      this.o.log.debug({ err }, 'response cache lookup failed: computing the answer');
      return null;
    }
  }

  /** Keeps a computed answer when everything behind it was tagged and it holds no error. */
  store(req: http.IncomingMessage, body: string, operationText: string, identity: Identity | null, c: CacheCollector, answer: { status: number; contentType: string; body: string }): void {
    const refused = this.refusal(identity, c, answer);
    if (refused) {
      this.stats.refused[refused] = (this.stats.refused[refused] ?? 0) + 1;
      if (STRUCTURAL.has(refused)) {
        // By hash: an operation text may be as large as a request body.
        const operation = sha(operationText);
        if (this.never.size >= NEVER_MAX) this.never.delete(this.never.keys().next().value!);
        this.never.set(operation, Date.now() + NEVER_MS);
      }
      return;
    }
    const shared = this.key(req, body, sharedScope(identity!));
    // Admission: an answer is kept the second time this instance computes it, so bodies
    // asked once (a search, a page size never repeated) cost no copy in memory or Redis and
    // cannot push out the ones that are asked again.
    const sighting = sha(shared);
    if (!this.seen.has(sighting)) {
      if (this.seen.size >= SEEN_MAX) this.seen.delete(this.seen.keys().next().value!);
      this.seen.add(sighting);
      this.stats.refused['first sight'] = (this.stats.refused['first sight'] ?? 0) + 1;
      return;
    }
    const entry: Entry = { epoch: c.epoch!, count: c.count, tags: [...c.tags], validUntil: c.validUntil, contentType: answer.contentType, body: answer.body };
    const ttl = this.o.ttlMs;
    const redis = this.o.redis;
    const writes: Promise<unknown>[] = [];
    if (c.personal) {
      const own = this.key(req, body, personalScope(identity!));
      this.remember(shared, { personal: true });
      this.remember(own, entry);
      writes.push(redis.set(this.redisKey(shared, sighting), JSON.stringify({ personal: true }), 'PX', ttl), redis.set(this.redisKey(own), JSON.stringify(entry), 'PX', ttl));
    } else {
      // A shared key once marked personal stays so: this caller's answer may not fit another's.
      const current = this.memory.peek(shared);
      if (current && 'personal' in current) return;
      this.remember(shared, entry);
      writes.push(redis.set(this.redisKey(shared, sighting), JSON.stringify(entry), 'PX', ttl));
    }
    this.stats.stored++;
    Promise.all(writes).catch((err) => this.o.log.debug({ err }, 'response cache: could not store an answer in Redis'));
  }

  private refusal(identity: Identity | null, c: CacheCollector, answer: { status: number; body: string }): string | null {
    if (!identity) return 'anonymous';
    if (c.operation !== 'query') return c.operation ?? 'no operation';
    if (c.refused) return c.refused;
    if (c.fetches === 0 || c.epoch === null) return 'no subgraph fetch';
    if (answer.status !== 200 || answer.body.includes('"errors"')) return 'an error';
    if (answer.body.length > this.o.maxEntryBytes) return 'too large';
    if (c.validUntil <= Date.now()) return 'expired';
    return null;
  }

  /** What this instance holds in memory. */
  inMemory(): { entries: number; bytes: number } {
    return { entries: this.memory.size, bytes: this.memory.calculatedSize };
  }

  /** Forgets what this instance holds in memory (tests). */
  clearMemory(): void {
    this.memory.clear();
  }
}

/** An operation whatever its variables: its text or persisted hash, and the name chosen in it. */
export function operationOf(parsed: unknown): string {
  const b = (parsed ?? {}) as { query?: unknown; operationName?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } };
  const text = typeof b.query === 'string' ? b.query : `#${String(b.extensions?.persistedQuery?.sha256Hash ?? '')}`;
  return `${text}\u0000${typeof b.operationName === 'string' ? b.operationName : ''}`;
}

/** What subgraphs decide visibility by: answers are shared within it. A service identity (`system:<name>`) is a scope of its own. */
export function sharedScope(i: Identity): string {
  const service = i.userId.startsWith('system:') ? i.userId : '';
  return `${i.kind}|${i.role}|${i.companyId ?? ''}|${i.profileId ?? ''}|${i.dev ? 'dev' : ''}|${service}`;
}

/** A user's own scope, for answers that read personal rows. */
export function personalScope(i: Identity): string {
  return `${sharedScope(i)}|${i.userId}`;
}
