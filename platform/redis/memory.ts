import type { KeyValueStore } from './store.ts';

interface Entry {
  value: string | Set<string>;
  /** Epoch ms, or Infinity. */
  expiresAt: number;
}

/**
 * The in-process stand-in for Redis: same semantics, one process only (two instances
 * would each have their own codes, sessions and counters). Expired keys are dropped when
 * read and by a periodic sweep.
 */
export class MemoryKeyValueStore implements KeyValueStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private string(key: string): string | null {
    const e = this.live(key);
    if (!e) return null;
    if (typeof e.value !== 'string') throw new Error(`${key} holds a set, not a string`);
    return e.value;
  }

  private expiry(ttlMs?: number): number {
    return ttlMs === undefined ? Infinity : this.now() + ttlMs;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }

  async get(key: string) {
    return this.string(key);
  }

  async set(key: string, value: string, ttlMs?: number) {
    this.entries.set(key, { value, expiresAt: this.expiry(ttlMs) });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number) {
    if (this.live(key)) return false;
    this.entries.set(key, { value, expiresAt: this.expiry(ttlMs) });
    return true;
  }

  async compareAndSet(key: string, expected: string, next: string, ttlMs: number) {
    if (this.string(key) !== expected) return false;
    this.entries.set(key, { value: next, expiresAt: this.expiry(ttlMs) });
    return true;
  }

  async take(key: string) {
    const v = this.string(key);
    this.entries.delete(key);
    return v;
  }

  async del(...keys: string[]) {
    let n = 0;
    for (const k of keys) {
      if (this.live(k)) n++;
      this.entries.delete(k);
    }
    return n;
  }

  async exists(key: string) {
    return this.live(key) !== undefined;
  }

  async incr(key: string, ttlMs: number) {
    const current = this.string(key);
    const n = (current === null ? 0 : Number(current)) + 1;
    const e = this.live(key);
    this.entries.set(key, { value: String(n), expiresAt: e && e.expiresAt !== Infinity ? e.expiresAt : this.expiry(ttlMs) });
    return n;
  }

  async charge(counters: readonly { key: string; limit: number }[], windowMs: number) {
    for (const [i, { key, limit }] of counters.entries()) {
      if ((await this.incr(key, windowMs)) > limit) return { refused: i, ttlMs: await this.ttl(key) };
    }
    return null;
  }

  async uncharge(key: string) {
    const e = this.live(key);
    const n = Number(this.string(key));
    if (e && n > 0) this.entries.set(key, { value: String(n - 1), expiresAt: e.expiresAt });
  }

  async ttl(key: string) {
    const e = this.live(key);
    if (!e) return -2;
    return e.expiresAt === Infinity ? -1 : Math.max(0, e.expiresAt - this.now());
  }

  async setAdd(key: string, member: string, ttlMs: number) {
    const e = this.live(key);
    const set = e && typeof e.value !== 'string' ? e.value : new Set<string>();
    set.add(member);
    this.entries.set(key, { value: set, expiresAt: this.expiry(ttlMs) });
  }

  async setMembers(key: string) {
    const e = this.live(key);
    return e && typeof e.value !== 'string' ? [...e.value] : [];
  }

  async setRemove(key: string, ...members: string[]) {
    const e = this.live(key);
    if (!e || typeof e.value === 'string') return;
    for (const m of members) e.value.delete(m);
    if (e.value.size === 0) this.entries.delete(key);
  }

  async close() {
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}
