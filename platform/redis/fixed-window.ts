import { RateLimitedError } from '../errors.ts';
import type { KeyValueStore } from './store.ts';

/** One counter to charge: its key in the store and how many hits a window allows. */
export interface WindowCounter {
  key: string;
  limit: number;
}

/**
 * Fixed-window rate limiting in the shared key-value store (Redis, or the in-process
 * stand-in): every counter is charged one hit in order, in one step (one Redis call for
 * all of them); the first one over its limit refuses with RATE_LIMITED and the seconds
 * until its window ends. The one limiter of the platform: the gateway's per-request
 * limits and CIAM's login limits both use it.
 */
export function fixedWindowLimiter(store: KeyValueStore, windowMs: number) {
  return async (counters: readonly WindowCounter[]): Promise<void> => {
    const refused = await store.charge(counters, windowMs);
    if (refused) throw new RateLimitedError(Math.max(1, Math.ceil((refused.ttlMs > 0 ? refused.ttlMs : windowMs) / 1000)), refused.refused);
  };
}
