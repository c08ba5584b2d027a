import type { Logger } from '../logger.ts';
import { checkpointOf, type EventStore } from './port.ts';
import { START, type Checkpoint, type RecordedEvent } from './types.ts';

/** Where a reactor keeps how far it got, in the domain's own store. */
export interface CheckpointStore {
  loadCheckpoint(name: string): Promise<Checkpoint | null>;
  saveCheckpoint(name: string, checkpoint: Checkpoint): Promise<void>;
}

export interface ReactorOptions {
  /** Names its checkpoint (one per reactor and domain). */
  name: string;
  store: Pick<EventStore, 'readAll' | 'subscribe'>;
  checkpoints: CheckpointStore;
  /** The event types it reacts to; others are passed over (and the checkpoint moves past them). */
  types: readonly string[];
  /** Reacts to one event. Throw to try it again later (the checkpoint stays before it). */
  handle(event: RecordedEvent): Promise<void>;
  log: Logger;
  /** Events read per round trip. */
  batch?: number;
  /** Reads even without a wake-up this often (a lost wake-up, a handler that failed). */
  pollMs?: number;
}

/**
 * Reacts to a domain's own committed events, on the event store port: reads them in commit
 * order (readAll) after its checkpoint, calls the handler for each event of its types, and
 * saves the checkpoint after each. A crash between the handler and the save calls the
 * handler again for that event on restart, and two instances may both call it: delivery is
 * AT LEAST ONCE, so the handler must be idempotent (e.g. keyed on the event id); with an
 * idempotent receiver the effect happens once. Nothing is skipped: commit-order reads never
 * return an event behind a checkpoint, and a failed handler stops the round (retried on
 * the next wake-up or poll) without moving past the event.
 */
export class Reactor {
  private running: Promise<unknown> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  /** The last failure logged at warn: the same failure again (every poll while a peer is down) goes to debug. */
  private lastFailure: string | null = null;

  private readonly o: ReactorOptions;

  constructor(o: ReactorOptions) {
    this.o = o;
  }

  /** Subscribes to commits and polls; runs a first round at once. */
  async start(): Promise<void> {
    this.unsubscribe = await this.o.store.subscribe(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.o.pollMs ?? 5_000);
    this.timer.unref();
    this.wake();
  }

  /** Runs a round now (or one more after the running one). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round()
      .then(() => {
        if (this.lastFailure !== null) this.o.log.info({ reactor: this.o.name }, 'reactor caught up again');
        this.lastFailure = null;
      })
      .catch((err) => {
        const message = err instanceof Error ? err.message : String(err);
        const level = message === this.lastFailure ? 'debug' : 'warn';
        this.lastFailure = message;
        this.o.log[level]({ err, reactor: this.o.name }, 'reactor round failed; retrying on the next wake-up');
      })
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Reads and handles until nothing new is committed; resolves when caught up (or throws what the handler threw). */
  async round(): Promise<number> {
    let checkpoint = (await this.o.checkpoints.loadCheckpoint(this.o.name)) ?? START;
    let handled = 0;
    for (;;) {
      const events = await this.o.store.readAll(checkpoint, this.o.batch ?? 100);
      if (events.length === 0 || this.stopped) return handled;
      for (const event of events) {
        if (this.stopped) return handled;
        if (this.o.types.includes(event.type)) {
          await this.o.handle(event);
          handled++;
        }
        checkpoint = checkpointOf(event);
        await this.o.checkpoints.saveCheckpoint(this.o.name, checkpoint);
      }
    }
  }

  /** Waits for the running round, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.unsubscribe?.();
  }
}
