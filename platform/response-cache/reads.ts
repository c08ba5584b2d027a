import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { RecordedEvent } from '../event-store/types.ts';
import type { TagVersions } from './versions.ts';

/**
 * The subgraph side of the response cache: what an answer read, found out where reads
 * happen rather than declared by resolvers. Every statement sent to the subgraph's
 * database during a request is seen (platform/postgres/pool.ts `Db.observe`) and turned
 * into tags by the domain's rules; a statement the rules cannot vouch for (a table no
 * event writes, a write, a transaction) and any other I/O (another subgraph's API) make
 * the answer uncacheable. So a resolver added tomorrow is safe by default: it is either
 * tagged by what it reads or not cached.
 *
 * The answer tells the gateway in `extensions.angelisCache` (only for a query with no
 * errors): the tags, the count read before any data (versions.ts), whether it read the
 * caller's personal rows, and until when it holds whatever is written (the date).
 */
export interface ReadRules {
  /** Read tables every write of which is a projection of this domain's events (only these may be read by a cached answer). */
  tables: ReadonlySet<string>;
  /** Tables whose rows depend on who the caller is, not only on their role and company (notifications, read markers). */
  personal: ReadonlySet<string>;
  /**
   * Point reads by prepared statement name: the streams whose rows are all they read
   * (found or not: a row that appears later is written by that stream's events).
   */
  points: Readonly<Record<string, (values: readonly unknown[]) => string[]>>;
  /** Until when an answer holds whatever is written (ms since epoch): e.g. the next midnight, when "today" changes. */
  validUntil(): number;
  /** The tags a committed event invalidates: its stream and the tables its projection writes. */
  written(event: RecordedEvent): string[];
  /**
   * Whether resolvers may use who the caller is beyond their role, company and profile (the
   * user id: "my own record", `me`): reading the caller's user id, session or actor id then
   * keeps the answer per user (trackedCaller).
   */
  trackCaller?: boolean;
}

/** What one request read: built as it runs. */
export class ReadLog {
  readonly tags = new Set<string>();
  personal = false;
  /** Why the answer may not be cached (first reason only); null: cacheable so far. */
  uncacheable: string | null = null;
  /** The count read before the data (versions.ts), once the operation is known to be a query. */
  start: { epoch: string; count: number } | null = null;
  /**
   * Until when the answer holds, taken when the request starts: before the subgraph
   * decides what "today" is, so an answer begun before midnight and sent after it is not
   * kept through the next day.
   */
  readonly validUntil: number;

  readonly rules: ReadRules;

  constructor(rules: ReadRules) {
    this.rules = rules;
    this.validUntil = rules.validUntil();
  }

  refuse(reason: string): void {
    this.uncacheable ??= reason;
  }
}

const logs = new AsyncLocalStorage<ReadLog>();

/** Runs `fn` (one request) with a read log that statements and other I/O report to. */
export function withReadLog<T>(log: ReadLog, fn: () => T): T {
  return logs.run(log, fn);
}

/**
 * The caller as resolvers see it when the rules track it: reading the user id (or the
 * actor's id) marks the current answer personal, reading the session makes it uncacheable.
 * Other fields (role, company, profile) are the scope every answer is already keyed by.
 */
export function trackedCaller<T extends object | null>(value: T, keys: { personal: readonly string[]; uncacheable?: readonly string[] }): T {
  if (!value) return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === 'string') {
        const log = logs.getStore();
        if (log && keys.personal.includes(key)) log.personal = true;
        // Answers are kept per user at most: one that depends on the session is not kept.
        if (log && keys.uncacheable?.includes(key)) log.refuse(`reads the caller's ${key}`);
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/** I/O the rules cannot tag (another subgraph's API, an external source): the current answer is not cached. */
export function uncacheableRead(reason: string): void {
  logs.getStore()?.refuse(reason);
}

const WRITES = /\b(insert|update|delete|merge|truncate|copy|call|lock|pg_advisory\w*)\b/i;
/**
 * What makes an answer depend on more than the rows read: the clock, randomness,
 * sequences, and which transactions are running (a commit-order horizon such as
 * `pg_snapshot_xmin(pg_current_snapshot())` hides rows until older transactions end).
 */
const VOLATILE = /\b(now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday|random|nextval|setval|currval|lastval|gen_random_uuid|uuid_generate_\w+|pg_current_snapshot|pg_snapshot_\w+|txid_\w+|pg_current_xact_id\w*)\s*\(|\b(current_date|current_time|current_timestamp|localtime|localtimestamp)\b/i;
// A name after FROM or JOIN that is not a function call (unnest(...), jsonb_array_elements(...)).
const TABLES = /\b(?:from|join)\s+([a-z_][a-z0-9_.]*)\b(?!\s*\()/gi;
/** Forms the table finder would not see through: a quoted name, LATERAL (comma joins: commaJoin). */
const HIDDEN = /\b(?:from|join)\s+"|\blateral\b/i;
const FROM_CLAUSE = /\bfrom\b((?:(?!\b(?:where|group|order|limit|offset|having|union|intersect|except|window|for)\b)[\s\S])*)/gi;

/** Whether any FROM clause, at any depth of parentheses, lists tables with commas. */
function commaJoin(sql: string): boolean {
  const levels: string[] = [];
  let text = sql;
  for (;;) {
    const next = text.replace(/\(([^()]*)\)/g, (_, inner: string) => (levels.push(inner), ' _ '));
    if (next === text) break;
    text = next;
  }
  levels.push(text);
  return levels.some((level) => [...level.matchAll(FROM_CLAUSE)].some((m) => m[1].includes(',')));
}

/** The tables a statement reads (lower case), or null when it is not a plain read of rows alone. */
export function tablesRead(sql: string): string[] | null {
  const head = sql.trimStart().slice(0, 6).toLowerCase();
  if (head !== 'select' || WRITES.test(sql) || VOLATILE.test(sql) || HIDDEN.test(sql) || commaJoin(sql)) return null;
  return [...new Set([...sql.matchAll(TABLES)].map((m) => m[1].toLowerCase()))];
}

/** A stream's tag (the rows its events wrote) and a read table's: what the read log records and rules' `written` returns. */
export const streamTag = (stream: string) => `s:${stream}`;
export const tableTag = (table: string) => `t:${table}`;

/** What a committed event invalidates: its stream and the tables its projection writes (a rules' `written`). */
export function eventTags(event: RecordedEvent, tables: readonly string[]): string[] {
  return [streamTag(event.streamId), ...tables.map(tableTag)];
}

/** The ids a point statement reads by: its first parameter, an array (`id = ANY($1)`). */
export function pointIds(values: readonly unknown[]): string[] {
  return Array.isArray(values[0]) ? (values[0] as unknown[]).map(String) : [];
}

/** tablesRead by statement text: a subgraph sends a fixed set of texts (its prepared statements), so each is read once. */
const tablesByText = new Map<string, string[] | null>();
const TABLES_BY_TEXT_MAX = 1_000;
function tablesOf(text: string): string[] | null {
  let tables = tablesByText.get(text);
  if (tables === undefined) {
    tables = tablesRead(text);
    if (tablesByText.size >= TABLES_BY_TEXT_MAX) tablesByText.clear();
    tablesByText.set(text, tables);
  }
  return tables;
}

/** Called for every statement the subgraph's pool sends: tags it into the current request's log, if any. */
export function recordStatement(statement: unknown, values: readonly unknown[] | undefined): void {
  const log = logs.getStore();
  if (!log || log.uncacheable) return;
  const { text, name } = typeof statement === 'string' ? { text: statement, name: undefined } : ((statement ?? {}) as { text?: string; name?: string });
  if (typeof text !== 'string') return log.refuse('a statement without text');
  const tables = tablesOf(text);
  if (!tables) return log.refuse(`not a plain read: ${text.slice(0, 40)}`);
  const rules = log.rules;
  for (const table of tables) {
    if (!rules.tables.has(table)) return log.refuse(`reads ${table}, which no event writes`);
    if (rules.personal.has(table)) log.personal = true;
  }
  const point = name ? rules.points[name] : undefined;
  if (point) {
    for (const stream of point(values ?? [])) log.tags.add(streamTag(stream));
  } else {
    for (const table of tables) log.tags.add(tableTag(table));
  }
}

/** The extension a cacheable answer carries to the gateway. */
export interface CacheExtension {
  /** Tags, each prefixed with the subgraph's name. */
  tags: string[];
  epoch: string;
  count: number;
  personal: boolean;
  validUntil: number;
}

/**
 * How long a request waits for Redis on its way (a subgraph's count before its data, a
 * gateway's lookup or check of a joined answer): then it goes on uncached.
 */
export const CACHE_REDIS_TIMEOUT_MS = 250;

/** `p`, or a rejection after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}

/**
 * The count a gateway read before sending its request (`<count> <epoch>`): read in the same
 * Redis round trip as its rate-limit charge, so the subgraph need not ask Redis again. Read
 * before the request was sent, it is read before the subgraph reads any data, which is all
 * versions.ts asks of it. Not secret and not signed: the answer it goes into goes back to
 * whoever sent it, so a made-up count can only mislead its own sender.
 */
export const CACHE_START_HEADER = 'x-angelis-cache-start';

export function formatCacheStart(start: { epoch: string; count: number }): string {
  return `${start.count} ${start.epoch}`;
}

// The count (a Redis integer) and the epoch (versions.ts: a UUID and the server's run_id).
const START_VALUE = /^(\d{1,15}) ([\w:-]{1,200})$/;

/** The count a request carries (CACHE_START_HEADER), or null for none or one that is not well formed. */
export function parseCacheStart(value: string | undefined | null): { epoch: string; count: number } | null {
  const m = value ? START_VALUE.exec(value) : null;
  return m ? { epoch: m[2], count: Number(m[1]) } : null;
}

/** The tag every answer of a subgraph carries: bumped when its read model is rebuilt or migrated. */
export const wholeReadModel = (subgraph: string) => `${subgraph}/all`;

/**
 * Takes the count before a query's data (awaited in didResolveOperation, before
 * execution): the one the gateway sent (CACHE_START_HEADER), else read from Redis; and
 * puts the extension on a clean query's answer. Mutations and subscriptions carry none.
 */
export function cacheTagsPlugin<C extends BaseContext>(subgraph: string, versions: TagVersions): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      const log = logs.getStore();
      if (!log) return;
      return {
        async didResolveOperation({ operation, request }) {
          if (operation?.operation !== 'query') return log.refuse(operation?.operation ?? 'no operation');
          try {
            log.start = parseCacheStart(request.http?.headers.get(CACHE_START_HEADER)) ?? (await withTimeout(versions.start(), CACHE_REDIS_TIMEOUT_MS));
          } catch {
            log.refuse('Redis unavailable');
          }
        },
        async willSendResponse({ response, operation }) {
          if (response.body.kind !== 'single' || operation?.operation !== 'query') return;
          const result = response.body.singleResult;
          // Why not, so the gateway tells a passing refusal from a subgraph that never tags.
          const refused = log.uncacheable ?? (result.errors?.length ? 'an error' : !log.start ? 'no count' : null);
          if (refused) {
            result.extensions = { ...result.extensions, angelisCache: { refused } };
            return;
          }
          const ext: CacheExtension = {
            tags: [wholeReadModel(subgraph), ...[...log.tags].map((t) => `${subgraph}/${t}`)],
            epoch: log.start!.epoch,
            count: log.start!.count,
            personal: log.personal,
            validUntil: log.validUntil,
          };
          result.extensions = { ...result.extensions, angelisCache: ext };
        },
      };
    },
  };
}

/** The tags a batch of committed events invalidates, prefixed with the subgraph's name. */
export function writtenTags(subgraph: string, rules: Pick<ReadRules, 'written'>, events: readonly RecordedEvent[]): string[] {
  const tags = new Set<string>();
  for (const e of events) for (const t of rules.written(e)) tags.add(`${subgraph}/${t}`);
  return [...tags];
}
