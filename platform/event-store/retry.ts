/**
 * When a command whose stream moved on under it is decided again. The first retry is at
 * once (the usual cause is this process's cached state being stale, and the retry re-reads
 * the stream); later ones back off exponentially with full jitter, so writers racing on one
 * stream from several processes spread out instead of colliding again.
 */
export interface RetryPolicy {
  /** Re-decisions before the conflict reaches the caller. */
  maxRetries: number;
  /** Milliseconds to wait before retry `attempt` (1-based). */
  delayMs(attempt: number): number;
}

/** Exponential backoff with full jitter: 0 for the first retry, then up to base·2^(n-2), capped. */
export function backoff(o: { maxRetries?: number; baseMs?: number; capMs?: number; random?: () => number } = {}): RetryPolicy {
  const base = o.baseMs ?? 4;
  const cap = o.capMs ?? 250;
  const random = o.random ?? Math.random;
  return {
    maxRetries: o.maxRetries ?? 3,
    delayMs: (attempt) => (attempt <= 1 ? 0 : Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 2)))),
  };
}
