import { createHash } from 'node:crypto';
import { fixedWindowLimiter } from '../../../platform/redis/fixed-window.ts';
import type { KeyValueStore } from '../../../platform/redis/store.ts';

/**
 * Login rate limits, per account identifier (email or RUT) and per client address. Keys:
 * `<prefix>login-rate:account:<hash>` and `<prefix>login-rate:address:<address>`.
 */

export interface LoginRateLimits {
  perAccount: number;
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMITS: LoginRateLimits = { perAccount: 10, perAddress: 50, windowMs: 15 * 60_000 };

export class LoginRateLimiter {
  private readonly charge: ReturnType<typeof fixedWindowLimiter>;

  private readonly limits: LoginRateLimits;
  private readonly prefix: string;

  constructor(
    store: KeyValueStore,
    limits: LoginRateLimits,
    prefix: string,
  ) {
    this.limits = limits;
    this.prefix = prefix;
    this.charge = fixedWindowLimiter(store, limits.windowMs);
  }

  /** Counts an attempt; RATE_LIMITED (with the seconds to wait) once a window is used up. */
  async attempt(account: string | null, address: string | null): Promise<void> {
    const counters = [];
    if (account) counters.push({ key: `${this.prefix}login-rate:account:${createHash('sha256').update(account).digest('hex').slice(0, 32)}`, limit: this.limits.perAccount });
    if (address) counters.push({ key: `${this.prefix}login-rate:address:${address}`, limit: this.limits.perAddress });
    await this.charge(counters);
  }
}
