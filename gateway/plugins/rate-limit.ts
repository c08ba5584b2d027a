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
  const identityKey = (identity: Identity) => `${prefix}identity:${identity.userId}`;
  const limit = async (identity: Identity | null, address: string): Promise<void> => {
    const counters = [{ key: `${prefix}address:${address}`, limit: limits.perAddress }];
    if (identity) counters.push({ key: identityKey(identity), limit: limits.perIdentity });
    try {
      await charge(counters);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        Object.assign(err.extensions, { http: { status: 429, headers: new HeaderMap([['retry-after', String(err.retryAfterSeconds)]]) } });
      }
      throw err;
    }
  };
  /**
   * Takes back what `limit` charged to `identity`, given how it ended: for a token that
   * turned out not to speak for its user (its session was revoked), so whoever holds an old
   * token cannot use up the user's limit. The address keeps its charge. Nothing when the
   * identity's counter was not charged (the address refused first) or the outcome is unknown.
   */
  const unchargeIdentity = async (identity: Identity, outcome: PromiseSettledResult<void>): Promise<void> => {
    const charged = outcome.status === 'fulfilled' || (outcome.reason instanceof RateLimitedError && outcome.reason.counter === 1);
    if (charged) await store.uncharge(identityKey(identity));
  };
  return Object.assign(limit, { unchargeIdentity });
}
