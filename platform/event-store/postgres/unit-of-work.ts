import type pg from 'pg';
import { isConnectionError, type Db } from '../../postgres/pool.ts';
import type { UnitOfWork } from '../port.ts';

/**
 * A PostgreSQL unit of work on one pooled connection. BEGIN is sent only when a statement
 * goes through `tx` (and not awaited on its own: the connection runs statements in
 * order), so a unit whose only write is one atomic statement sent through `client` (a
 * fused append + projection) costs one round trip and no transaction at all.
 */
export class PostgresUnitOfWork implements UnitOfWork<pg.PoolClient> {
  readonly tx: pg.PoolClient;
  private begun = false;
  committing = false;

  private readonly db: Db;
  /** The connection itself: statements sent here do not open the transaction. */
  readonly client: pg.PoolClient;

  constructor(
    db: Db,
    client: pg.PoolClient,
  ) {
    this.db = db;
    this.client = client;
    this.tx = new Proxy(client, {
      get: (target, prop, receiver) => {
        if (prop !== 'query') return Reflect.get(target, prop, receiver);
        return (...args: unknown[]) => {
          this.open();
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      },
    });
  }

  /** Whether a transaction is open on the connection. */
  get inTransaction(): boolean {
    return this.begun;
  }

  /** Sends BEGIN now (e.g. to make a following statement on `client` part of the transaction). */
  open(): void {
    if (this.begun) return;
    this.begun = true;
    this.client.query('BEGIN').catch(() => {}); // the next statement fails too if it failed
  }

  /** About to send a statement on `client` that commits by itself when no transaction is open. */
  sendingAtomic(): void {
    if (!this.begun) this.committing = true;
  }

  async commit(): Promise<void> {
    if (this.begun) {
      this.committing = true;
      await this.client.query('COMMIT');
    }
    this.db.release(this.client);
  }

  async abort(err: unknown): Promise<void> {
    const c = this.client;
    if (this.begun && !this.committing) {
      await c.query('ROLLBACK').then(
        () => this.db.release(c),
        (e: Error) => this.db.release(c, e),
      );
    } else {
      this.db.release(c, isConnectionError(err) ? (err as Error) : undefined);
    }
  }
}
