import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { baseType, type ObjectType, type Schema } from '@apollo/federation-internals';
import { Kind, parse, print, visit, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionNode, type SelectionSetNode } from 'graphql';
import type { Identity } from '../platform/auth/identity.ts';
import type { Logger } from '../platform/logger.ts';
import { CACHE_REDIS_TIMEOUT_MS, withTimeout, type CacheExtension } from '../platform/response-cache/reads.ts';
import type { TagVersions } from '../platform/response-cache/versions.ts';
import { sha, sharedScope } from './response-cache.ts';

/**
 * The gateway's entity cache: the subtrees of a query that belong to one entity, cached
 * per entity, so a large read asks its subgraph only for what is not cached.
 *
 * A query sent to one subgraph as written (gateway/passthrough.ts) is split where it
 * selects an entity (a type with `@key(fields: "id")` that the subgraph resolves) below its
 * root field, with a subtree of its own and no variable in it: the subgraph is asked for
 * the query with each such selection cut down to `id` (the skeleton), then for the
 * entities not cached with `_entities`, selecting exactly what the client selected there.
 * Each entity's part of the answer is then what the client's query would have given there:
 * the same fields of the same row, resolved by the same resolvers for the same caller. The
 * split is made only at the outermost such entity, along a path of plain fields (no
 * fragment, no response key selected twice), so the parts fit back by response key.
 *
 * Cached per entity, keyed by the caller's permission scope (response-cache.ts
 * `sharedScope`), the entity's type and id, and the selection; kept in memory (least
 * recently used out) in front of Redis. Nothing is cached by time: an entity carries the
 * tags its fetch read (platform/response-cache/reads.ts) and is served only after one read
 * of their versions shows none written since; answers that read personal rows, hold an
 * error or left out an entity are not cached. Whatever the split path cannot answer
 * cleanly (an error, an entity missing) is answered by the client's query unsplit.
 */
export interface Boundary {
  /** Response keys from the root to the entity field. */
  path: string[];
  type: string;
  /** The client's selection on the entity, printed (part of the cache key). */
  selection: string;
  /** The `_entities` query for this selection. */
  query: string;
  document: DocumentNode;
}

export interface Split {
  /** The client's query with each boundary's selection cut down to `id`. */
  query: string;
  document: DocumentNode;
  boundaries: Boundary[];
}

/** Entity types the subgraph resolves by a key of `id` alone. */
function entityById(schema: Schema, type: string): boolean {
  const t = schema.type(type);
  if (!t || t.kind !== 'ObjectType') return false;
  return (t as ObjectType).appliedDirectives.some((d) => {
    if (d.name !== 'key') return false;
    const args = d.arguments() as { fields?: unknown; resolvable?: unknown };
    return typeof args.fields === 'string' && args.fields.trim() === 'id' && args.resolvable !== false;
  });
}

/** Whether a selection may be sent on its own: no variable, no directive, no named fragment in it. */
function selfContained(set: SelectionSetNode): boolean {
  let ok = true;
  visit(set, {
    Variable() {
      ok = false;
    },
    Directive() {
      ok = false;
    },
    FragmentSpread() {
      ok = false;
    },
  });
  return ok;
}

/** Whether a selection has a subtree of its own (a field with a selection): the ones worth a second fetch. */
const hasSubtree = (set: SelectionSetNode) => set.selections.some((s) => s.kind !== Kind.FIELD || s.selectionSet !== undefined);

const ID_ONLY: SelectionSetNode = { kind: Kind.SELECTION_SET, selections: [{ kind: Kind.FIELD, name: { kind: Kind.NAME, value: 'id' } }] };

/**
 * Where `op` (sent to the subgraph whose schema is `own`, with `fragments`) splits into a
 * skeleton and entity fetches, or null when it does not.
 */
export function splitQuery(own: Schema, op: OperationDefinitionNode, fragments: FragmentDefinitionNode[]): Split | null {
  const root = own.schemaDefinition.rootType('query')?.name;
  if (!root || op.operation !== 'query') return null;
  const boundaries: Boundary[] = [];
  const opName = op.name?.value ?? 'Query';

  const fieldType = (parent: string, name: string): string | null => {
    const t = own.type(parent);
    const f = t && 'field' in t ? (t as ObjectType).field(name) : undefined;
    return f?.type ? baseType(f.type).name : null;
  };

  /** The selection set with its boundaries cut (the same object when nothing is cut). */
  const walk = (set: SelectionSetNode, parent: string, path: string[]): SelectionSetNode => {
    // Parts fit back by response key: only plain fields, each key once, on the way down.
    const keys = new Set<string>();
    for (const s of set.selections) {
      if (s.kind !== Kind.FIELD) return set;
      const key = s.alias?.value ?? s.name.value;
      if (keys.has(key)) return set;
      keys.add(key);
    }
    let changed = false;
    const selections = set.selections.map((s): SelectionNode => {
      const field = s as FieldNode;
      if (!field.selectionSet) return field;
      const type = fieldType(parent, field.name.value);
      if (!type) return field;
      const here = [...path, field.alias?.value ?? field.name.value];
      if (path.length > 0 && entityById(own, type) && hasSubtree(field.selectionSet) && selfContained(field.selectionSet)) {
        const selection = print(field.selectionSet);
        const query = `query ${opName}_${type}Entities($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${type} ${selection} } }`;
        boundaries.push({ path: here, type, selection, query, document: parse(query) });
        changed = true;
        return { ...field, selectionSet: ID_ONLY };
      }
      const inner = walk(field.selectionSet, type, here);
      if (inner === field.selectionSet) return field;
      changed = true;
      return { ...field, selectionSet: inner };
    });
    return changed ? { ...set, selections } : set;
  };

  const cut = walk(op.selectionSet, root, []);
  if (boundaries.length === 0) return null;
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [{ ...op, selectionSet: cut }, ...fragments] };
  return { query: print(document), document, boundaries };
}

/** The objects at `path` in `data` (through lists and nulls), each with its parent and key to put a replacement in. */
export function objectsAt(data: unknown, path: readonly string[]): { parent: Record<string, unknown> | unknown[]; key: string | number; value: Record<string, unknown> }[] {
  const found: { parent: Record<string, unknown> | unknown[]; key: string | number; value: Record<string, unknown> }[] = [];
  const visitValue = (parent: Record<string, unknown> | unknown[], key: string | number, value: unknown, rest: readonly string[]): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => visitValue(value, i, item, rest));
      return;
    }
    if (typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    if (rest.length === 0) {
      found.push({ parent, key, value: object });
      return;
    }
    if (rest[0] in object) visitValue(object, rest[0], object[rest[0]], rest.slice(1));
  };
  if (data && typeof data === 'object' && path.length > 0) {
    const top = data as Record<string, unknown>;
    if (path[0] in top) visitValue(top, path[0], top[path[0]], path.slice(1));
  }
  return found;
}

interface Entry {
  epoch: string;
  count: number;
  tags: string[];
  validUntil: number;
  value: unknown;
}

export interface EntityCacheOptions {
  versions: TagVersions;
  redis: Redis;
  /** Key prefix (`angelis:`). */
  prefix: string;
  /** Changes with the supergraph and the gateway's rules: old entries are never read. */
  namespace: string;
  memoryBytes: number;
  ttlMs: number;
  log: Logger;
  timeoutMs?: number;
}

export interface EntityCacheStats {
  /** Entities served from the cache, fetched, found written since (dropped), stored. */
  hits: number;
  misses: number;
  stale: number;
  stored: number;
  /** Queries answered by a skeleton and entities, and those that fell back to the query unsplit. */
  split: number;
  unsplit: number;
}

/** Frozen all the way down: one cached object is shared by every answer that holds it. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The cache of entities; see the top of this file. */
export class EntityCache {
  /** Least recently used out past `memoryBytes`. */
  private readonly memory: LRUCache<string, Entry>;
  readonly stats: EntityCacheStats = { hits: 0, misses: 0, stale: 0, stored: 0, split: 0, unsplit: 0 };

  private readonly o: EntityCacheOptions;

  constructor(o: EntityCacheOptions) {
    this.o = o;
    this.memory = new LRUCache({ maxSize: o.memoryBytes });
  }

  /** The key of one entity's part for one caller's scope and selection. */
  key(identity: Identity, boundary: Boundary, id: string): string {
    return `${this.o.namespace}\u0000${sharedScope(identity)}\u0000${boundary.type}\u0000${id}\u0000${boundary.selection}`;
  }

  private redisKey(key: string): string {
    return `${this.o.prefix}cache:e:${sha(key)}`;
  }

  private remember(key: string, entry: Entry, bytes: number): void {
    this.memory.set(key, entry, { size: bytes });
  }

  /**
   * The current cached parts for `keys` (null where none): from memory or else Redis, then
   * one read of their tags' versions. Any failure of Redis leaves them all uncached.
   */
  async lookup(keys: readonly string[]): Promise<({ value: unknown; extension: CacheExtension } | null)[]> {
    const entries: (Entry | null)[] = keys.map((k) => this.memory.get(k) ?? null);
    try {
      const far = keys.flatMap((k, i) => (entries[i] ? [] : [i]));
      if (far.length) {
        const texts = await withTimeout(this.o.redis.mget(far.map((i) => this.redisKey(keys[i]))), this.o.timeoutMs ?? CACHE_REDIS_TIMEOUT_MS);
        far.forEach((i, j) => {
          const text = texts[j];
          if (!text) return;
          const entry = JSON.parse(text) as Entry;
          deepFreeze(entry.value);
          entries[i] = entry;
          this.remember(keys[i], entry, keys[i].length + text.length + 200);
        });
      }
      const now = Date.now();
      const tags = [...new Set(entries.flatMap((e) => (e && e.validUntil > now ? e.tags : [])))];
      const versions = tags.length ? await withTimeout(this.o.versions.read(tags), this.o.timeoutMs ?? CACHE_REDIS_TIMEOUT_MS) : { epoch: null, versions: [] };
      const version = new Map(tags.map((t, i) => [t, versions.versions[i]]));
      return entries.map((e, i) => {
        const current = e !== null && e.validUntil > now && e.epoch === versions.epoch && e.tags.every((t) => (version.get(t) ?? Infinity) <= e.count);
        if (!current) {
          if (e) {
            this.stats.stale++;
            this.memory.delete(keys[i]);
            this.o.redis.del(this.redisKey(keys[i])).catch(() => {});
          }
          this.stats.misses++;
          return null;
        }
        this.stats.hits++;
        return { value: e.value, extension: { tags: e.tags, epoch: e.epoch, count: e.count, personal: false, validUntil: e.validUntil } };
      });
    } catch (err) {
      this.o.log.debug({ err }, 'entity cache lookup failed: fetching the entities');
      this.stats.misses += keys.length;
      return keys.map(() => null);
    }
  }

  /** Keeps fetched parts that a clean, shareable, tagged fetch read (`extension`); values are frozen. */
  store(parts: readonly { key: string; value: unknown }[], extension: CacheExtension): void {
    if (extension.personal || extension.validUntil <= Date.now()) return;
    const pipeline = this.o.redis.pipeline();
    for (const { key, value } of parts) {
      const entry: Entry = { epoch: extension.epoch, count: extension.count, tags: extension.tags, validUntil: extension.validUntil, value: deepFreeze(value) };
      const text = JSON.stringify(entry);
      this.remember(key, entry, key.length + text.length + 200);
      pipeline.set(this.redisKey(key), text, 'PX', this.o.ttlMs);
      this.stats.stored++;
    }
    pipeline.exec().catch((err) => this.o.log.debug({ err }, 'entity cache: could not store entities in Redis'));
  }

  inMemory(): { entries: number; bytes: number } {
    return { entries: this.memory.size, bytes: this.memory.calculatedSize };
  }

  clearMemory(): void {
    this.memory.clear();
  }
}
