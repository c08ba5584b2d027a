import { createHash } from 'node:crypto';
import { RateLimitedError } from '../../../platform/errors.ts';
import type { KeyValueStore } from '../../../platform/redis/store.ts';

/**
 * Login rate limits: fixed windows counted in the key-value store, per account identifier
 * (email or RUT) and per client address. Keys: `<prefix>login-rate:account:<hash>` and
 * `<prefix>login-rate:address:<address>`.
 */

export interface LoginRateLimits {
  perAccount: number;
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMITS: LoginRateLimits = { perAccount: 10, perAddress: 50, windowMs: 15 * 60_000 };

export class LoginRateLimiter {
  constructor(
    private readonly store: KeyValueStore,
    private readonly limits: LoginRateLimits,
    private readonly prefix: string,
  ) {}

  /** Counts an attempt; RATE_LIMITED (with the seconds to wait) once a window is used up. */
  async attempt(account: string | null, address: string | null): Promise<void> {
    const checks: [string, number][] = [];
    if (account) checks.push([`${this.prefix}login-rate:account:${createHash('sha256').update(account).digest('hex').slice(0, 32)}`, this.limits.perAccount]);
    if (address) checks.push([`${this.prefix}login-rate:address:${address}`, this.limits.perAddress]);
    for (const [key, limit] of checks) {
      const n = await this.store.incr(key, this.limits.windowMs);
      if (n > limit) {
        const ttl = await this.store.ttl(key);
        throw new RateLimitedError(Math.max(1, Math.ceil((ttl > 0 ? ttl : this.limits.windowMs) / 1000)));
      }
    }
  }
}
