import { GraphQLError } from 'graphql';
import type pg from 'pg';
import { BatchScheduler, type BatchLimits } from './batch-scheduler.ts';
import { StreamVersionConflict, type AppendOutcome, type EventStore, type StreamAppend, type UnitOfWork } from './port.ts';
import { backoff, type RetryPolicy } from './retry.ts';
import { StreamStateCache, type StreamState } from './stream-cache.ts';
import type { DomainEvent, EventMetadata, RecordedEvent, WrittenRows } from './types.ts';

/** Folds a stream's events into the state a decision needs. Pure. */
export interface Evolver<S, E extends DomainEvent> {
  initialState(): S;
  evolve(state: S, event: RecordedEvent<E>): S;
}

export interface CommandOptions<S, E extends DomainEvent, Tx = pg.PoolClient> {
  streamId: string;
  evolver: Evolver<S, E>;
  /**
   * Decides the events from the current state. It may read other aggregates' read tables
   * through `tx` (same transaction) and throws domain errors to refuse the command.
   */
  decide(state: S, version: number, tx: Tx): E[] | Promise<E[]>;
  /**
   * The same projection as `project`, in the form the store can run inside the append
   * itself (EventStore.appendAndProject), so a batch is one atomic step. Optional; the same
   * object for a whole domain.
   */
  fused?: unknown;
  /**
   * Updates the read tables from the new events, in the same transaction. In a batch it is
   * called once for all the commands that share it, with their events in append order
   * (several streams, each stream's events in order): pass the same function to every
   * command of a domain.
   */
  project(tx: Tx, events: RecordedEvent<E>[]): Promise<WrittenRows | void>;
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

/** Called after a command's transaction commits (notifications). */
export type CommitListener = (events: RecordedEvent[]) => void;

/**
 * Awaited after a commit and before its commands are answered (response cache
 * invalidation: once a caller has its answer, nothing cached from before the write is
 * served). It must not throw: the events are committed whatever it does.
 */
export type CommitHook = (events: RecordedEvent[]) => Promise<void>;

export interface CommandHandlerOptions extends Partial<BatchLimits> {
  /** Aggregate states kept in memory (LRU). */
  cacheSize?: number;
  /** Re-decisions after a stale state: a policy, or just how many (with the default backoff). */
  retry?: RetryPolicy | { maxRetries: number };
  /** @deprecated use `retry`. */
  maxRetries?: number;
}

/** A command waiting for, or taking part in, a batch. */
interface Pending<Tx> {
  cmd: CommandOptions<unknown, DomainEvent, Tx>;
  attempt: number;
  resolve(result: CommandResult<unknown, DomainEvent>): void;
  reject(err: unknown): void;
}

/** What deciding one command of a batch came to, before the append. */
type Decision<Tx> =
  | { kind: 'events'; p: Pending<Tx>; state: unknown; version: number; events: DomainEvent[]; metadata: EventMetadata }
  | { kind: 'done'; p: Pending<Tx>; result: CommandResult<unknown, DomainEvent> }
  | { kind: 'refused'; p: Pending<Tx>; err: unknown }
  | { kind: 'conflict'; p: Pending<Tx>; err: StreamVersionConflict };

/**
 * Runs commands on an event store (the port): load the stream, decide, then append and
 * project in ONE unit of work. Three parts, each its own piece: the batch scheduler (group
 * commit), the stream-state cache, and the unit of work the store gives.
 *
 * Aggregate states are cached by stream, so a command usually skips reading its stream;
 * the append's version check makes a stale cache harmless: on a conflict the entry is
 * dropped and the command decided again on a fresh read (RetryPolicy: at once, then with
 * backoff) unless the caller pinned `expectedVersion`, which then is a CONFLICT.
 *
 * Group commit: commands that arrive while batches are in flight wait and then commit
 * together, one unit of work for up to `maxBatch` of them (one per stream), with one
 * append for all their events. Each command is still decided and judged alone: a refused
 * command or a stale version fails only that command. A batch the database refuses as a
 * whole (a unique index, a failed statement) is rolled back and its commands re-run one
 * unit each, so only the command at fault fails. When the store can run the commands'
 * projection inside the append (appendAndProject) and no decision read anything, the batch
 * is one atomic statement with no BEGIN/COMMIT at all, a lone command included.
 */
export class CommandHandler<Tx = pg.PoolClient> {
  private readonly cache: StreamStateCache;
  private readonly scheduler: BatchScheduler<Pending<Tx>>;
  private readonly retry: RetryPolicy;
  private readonly listeners: CommitListener[] = [];
  private readonly hooks: CommitHook[] = [];
  private readonly uncertainHooks: (() => Promise<void>)[] = [];

  readonly store: EventStore<Tx, unknown>;

  constructor(
    store: EventStore<Tx, unknown>,
    options: CommandHandlerOptions = {},
  ) {
    this.store = store;
    this.cache = new StreamStateCache(options.cacheSize);
    const retry = options.retry ?? { maxRetries: options.maxRetries ?? 3 };
    this.retry = 'delayMs' in retry ? (retry as RetryPolicy) : backoff({ maxRetries: retry.maxRetries });
    this.scheduler = new BatchScheduler<Pending<Tx>>(
      { maxBatch: options.maxBatch ?? 64, concurrency: options.concurrency ?? 2, joinBelow: options.joinBelow ?? 4 },
      (p) => p.cmd.streamId,
      (batch) => this.runBatch(batch),
    );
  }

  /** Registers a listener for committed events. */
  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  /** Registers a hook awaited after each commit, before the committed commands are answered. */
  beforeAnswer(hook: CommitHook): void {
    this.hooks.push(hook);
  }

  /** Registers a hook awaited when a commit may or may not have happened (the connection broke during COMMIT), before its commands fail. */
  onUncertainCommit(hook: () => Promise<void>): void {
    this.uncertainHooks.push(hook);
  }

  private async uncertain(): Promise<void> {
    await Promise.all(this.uncertainHooks.map((hook) => hook().catch(() => {})));
  }

  /** Forgets every cached aggregate (after a rebuild or in tests). */
  clearCache(): void {
    this.cache.clear();
  }

  handle<S, E extends DomainEvent>(cmd: CommandOptions<S, E, Tx>): Promise<CommandResult<S, E>> {
    return new Promise((resolve, reject) => {
      this.scheduler.enqueue({
        cmd: cmd as unknown as CommandOptions<unknown, DomainEvent, Tx>,
        attempt: 0,
        resolve: resolve as Pending<Tx>['resolve'],
        reject,
      });
    });
  }

  private async runBatch(batch: Pending<Tx>[]): Promise<void> {
    let decisions: Decision<Tx>[];
    let uow: UnitOfWork<Tx> | undefined;
    try {
      uow = await this.store.begin();
      decisions = await this.attempt(uow, batch);
      await uow.commit();
    } catch (err) {
      await uow?.abort(err);
      // A commit that may or may not have happened: nothing is re-run.
      if (uow?.committing && this.store.isConnectionError(err)) {
        await this.uncertain();
        for (const p of batch) p.reject(err);
        return;
      }
      // Refused as a whole, nothing written: each command again in its own unit, so only
      // the command at fault fails (and a real outage fails each with its own error).
      await Promise.all(batch.map((p) => this.runAlone(p)));
      return;
    }
    const committed: RecordedEvent[] = [];
    for (const d of decisions) if (d.kind === 'done') committed.push(...(d.result.events as RecordedEvent[]));
    await this.beforeAnswering(committed);
    for (const d of decisions) {
      if (d.kind === 'done') {
        this.cache.set(d.p.cmd.streamId, { state: d.result.state, version: d.result.version });
        d.p.resolve(d.result);
      } else if (d.kind === 'refused') {
        d.p.reject(d.err);
      } else if (d.kind === 'conflict') {
        this.cache.delete(d.p.cmd.streamId);
        if (d.p.cmd.expectedVersion !== undefined || d.p.attempt >= this.retry.maxRetries) d.p.reject(d.err);
        else this.requeue(d.p);
      }
    }
    this.committed(committed);
  }

  /** Decides a conflicted command again after the policy's delay, ahead of newer commands. */
  private requeue(p: Pending<Tx>): void {
    const next = { ...p, attempt: p.attempt + 1 };
    const delay = this.retry.delayMs(next.attempt);
    if (delay <= 0) this.scheduler.enqueue(next, true);
    else setTimeout(() => this.scheduler.enqueue(next, true), delay);
  }

  /** One command, one unit of work, retried on a stale state. */
  private async runAlone(p: Pending<Tx>): Promise<void> {
    for (let attempt = p.attempt; ; attempt++) {
      let decision: Decision<Tx>;
      let uow: UnitOfWork<Tx> | undefined;
      try {
        uow = await this.store.begin();
        [decision] = await this.attempt(uow, [{ ...p, attempt }]);
        await uow.commit();
      } catch (err) {
        await uow?.abort(err);
        if (uow?.committing && this.store.isConnectionError(err)) await this.uncertain();
        // A concurrent writer raced past the version check (unique index): a conflict too.
        if (!(err instanceof StreamVersionConflict)) return p.reject(err);
        decision = { kind: 'conflict', p, err };
      }
      if (decision.kind === 'done') {
        this.cache.set(p.cmd.streamId, { state: decision.result.state, version: decision.result.version });
        await this.beforeAnswering(decision.result.events as RecordedEvent[]);
        this.committed(decision.result.events as RecordedEvent[]);
        return p.resolve(decision.result);
      }
      if (decision.kind !== 'conflict') return p.reject(decision.kind === 'refused' ? decision.err : new Error('undecided command'));
      this.cache.delete(p.cmd.streamId);
      if (p.cmd.expectedVersion !== undefined || attempt >= this.retry.maxRetries) return p.reject(decision.err);
      const delay = this.retry.delayMs(attempt + 1);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async beforeAnswering(events: RecordedEvent[]): Promise<void> {
    if (events.length === 0 || this.hooks.length === 0) return;
    await Promise.all(this.hooks.map((hook) => hook(events).catch(() => {})));
  }

  private committed(events: RecordedEvent[]): void {
    if (events.length === 0) return;
    this.store.announce();
    for (const listener of this.listeners) listener(events);
  }

  /** The stream's cached state, unless it must be read (a retry, or not the version the caller expects). */
  private cached<S>(cmd: CommandOptions<S, DomainEvent, Tx>, reload: boolean): StreamState<S> | undefined {
    const current = reload ? undefined : this.cache.get<S>(cmd.streamId);
    // A cached version other than the one the caller expects may just be stale: re-read.
    if (current && cmd.expectedVersion !== undefined && current.version !== cmd.expectedVersion) return undefined;
    return current;
  }

  /** The stream's current state, folded from its events read in the unit of work. */
  private async load<S>(tx: Tx, cmd: CommandOptions<S, DomainEvent, Tx>): Promise<StreamState<S>> {
    const events = await this.store.readStream(cmd.streamId, { tx });
    return { state: fold(cmd.evolver, cmd.evolver.initialState(), events), version: events.length ? events[events.length - 1].streamVersion : 0 };
  }

  /**
   * A batch in one unit of work: decide each command (in order, each may read through
   * `tx`), append every decided event at once, then project each command's events. A
   * refusal (a GraphQLError from `decide`) or a stale version concerns one command;
   * anything else (a database error) is thrown and rolls the batch back.
   */
  private async attempt(uow: UnitOfWork<Tx>, batch: Pending<Tx>[]): Promise<Decision<Tx>[]> {
    const decisions: Decision<Tx>[] = [];
    for (const p of batch) {
      const { cmd } = p;
      // Awaited only when it must be: each await lets every other request's pending work
      // run first, and in a batch that latency is everyone's.
      const current = this.cached(cmd, p.attempt > 0) ?? (await this.load(uow.tx, cmd));
      if (cmd.expectedVersion !== undefined && current.version !== cmd.expectedVersion) {
        decisions.push({ kind: 'conflict', p, err: new StreamVersionConflict(cmd.streamId, cmd.expectedVersion, current.version) });
        continue;
      }
      let events: DomainEvent[];
      try {
        const decided = cmd.decide(current.state, current.version, uow.tx);
        events = decided instanceof Promise ? await decided : decided;
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        decisions.push({ kind: 'refused', p, err });
        continue;
      }
      if (events.length === 0) {
        decisions.push({ kind: 'done', p, result: { state: current.state, version: current.version, events: [], written: new Map() } });
      } else {
        const metadata = typeof cmd.metadata === 'function' ? cmd.metadata(current.state) : cmd.metadata;
        decisions.push({ kind: 'events', p, ...current, events, metadata });
      }
    }
    const writes = decisions.filter((d) => d.kind === 'events');
    if (writes.length === 0) return decisions;
    const appends = writes.map((d) => ({ streamId: d.p.cmd.streamId, events: d.events, expectedVersion: d.version, metadata: d.metadata }));
    const { outcomes, written } = await this.write(uow, writes, appends);
    const settled = new Map<Pending<Tx>, Decision<Tx>>();
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
   * Appends the batch's events and projects them: in one step when the store can run every
   * command's projection inside the append, else the append, then one projection call per
   * domain for the whole batch (so it can apply many events per statement).
   */
  private async write(
    uow: UnitOfWork<Tx>,
    writes: Extract<Decision<Tx>, { kind: 'events' }>[],
    appends: StreamAppend[],
  ): Promise<{ outcomes: AppendOutcome[]; written: WrittenRows }> {
    const fused = writes[0].p.cmd.fused;
    if (fused && this.store.appendAndProject && writes.every((d) => d.p.cmd.fused === fused)) {
      const done = await this.store.appendAndProject(uow, appends, fused);
      if (done) return done;
    }
    const outcomes = await this.store.appendStreams(uow.tx, appends);
    const toProject = new Map<CommandOptions<unknown, DomainEvent, Tx>['project'], RecordedEvent[]>();
    for (const [i, d] of writes.entries()) {
      const outcome = outcomes[i];
      if ('conflict' in outcome) continue;
      toProject.set(d.p.cmd.project, [...(toProject.get(d.p.cmd.project) ?? []), ...outcome.events]);
    }
    const written: WrittenRows = new Map();
    for (const [project, events] of toProject) {
      for (const [key, row] of (await project(uow.tx, events)) ?? []) written.set(key, row);
    }
    return { outcomes, written };
  }
}

function fold<S, E extends DomainEvent>(evolver: Evolver<S, E>, state: S, events: RecordedEvent<E>[]): S {
  for (const e of events) state = evolver.evolve(state, e);
  return state;
}
