import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';

/**
 * The publish/subscribe port: fire-and-forget messages between instances (wake-ups such as
 * "notifications were committed up to cursor C"). Messages are not stored: a subscriber that
 * is down misses them, so whatever it must not miss is read from a store after the wake-up.
 * Two adapters: Redis (ioredis, a dedicated subscriber connection) for any number of
 * instances, and an in-process stand-in that serves a single process.
 */
export interface PubSub {
  readonly kind: 'redis' | 'memory';
  publish(channel: string, message: string): Promise<void>;
  /** Calls onMessage for each message; returns an unsubscribe function. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  /** 'up' | 'down' changes (Redis connection), for degraded streams. */
  onStatus(listener: (status: 'up' | 'down') => void): () => void;
  close(): Promise<void>;
}

type Listener = (message: string) => void;

/** Listeners by channel, shared by both adapters; a throwing listener does not stop the others. */
class Channels {
  private readonly byChannel = new Map<string, Set<Listener>>();

  /** Adds a listener; true when it is the channel's first. */
  add(channel: string, listener: Listener): boolean {
    let set = this.byChannel.get(channel);
    const first = !set;
    if (!set) this.byChannel.set(channel, (set = new Set()));
    set.add(listener);
    return first;
  }

  /** Removes a listener; true when the channel has none left. */
  remove(channel: string, listener: Listener): boolean {
    const set = this.byChannel.get(channel);
    if (!set || !set.delete(listener)) return false;
    if (set.size > 0) return false;
    this.byChannel.delete(channel);
    return true;
  }

  deliver(channel: string, message: string, onError: (err: unknown) => void): void {
    for (const listener of [...(this.byChannel.get(channel) ?? [])]) {
      try {
        listener(message);
      } catch (err) {
        onError(err);
      }
    }
  }

  clear(): void {
    this.byChannel.clear();
  }
}

class StatusListeners {
  private readonly listeners = new Set<(status: 'up' | 'down') => void>();

  add(listener: (status: 'up' | 'down') => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(status: 'up' | 'down'): void {
    for (const l of [...this.listeners]) {
      try {
        l(status);
      } catch {
        // A listener's failure is its own; the others still hear the change.
      }
    }
  }
}

/**
 * The Redis adapter. Publishing uses its own connection; subscribing uses a dedicated one
 * (a subscribed Redis connection can issue nothing but (P)SUBSCRIBE/UNSUBSCRIBE/PING).
 * ioredis reconnects by itself and re-subscribes its channels; `onStatus` reports the
 * subscriber connection going down and coming back, so callers can fall back to polling.
 */
export class RedisPubSub implements PubSub {
  readonly kind = 'redis' as const;
  private readonly channels = new Channels();
  private readonly status = new StatusListeners();
  private up = true;
  private closed = false;

  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly onListenerError: (err: unknown) => void;
  private constructor(
    publisher: Redis,
    subscriber: Redis,
    onListenerError: (err: unknown) => void,
  ) {
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.onListenerError = onListenerError;
    subscriber.on('message', (channel: string, message: string) => this.channels.deliver(channel, message, this.onListenerError));
    subscriber.on('ready', () => this.setStatus('up'));
    subscriber.on('close', () => this.setStatus('down'));
    subscriber.on('end', () => this.setStatus('down'));
  }

  /** Connects both connections to `url`; fails fast when Redis is unreachable. */
  static async connect(url: string, options: { onListenerError?: (err: unknown) => void } = {}): Promise<RedisPubSub> {
    // Publishing while Redis is down fails at once (no offline queue): the caller logs it and
    // the readers' polling covers the lost wake-up.
    const publisher = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const subscriber = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, autoResubscribe: true });
    // Reconnects are ioredis's job; an 'error' without a listener would crash the process.
    publisher.on('error', () => {});
    subscriber.on('error', () => {});
    try {
      await Promise.all([publisher.connect(), subscriber.connect()]);
    } catch (err) {
      publisher.disconnect();
      subscriber.disconnect();
      throw err;
    }
    return new RedisPubSub(publisher, subscriber, options.onListenerError ?? (() => {}));
  }

  private setStatus(next: 'up' | 'down'): void {
    if (this.closed || next === (this.up ? 'up' : 'down')) return;
    this.up = next === 'up';
    this.status.emit(next);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(channel, message);
  }

  async subscribe(channel: string, onMessage: Listener): Promise<() => Promise<void>> {
    // Wrapped so the same function subscribed twice is two subscriptions.
    const listener: Listener = (m) => onMessage(m);
    if (this.channels.add(channel, listener)) {
      try {
        await this.subscriber.subscribe(channel);
      } catch (err) {
        this.channels.remove(channel, listener);
        throw err;
      }
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      if (this.channels.remove(channel, listener) && !this.closed) await this.subscriber.unsubscribe(channel).catch(() => {});
    };
  }

  onStatus(listener: (status: 'up' | 'down') => void): () => void {
    return this.status.add(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await Promise.all([
      this.publisher.quit().catch(() => this.publisher.disconnect()),
      this.subscriber.quit().catch(() => this.subscriber.disconnect()),
    ]);
  }
}

/** The in-process stand-in: messages reach this process's subscribers only; always 'up'. */
export class MemoryPubSub implements PubSub {
  readonly kind = 'memory' as const;
  private readonly channels = new Channels();
  private readonly status = new StatusListeners();

  private readonly onListenerError: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void = () => {}) {
    this.onListenerError = onListenerError;
  }

  async publish(channel: string, message: string): Promise<void> {
    // Delivered on a later tick, like a network hop: a publisher never runs its subscribers' code inline.
    queueMicrotask(() => this.channels.deliver(channel, message, this.onListenerError));
  }

  async subscribe(channel: string, onMessage: Listener): Promise<() => Promise<void>> {
    const listener: Listener = (m) => onMessage(m);
    this.channels.add(channel, listener);
    return async () => void this.channels.remove(channel, listener);
  }

  onStatus(listener: (status: 'up' | 'down') => void): () => void {
    return this.status.add(listener);
  }

  async close(): Promise<void> {
    this.channels.clear();
  }
}

/** Redis when ANGELIS_REDIS_URL is set, else the in-process stand-in (and says so). */
export async function openPubSub(config: Pick<Config, 'ANGELIS_REDIS_URL'>, log: Logger): Promise<PubSub> {
  const onListenerError = (err: unknown) => log.error({ err }, 'a pub/sub listener failed');
  if (config.ANGELIS_REDIS_URL) {
    const pubsub = await RedisPubSub.connect(config.ANGELIS_REDIS_URL, { onListenerError });
    log.info({ redis: config.ANGELIS_REDIS_URL.replace(/\/\/[^@/]*@/, '//***@') }, 'using Redis pub/sub');
    return pubsub;
  }
  log.warn('ANGELIS_REDIS_URL is unset: using the in-process pub/sub stand-in (one instance only)');
  return new MemoryPubSub(onListenerError);
}

/** The notifications wake-up channel under a key prefix (the same prefix the key-value store uses). */
export const notificationsChannel = (prefix: string) => `${prefix}notifications`;
