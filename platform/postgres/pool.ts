import pg from 'pg';
import type { Config } from '../config.ts';

// int8 (positions, counts) as numbers: positions stay far below 2^53 in practice.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// DATE as its ISO text, never a local-midnight JS Date.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** A statement with a name, so PostgreSQL parses and plans it once per connection. */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

/** Declares a named prepared statement; the name must be unique in the process. */
export function prepared(name: string, text: string): Prepared {
  return { name, text };
}

/** `keyed` statements by name, with the column of their rows that holds the key: the ones Db.merged may send for several requests at once. */
const KEYED = new Map<string, string>();

/**
 * A statement whose one parameter is an array of keys (`WHERE id = ANY($1)`), each row
 * carrying its key in column `key`, and whose rows for a key do not depend on which other
 * keys are asked with it (no LIMIT, no ORDER that matters, no aggregate across keys): reads
 * of it by concurrent requests may be sent as one (Db.merged). A request then gets the rows
 * whose key equals one it asked, as asked: a loader mapping rows to its keys by that column
 * (platform/graphql/loaders.ts) finds exactly what it finds when the statement runs alone.
 */
export function keyed(name: string, key: string, text: string): Prepared {
  KEYED.set(name, key);
  return prepared(name, text);
}

/** Keys one merged statement carries at most (unless one request asks more); more are sent in another. */
const MERGED_KEYS_MAX = 1_000;

interface MergedAsk {
  keys: readonly unknown[];
  resolve: (result: pg.QueryResult) => void;
  reject: (err: unknown) => void;
}

interface MergedBatch {
  name: string;
  text: string;
  /** The rows' key column. */
  key: string;
  asks: MergedAsk[];
  keys: number;
  sent: boolean;
}

export interface PoolSettings {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  /** Connections kept open (SQLAlchemy's pool_size). */
  size: number;
  /** Extra connections opened under load and closed when idle (SQLAlchemy's max_overflow). */
  overflow: number;
  statementTimeoutMs: number;
  /** A connection idle longer than this is checked with `SELECT 1` before it is handed out. */
  idleCheckMs: number;
  applicationName?: string;
}

/** Pool settings for one database of the configured server. */
export function poolSettings(config: Config, database: string, applicationName?: string): PoolSettings {
  return {
    host: config.ANGELIS_POSTGRES_DB_HOST ?? '127.0.0.1',
    port: config.ANGELIS_POSTGRES_DB_PORT,
    user: config.ANGELIS_POSTGRES_DB_USER,
    password: config.ANGELIS_POSTGRES_DB_PASSWORD,
    database,
    size: config.ANGELIS_POSTGRES_POOL_SIZE,
    overflow: config.ANGELIS_POSTGRES_POOL_OVERFLOW,
    statementTimeoutMs: config.ANGELIS_POSTGRES_STATEMENT_TIMEOUT_MS,
    idleCheckMs: config.ANGELIS_POSTGRES_IDLE_CHECK_MS,
    applicationName,
  };
}

const lastUsed = new WeakMap<pg.PoolClient, number>();

/** The check of a connection that sat idle past `idleCheckMs` (a plain read: the response cache's read log takes it as reading nothing). */
const PRE_PING = 'SELECT 1 /* pre-ping */';

/**
 * A PostgreSQL pool with the platform's habits: pool size + overflow, idle connections
 * checked before use, a statement timeout, and a statement counter that tests and
 * benchmarks read to prove batching.
 *
 * Mapping to `pg`: `min = size` connections are kept; `max = size + overflow`; the
 * overflow connections close after `idleTimeoutMillis` (pg-pool only closes clients
 * above `min`).
 */
export class Db {
  readonly pool: pg.Pool;
  /**
   * Statements sent to the server through this pool, BEGIN/COMMIT included; not the
   * pre-ping of a connection that sat idle (the pool's housekeeping, which lands in
   * whichever request happens to check that connection out).
   */
  statements = 0;

  readonly settings: PoolSettings;

  constructor(settings: PoolSettings) {
    this.settings = settings;
    this.pool = new pg.Pool({
      host: settings.host,
      port: settings.port,
      user: settings.user,
      password: settings.password,
      database: settings.database,
      min: settings.size,
      max: settings.size + settings.overflow,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      statement_timeout: settings.statementTimeoutMs,
      application_name: settings.applicationName ?? 'angelis',
      options: '-c TimeZone=UTC',
    });
    // An idle client losing its connection must not crash the process; the pool drops it.
    this.pool.on('error', () => {});
    this.pool.on('connect', (client) => {
      const original = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        if (args[0] !== PRE_PING) this.statements++;
        if (!this.quiet.has(args[0] as object)) this.observer?.(args[0], Array.isArray(args[1]) ? args[1] : (args[0] as { values?: unknown[] })?.values);
        return original(...args);
      };
    });
    // pool.query hands the statement to a client later, possibly in another request's async
    // context: the observer sees it here too, in the caller's.
    const poolQuery = this.pool.query.bind(this.pool) as (...args: unknown[]) => unknown;
    (this.pool as { query: unknown }).query = (...args: unknown[]) => {
      if (!this.quiet.has(args[0] as object)) this.observer?.(args[0], Array.isArray(args[1]) ? args[1] : (args[0] as { values?: unknown[] })?.values);
      return poolQuery(...args);
    };
  }

  /**
   * The pool, with the reads of `keyed` statements that concurrent requests ask for in one
   * turn of the event loop sent as one statement for all their keys: one round trip and one
   * socket write instead of one per request (on a by-id read, the write alone was about a
   * third of Workforce's CPU). Each asker is observed as having sent its own keys (the
   * response cache's read log tags exactly what it asked), and gets copies of the rows of
   * its own keys. When the server refuses the merged statement (say one request's malformed id),
   * each asker's keys are sent alone, so a request fails only by its own keys. Any other
   * statement goes to the pool as it is. For reads outside transactions only.
   */
  readonly merged: Queryable = { query: ((statement: unknown, values?: unknown) => this.mergedQuery(statement, values)) as Queryable['query'] };

  /** Key reads merged: statements sent for several requests at once, and the requests they served. */
  readonly merging = { statements: 0, requests: 0 };

  private readonly pending = new Map<string, MergedBatch>();
  /** Statements sent for merged reads, observed already (as each request asked). */
  private readonly quiet = new WeakSet<object>();

  private mergedQuery(statement: unknown, values: unknown): Promise<pg.QueryResult> {
    const config = statement as { name?: unknown; text?: unknown; values?: unknown[] } | null;
    const keys = config?.values?.[0];
    if (typeof config !== 'object' || config === null || typeof config.name !== 'string' || typeof config.text !== 'string' || !KEYED.has(config.name)
      || values !== undefined || config.values?.length !== 1 || !Array.isArray(keys)) {
      return (this.pool.query as (...args: unknown[]) => Promise<pg.QueryResult>)(statement, values);
    }
    // Seen as the asker sent it, in its async context (the response cache's read log).
    this.observer?.(statement, config.values);
    return new Promise((resolve, reject) => {
      const name = config.name as string;
      let batch = this.pending.get(name);
      // Full: sent now, and these keys start the next one.
      if (batch && batch.keys + keys.length > MERGED_KEYS_MAX) {
        void this.sendMerged(batch);
        batch = undefined;
      }
      if (!batch) {
        batch = { name, text: config.text as string, key: KEYED.get(name)!, asks: [], keys: 0, sent: false };
        this.pending.set(name, batch);
        const scheduled = batch;
        setImmediate(() => void this.sendMerged(scheduled));
      }
      batch.asks.push({ keys, resolve, reject });
      batch.keys += keys.length;
    });
  }

  private async sendMerged(batch: MergedBatch): Promise<void> {
    if (batch.sent) return;
    batch.sent = true;
    if (this.pending.get(batch.name) === batch) this.pending.delete(batch.name);
    const { asks } = batch;
    if (asks.length === 1) return void this.sendQuiet(batch, asks[0].keys).then(asks[0].resolve, asks[0].reject);
    this.merging.statements++;
    this.merging.requests += asks.length;
    try {
      const result = await this.sendQuiet(batch, [...new Set(asks.flatMap((a) => a.keys))]);
      const byKey = new Map<unknown, pg.QueryResultRow[]>();
      for (const row of result.rows) {
        const rows = byKey.get(row[batch.key]);
        if (rows) rows.push(row);
        else byKey.set(row[batch.key], [row]);
      }
      // Each request's own rows, as copies: what one request does with its rows reaches no other.
      for (const a of asks) {
        const rows = [...new Set(a.keys)].flatMap((k) => byKey.get(k) ?? []).map((r) => ({ ...r }));
        a.resolve({ ...result, rows, rowCount: rows.length });
      }
    } catch (err) {
      // Lost connection or timed out: asking again, once per request, would only add load.
      if (isConnectionError(err) || sqlState(err) === '57014') return void asks.forEach((a) => a.reject(err));
      for (const a of asks) this.sendQuiet(batch, a.keys).then(a.resolve, a.reject);
    }
  }

  private sendQuiet(batch: MergedBatch, keys: readonly unknown[]): Promise<pg.QueryResult> {
    const statement = { name: batch.name, text: batch.text, values: [keys] };
    this.quiet.add(statement);
    return this.pool.query(statement);
  }

  private observer: ((statement: unknown, values: readonly unknown[] | undefined) => void) | undefined;

  /** Calls `fn` with every statement sent through this pool, in the sender's async context (the response cache's read log). */
  observe(fn: (statement: unknown, values: readonly unknown[] | undefined) => void): void {
    this.observer = fn;
  }

  /** Checks a client out, pinging it first when it sat idle past `idleCheckMs`. */
  async connect(): Promise<pg.PoolClient> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      const used = lastUsed.get(client);
      if (used === undefined || Date.now() - used < this.settings.idleCheckMs) return client;
      try {
        await client.query(PRE_PING);
        return client;
      } catch (err) {
        client.release(err as Error);
        if (attempt >= 2) throw err;
      }
    }
  }

  /** Returns a client to the pool; a client that failed is destroyed instead. */
  release(client: pg.PoolClient, err?: Error): void {
    lastUsed.set(client, Date.now());
    client.release(err);
  }

  /** Runs one statement (prepared when given a `Prepared`). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    statement: string | Prepared,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      return await run<R>(client, statement, values);
    } catch (err) {
      if (isConnectionError(err)) broken = err as Error;
      throw err;
    } finally {
      this.release(client, broken);
    }
  }

  /**
   * Runs `fn` in one transaction; rolls back when it throws. BEGIN is sent without waiting
   * for its answer: the connection runs statements in order, so `fn`'s first statement
   * follows it, and whatever `fn` computes before that overlaps the round trip.
   */
  async transaction<T>(fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      const begun = client.query('BEGIN');
      begun.catch(() => {}); // awaited below; fn's own statements fail first if it failed
      const result = await fn(client);
      await begun;
      await client.query('COMMIT');
      this.release(client);
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
        this.release(client);
      } catch (rollbackErr) {
        this.release(client, rollbackErr as Error);
      }
      throw err;
    }
  }

  async end(): Promise<void> {
    await this.pool.end();
  }
}

/** Runs a statement on a client or transaction. */
export function run<R extends pg.QueryResultRow = pg.QueryResultRow>(
  client: Queryable,
  statement: string | Prepared,
  values?: unknown[],
): Promise<pg.QueryResult<R>> {
  if (typeof statement === 'string') return client.query<R>(statement, values);
  return client.query<R>({ name: statement.name, text: statement.text, values });
}

/** Whether an error is the connection's (lost, refused, shut down), not the server refusing a statement. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === undefined || code.startsWith('08') || code === '57P01';
}

/** PostgreSQL SQLSTATE of an error, if it came from the server. */
export function sqlState(err: unknown): string | undefined {
  return (err as { code?: string })?.code;
}
