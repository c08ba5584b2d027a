import { HeaderMap } from '@apollo/server';
import { RateLimitedError } from '../../platform/errors.ts';
import type { Identity } from '../../platform/auth/identity.ts';
import type { KeyValueStore } from '../../platform/redis/store.ts';

export interface RateLimits {
  /** Requests per window for one signed-in identity. */
  perIdentity: number;
  /** Requests per window from one client address (signed in or not). */
  perAddress: number;
  windowMs: number;
}

/**
 * Fixed-window counters in the shared store (Redis), per identity and per address. Over
 * either limit: RATE_LIMITED, HTTP 429 and `Retry-After` (seconds left in the window).
 */
export function rateLimiter(store: KeyValueStore, limits: RateLimits, prefix = 'angelis:gateway:rate:') {
  return async (identity: Identity | null, address: string): Promise<void> => {
    const checks: [string, number][] = [[`${prefix}address:${address}`, limits.perAddress]];
    if (identity) checks.push([`${prefix}identity:${identity.userId}`, limits.perIdentity]);
    for (const [key, limit] of checks) {
      const count = await store.incr(key, limits.windowMs);
      if (count > limit) {
        const left = await store.ttl(key);
        const retryAfter = Math.max(1, Math.ceil((left > 0 ? left : limits.windowMs) / 1000));
        const error = new RateLimitedError(retryAfter);
        Object.assign(error.extensions, { http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfter)]]) } });
        throw error;
      }
    }
  };
}
