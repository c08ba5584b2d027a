import { GraphQLError } from 'graphql';
import type pg from 'pg';
import { isConnectionError, type Db } from '../postgres/pool.ts';
import { CommitNotifier, postgresEventStore, StreamVersionConflict, type FusedProjection, type StreamAppend } from './postgres.ts';
import type { AppendResult, DomainEvent, EventMetadata, RecordedEvent, WrittenRows } from './types.ts';

/** Folds a stream's events into the state a decision needs. Pure. */
export interface Evolver<S, E extends DomainEvent> {
  initialState(): S;
  evolve(state: S, event: RecordedEvent<E>): S;
}

export interface CommandOptions<S, E extends DomainEvent> {
  streamId: string;
  evolver: Evolver<S, E>;
  /**
   * Decides the events from the current state. It may read other aggregates' read tables
   * through `tx` (same transaction) and throws domain errors to refuse the command.
   */
  decide(state: S, version: number, tx: pg.PoolClient): E[] | Promise<E[]>;
  /**
   * The same projection as `project`, written to ride in the append statement, so a batch
   * is one statement (see FusedProjection). Optional; the same object for a whole domain.
   */
  fused?: FusedProjection;
  /**
   * Updates the read tables from the new events, in the same transaction. In a batch it is
   * called once for all the commands that share it, with their events in append order
   * (several streams, each stream's events in order): pass the same function to every
   * command of a domain.
   */
  project(tx: pg.PoolClient, events: RecordedEvent<E>[]): Promise<WrittenRows | void>;
  expectedVersion?: number;
  /** Stored with every event; a function when it depends on the state (e.g. the tenant). */
  metadata: EventMetadata | ((state: S) => EventMetadata);
}

export interface CommandResult<S, E extends DomainEvent> {
  state: S;
  version: number;
  events: RecordedEvent<E>[];
  /** Rows the projection wrote (in a batch, the whole batch's): see WrittenRows. */
  written: WrittenRows;
}

interface Cached {
  state: unknown;
  version: number;
}

/** Called after a command's transaction commits (notifications, cache invalidation). */
export type CommitListener = (events: RecordedEvent[]) => void;

export interface CommandHandlerOptions {
  /** Aggregate states kept in memory (LRU). */
  cacheSize?: number;
  /** Re-decisions after a stale cached state, before the conflict reaches the caller. */
  maxRetries?: number;
  /** Commands committed together in one transaction, at most. 1 turns batching off. */
  maxBatch?: number;
  /** Transactions (batches) in flight at once. */
  concurrency?: number;
  /**
   * While a transaction is in flight, another starts only once this many commands wait;
   * fewer wait for it and then commit together.
   */
  joinBelow?: number;
}

/** A command waiting for, or taking part in, a batch. */
interface Pending {
  cmd: CommandOptions<unknown, DomainEvent>;
  attempt: number;
  resolve(result: CommandResult<unknown, DomainEvent>): void;
  reject(err: unknown): void;
}

/** What deciding one command of a batch came to, before the append. */
type Decision =
  | { kind: 'events'; p: Pending; state: unknown; version: number; events: DomainEvent[]; metadata: EventMetadata }
  | { kind: 'done'; p: Pending; result: CommandResult<unknown, DomainEvent> }
  | { kind: 'refused'; p: Pending; err: unknown }
  | { kind: 'conflict'; p: Pending; err: StreamVersionConflict };

/**
 * Runs commands: load the stream, decide, then append and project in ONE transaction.
 *
 * Aggregate states are cached in memory by stream (LRU), so a command usually skips
 * reading its stream; the append's version check makes a stale cache harmless: on a
 * conflict the entry is dropped, the stream re-read and the command decided again
 * (a bounded retry) unless the caller pinned `expectedVersion`, which then is a CONFLICT.
 *
 * Group commit: commands that arrive while `concurrency` transactions are in flight wait
 * and then commit together, one transaction for up to `maxBatch` of them (one per stream),
 * with one append statement for all their events. Each command is still decided and
 * judged alone: a refused command or a stale version fails only that command. A batch
 * the database refuses as a whole (a unique index, a failed statement) is rolled back and
 * its commands re-run one transaction each, so only the command at fault fails. Under
 * load the fixed costs of a transaction (BEGIN, COMMIT and its WAL flush, round trips)
 * are shared. When the commands' projection can be fused into the append (one event per
 * stream, FusedProjection) and no decision read anything, the batch is one statement
 * with no BEGIN/COMMIT at all, a lone command included.
 */
export class CommandHandler {
  private readonly cache = new Map<string, Cached>();
  private readonly listeners: CommitListener[] = [];
  private readonly notifier: CommitNotifier;
  private readonly queue: Pending[] = [];
  /** Streams with a command in a transaction now: their next command waits. */
  private readonly busy = new Set<string>();
  private inFlight = 0;
  private readonly maxRetries: number;
  private readonly maxBatch: number;
  private readonly concurrency: number;
  private readonly joinBelow: number;

  constructor(
    readonly db: Db,
    private readonly options: CommandHandlerOptions = {},
  ) {
    this.notifier = new CommitNotifier(db);
    this.maxRetries = options.maxRetries ?? 3;
    this.maxBatch = options.maxBatch ?? 64;
    this.concurrency = options.concurrency ?? 2;
    this.joinBelow = options.joinBelow ?? 4;
  }

  /** Registers a listener for committed events. */
  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  /** Forgets every cached aggregate (after a rebuild or in tests). */
  clearCache(): void {
    this.cache.clear();
  }

  handle<S, E extends DomainEvent>(cmd: CommandOptions<S, E>): Promise<CommandResult<S, E>> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        cmd: cmd as unknown as CommandOptions<unknown, DomainEvent>,
        attempt: 0,
        resolve: resolve as Pending['resolve'],
        reject,
      });
      this.pump();
    });
  }

  /** Starts batches while there is room: the queue's oldest commands, one per free stream. */
  private pump(): void {
    // With a transaction in flight, a few waiting commands wait for it to finish and then
    // commit together, rather than paying a transaction's round trips for one or two.
    while (this.inFlight < this.concurrency && this.queue.length > 0 && (this.inFlight === 0 || this.queue.length >= this.joinBelow)) {
      const batch: Pending[] = [];
      for (let i = 0; i < this.queue.length && batch.length < this.maxBatch; ) {
        const p = this.queue[i];
        if (this.busy.has(p.cmd.streamId)) {
          i++;
          continue;
        }
        this.busy.add(p.cmd.streamId);
        batch.push(p);
        this.queue.splice(i, 1);
      }
      if (batch.length === 0) return;
      this.inFlight++;
      void this.runBatch(batch).finally(() => {
        for (const p of batch) this.busy.delete(p.cmd.streamId);
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    let decisions: Decision[] | undefined;
    let client: pg.PoolClient | undefined;
    // BEGIN is sent only when a statement needs the transaction: a batch that is one
    // fused statement (append + projection) is atomic without one. `committing`: a
    // statement that may have committed was sent (COMMIT, or that fused statement).
    const tx = { begun: false, committing: false };
    try {
      client = await this.db.connect();
      const c = client;
      const begin = () => {
        if (tx.begun) return;
        tx.begun = true;
        c.query('BEGIN').catch(() => {}); // the next statement fails too if it failed
      };
      decisions = await this.attemptBatch(lazyTransaction(c, begin), c, batch, tx);
      if (tx.begun) {
        tx.committing = true;
        await c.query('COMMIT');
      }
      this.db.release(c);
    } catch (err) {
      if (client) {
        const c = client;
        if (tx.begun && !tx.committing) await c.query('ROLLBACK').then(() => this.db.release(c), (e: Error) => this.db.release(c, e));
        else this.db.release(c, isConnectionError(err) ? (err as Error) : undefined);
      }
      // A commit that may or may not have happened: nothing is re-run.
      if (tx.committing && isConnectionError(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      // Refused as a whole, nothing written: each command again in its own transaction, so
      // only the command at fault fails (and a real outage fails each with its own error).
      await Promise.all(batch.map((p) => this.runAlone(p)));
      return;
    }
    const committed: RecordedEvent[] = [];
    for (const d of decisions!) {
      if (d.kind === 'done') {
        this.remember(d.p.cmd.streamId, { state: d.result.state, version: d.result.version });
        committed.push(...(d.result.events as RecordedEvent[]));
        d.p.resolve(d.result);
      } else if (d.kind === 'refused') {
        d.p.reject(d.err);
      } else if (d.kind === 'conflict') {
        this.cache.delete(d.p.cmd.streamId);
        if (d.p.cmd.expectedVersion !== undefined || d.p.attempt >= this.maxRetries) d.p.reject(d.err);
        else this.queue.unshift({ ...d.p, attempt: d.p.attempt + 1 });
      }
    }
    this.committed(committed);
  }

  /** One command, one transaction, retried on a stale cached state. */
  private async runAlone(p: Pending): Promise<void> {
    for (let attempt = p.attempt; ; attempt++) {
      let decision: Decision;
      try {
        [decision] = await this.db.transaction((tx) => this.attemptBatch(tx, tx, [{ ...p, attempt }], { begun: true, committing: false }));
      } catch (err) {
        // A concurrent writer raced past the version check (unique index): a conflict too.
        if (!(err instanceof StreamVersionConflict)) return p.reject(err);
        decision = { kind: 'conflict', p, err };
      }
      if (decision.kind === 'done') {
        this.remember(p.cmd.streamId, { state: decision.result.state, version: decision.result.version });
        this.committed(decision.result.events as RecordedEvent[]);
        return p.resolve(decision.result);
      }
      if (decision.kind !== 'conflict') return p.reject(decision.kind === 'refused' ? decision.err : new Error('undecided command'));
      this.cache.delete(p.cmd.streamId);
      if (p.cmd.expectedVersion !== undefined || attempt >= this.maxRetries) return p.reject(decision.err);
    }
  }

  private committed(events: RecordedEvent[]): void {
    if (events.length === 0) return;
    this.notifier.poke();
    for (const listener of this.listeners) listener(events);
  }

  /** The stream's cached state, unless it must be read (a retry, or not the version the caller expects). */
  private cached<S>(cmd: CommandOptions<S, DomainEvent>, reload: boolean): { state: S; version: number } | undefined {
    const current = reload ? undefined : (this.cache.get(cmd.streamId) as { state: S; version: number } | undefined);
    // A cached version other than the one the caller expects may just be stale: re-read.
    if (current && cmd.expectedVersion !== undefined && current.version !== cmd.expectedVersion) return undefined;
    return current;
  }

  /** The stream's current state, folded from its events in `tx`. */
  private async load<S>(tx: pg.PoolClient, cmd: CommandOptions<S, DomainEvent>): Promise<{ state: S; version: number }> {
    const events = await postgresEventStore.readStream(tx, cmd.streamId);
    return { state: fold(cmd.evolver, cmd.evolver.initialState(), events), version: events.length ? events[events.length - 1].streamVersion : 0 };
  }

  private metadataFor<S>(cmd: CommandOptions<S, DomainEvent>, state: S): EventMetadata {
    return typeof cmd.metadata === 'function' ? cmd.metadata(state) : cmd.metadata;
  }

  /**
   * A batch in one transaction: decide each command (in order, each may read through
   * `tx`), append every decided event in one statement, then project each command's
   * events. A refusal (a GraphQLError from `decide`) or a stale version concerns one
   * command; anything else (a database error) is thrown and rolls the batch back.
   */
  private async attemptBatch(
    tx: pg.PoolClient,
    client: pg.PoolClient,
    batch: Pending[],
    state: { begun: boolean; committing: boolean },
  ): Promise<Decision[]> {
    const decisions: Decision[] = [];
    for (const p of batch) {
      const { cmd } = p;
      // Awaited only when it must be: each await lets every other request's pending work
      // run first, and in a batch that latency is everyone's.
      const cached = this.cached(cmd, p.attempt > 0);
      const current = cached ?? (await this.load(tx, cmd));
      if (cmd.expectedVersion !== undefined && current.version !== cmd.expectedVersion) {
        decisions.push({ kind: 'conflict', p, err: new StreamVersionConflict(cmd.streamId, cmd.expectedVersion, current.version) });
        continue;
      }
      let events: DomainEvent[];
      try {
        const decided = cmd.decide(current.state, current.version, tx);
        events = decided instanceof Promise ? await decided : decided;
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        decisions.push({ kind: 'refused', p, err });
        continue;
      }
      if (events.length === 0) {
        decisions.push({ kind: 'done', p, result: { state: current.state, version: current.version, events: [], written: new Map() } });
      } else {
        decisions.push({ kind: 'events', p, ...current, events, metadata: this.metadataFor(cmd, current.state) });
      }
    }
    const writes = decisions.filter((d) => d.kind === 'events');
    if (writes.length === 0) return decisions;
    const appends = writes.map((d) => ({ streamId: d.p.cmd.streamId, events: d.events, expectedVersion: d.version, metadata: d.metadata }));
    const { outcomes, written } = await this.write(tx, client, writes, appends, state);
    const settled = new Map<Pending, Decision>();
    for (const [i, d] of writes.entries()) {
      const outcome = outcomes[i];
      if ('conflict' in outcome) settled.set(d.p, { kind: 'conflict', p: d.p, err: outcome.conflict });
      else {
        const result = { state: fold(d.p.cmd.evolver, d.state, outcome.events), version: outcome.nextVersion, events: outcome.events, written };
        settled.set(d.p, { kind: 'done', p: d.p, result });
      }
    }
    return decisions.map((d) => settled.get(d.p) ?? d);
  }

  /**
   * Appends the batch's events and projects them: in one statement when every command's
   * projection can ride in the append (FusedProjection), else the append, then one
   * projection call per domain for the whole batch (so it can apply many events per statement).
   */
  private async write(
    tx: pg.PoolClient,
    client: pg.PoolClient,
    writes: Extract<Decision, { kind: 'events' }>[],
    appends: StreamAppend[],
    state: { begun: boolean; committing: boolean },
  ): Promise<{ outcomes: (AppendResult | { conflict: StreamVersionConflict })[]; written: WrittenRows }> {
    const fused = writes[0].p.cmd.fused;
    if (fused && writes.every((d) => d.p.cmd.fused === fused)) {
      const done = await postgresEventStore.appendAndProject(client, appends, fused, () => {
        if (!state.begun) state.committing = true;
      });
      if (done) return done;
    }
    const outcomes = await postgresEventStore.appendStreams(tx, appends);
    const toProject = new Map<CommandOptions<unknown, DomainEvent>['project'], RecordedEvent[]>();
    for (const [i, d] of writes.entries()) {
      const outcome = outcomes[i];
      if ('conflict' in outcome) continue;
      toProject.set(d.p.cmd.project, [...(toProject.get(d.p.cmd.project) ?? []), ...outcome.events]);
    }
    const written: WrittenRows = new Map();
    for (const [project, events] of toProject) {
      for (const [key, row] of (await project(tx, events)) ?? []) written.set(key, row);
    }
    return { outcomes, written };
  }

  private remember(streamId: string, entry: Cached): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, entry);
    if (this.cache.size > (this.options.cacheSize ?? 10_000)) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
  }
}

function fold<S, E extends DomainEvent>(evolver: Evolver<S, E>, state: S, events: RecordedEvent<E>[]): S {
  for (const e of events) state = evolver.evolve(state, e);
  return state;
}

/** The client, sending BEGIN before the first statement anyone runs through it. */
function lazyTransaction(client: pg.PoolClient, begin: () => void): pg.PoolClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver);
      return (...args: unknown[]) => {
        begin();
        return (target.query as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
}
