/**
 * The key-value port for short-lived shared state (one-time codes, sessions, rate-limit
 * counters). Two adapters: Redis (ioredis) for any number of instances, and an in-process
 * stand-in that serves a single instance. TTLs are in milliseconds.
 */
export interface KeyValueStore {
  /** `redis` or `memory`, for logs. */
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** Sets the value; with `ttlMs` it expires, without it it is kept. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets the value only when the key is absent; true when it was set. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Replaces the value only when it is still `expected`; true when it was replaced. */
  compareAndSet(key: string, expected: string, next: string, ttlMs: number): Promise<boolean>;
  /** Reads and deletes in one step: of two concurrent callers only one gets the value. */
  take(key: string): Promise<string | null>;
  /** Deletes keys; returns how many existed. */
  del(...keys: string[]): Promise<number>;
  exists(key: string): Promise<boolean>;
  /** Adds 1 and returns the new count; a new counter expires after `ttlMs` (a fixed window). */
  incr(key: string, ttlMs: number): Promise<number>;
  /**
   * Fixed-window counters charged in one step: one hit to each in order, stopping at the
   * first whose count passes its limit (those after it are not charged). Null when every
   * counter is within its limit, else which one refused and the milliseconds its window
   * has left. A new counter expires after `windowMs`.
   */
  charge(counters: readonly { key: string; limit: number }[], windowMs: number): Promise<{ refused: number; ttlMs: number } | null>;
  /**
   * Takes one hit back from a fixed-window counter (a charge that should not have counted),
   * keeping its window; nothing when the counter is gone (its window ended) or at 0.
   */
  uncharge(key: string): Promise<void>;
  /** Milliseconds left: -2 when the key is absent, -1 when it never expires. */
  ttl(key: string): Promise<number>;
  /** Adds a member to a set and (re)sets the set's expiry. */
  setAdd(key: string, member: string, ttlMs: number): Promise<void>;
  setMembers(key: string): Promise<string[]>;
  setRemove(key: string, ...members: string[]): Promise<void>;
  close(): Promise<void>;
}
