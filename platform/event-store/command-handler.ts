import type pg from 'pg';
import type { Db } from '../postgres/pool.ts';
import { CommitNotifier, postgresEventStore, StreamVersionConflict } from './postgres.ts';
import type { DomainEvent, EventMetadata, RecordedEvent } from './types.ts';

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
  /** Updates the read tables from the new events, in the same transaction. */
  project(tx: pg.PoolClient, events: RecordedEvent<E>[]): Promise<void>;
  expectedVersion?: number;
  /** Stored with every event; a function when it depends on the state (e.g. the tenant). */
  metadata: EventMetadata | ((state: S) => EventMetadata);
}

export interface CommandResult<S, E extends DomainEvent> {
  state: S;
  version: number;
  events: RecordedEvent<E>[];
}

interface Cached {
  state: unknown;
  version: number;
}

/** Called after a command's transaction commits (notifications, cache invalidation). */
export type CommitListener = (events: RecordedEvent[]) => void;

/**
 * Runs commands: load the stream, decide, then append and project in ONE transaction.
 *
 * Aggregate states are cached in memory by stream (LRU), so a command usually skips
 * reading its stream; the append's version check makes a stale cache harmless: on a
 * conflict the entry is dropped, the stream re-read and the command decided again
 * (a bounded retry) unless the caller pinned `expectedVersion`, which then is a CONFLICT.
 */
export class CommandHandler {
  private readonly cache = new Map<string, Cached>();
  private readonly listeners: CommitListener[] = [];
  private readonly notifier: CommitNotifier;

  constructor(
    readonly db: Db,
    private readonly options: { cacheSize?: number; maxRetries?: number } = {},
  ) {
    this.notifier = new CommitNotifier(db);
  }

  /** Registers a listener for committed events. */
  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  /** Forgets every cached aggregate (after a rebuild or in tests). */
  clearCache(): void {
    this.cache.clear();
  }

  async handle<S, E extends DomainEvent>(cmd: CommandOptions<S, E>): Promise<CommandResult<S, E>> {
    const maxRetries = this.options.maxRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.db.transaction((tx) => this.attempt(tx, cmd, attempt > 0));
        this.remember(cmd.streamId, { state: result.state, version: result.version });
        if (result.events.length > 0) this.notifier.poke();
        for (const listener of this.listeners) listener(result.events as RecordedEvent[]);
        return result;
      } catch (err) {
        if (!(err instanceof StreamVersionConflict)) throw err;
        this.cache.delete(cmd.streamId);
        if (cmd.expectedVersion !== undefined || attempt >= maxRetries) throw err;
      }
    }
  }

  private async attempt<S, E extends DomainEvent>(
    tx: pg.PoolClient,
    cmd: CommandOptions<S, E>,
    reload: boolean,
  ): Promise<CommandResult<S, E>> {
    let current = reload ? undefined : (this.cache.get(cmd.streamId) as { state: S; version: number } | undefined);
    // A cached version other than the one the caller expects may just be stale: re-read.
    if (current && cmd.expectedVersion !== undefined && current.version !== cmd.expectedVersion) current = undefined;
    if (!current) {
      const events = (await postgresEventStore.readStream(tx, cmd.streamId)) as RecordedEvent<E>[];
      let state = cmd.evolver.initialState();
      for (const e of events) state = cmd.evolver.evolve(state, e);
      current = { state, version: events.length ? events[events.length - 1].streamVersion : 0 };
    }
    if (cmd.expectedVersion !== undefined && current.version !== cmd.expectedVersion) {
      throw new StreamVersionConflict(cmd.streamId, cmd.expectedVersion, current.version);
    }
    const decided = await cmd.decide(current.state, current.version, tx);
    if (decided.length === 0) return { state: current.state, version: current.version, events: [] };
    const { nextVersion, events } = await postgresEventStore.append(tx, cmd.streamId, decided, {
      expectedVersion: current.version,
      metadata: typeof cmd.metadata === 'function' ? cmd.metadata(current.state) : cmd.metadata,
    });
    const recorded = events as RecordedEvent<E>[];
    await cmd.project(tx, recorded);
    let state = current.state;
    for (const e of recorded) state = cmd.evolver.evolve(state, e);
    return { state, version: nextVersion, events: recorded };
  }

  private remember(streamId: string, entry: Cached): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, entry);
    if (this.cache.size > (this.options.cacheSize ?? 10_000)) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
  }
}
