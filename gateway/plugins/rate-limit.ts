import { HeaderMap } from '@apollo/server';
import { RateLimitedError } from '../../platform/errors.ts';
import type { Identity } from '../../platform/auth/identity.ts';
import { fixedWindowLimiter } from '../../platform/redis/fixed-window.ts';
import type { KeyValueStore } from '../../platform/redis/store.ts';

export interface RateLimits {
  /** Requests per window for one signed-in identity. */
  perIdentity: number;
  /** Requests per window from one client address (signed in or not). */
  perAddress: number;
  windowMs: number;
}

/**
 * Per-request limits at the gateway, per identity and per address, counted in the shared
 * store so every instance sees the same counts. Over either: RATE_LIMITED, HTTP 429 and
 * `Retry-After` (seconds left in the window).
 */
export function rateLimiter(store: KeyValueStore, limits: RateLimits, prefix = 'angelis:gateway:rate:') {
  const charge = fixedWindowLimiter(store, limits.windowMs);
  return async (identity: Identity | null, address: string): Promise<void> => {
    const counters = [{ key: `${prefix}address:${address}`, limit: limits.perAddress }];
    if (identity) counters.push({ key: `${prefix}identity:${identity.userId}`, limit: limits.perIdentity });
    try {
      await charge(counters);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        Object.assign(err.extensions, { http: { status: 429, headers: new HeaderMap([['retry-after', String(err.retryAfterSeconds)]]) } });
      }
      throw err;
    }
  };
}
