import type { Identity } from '../platform/auth/identity.ts';

/**
 * Merges identical in-flight subgraph fetches: while a fetch is on its way, the same
 * operation text with the same variables, for the same subgraph and the same permission
 * scope, waits for it instead of being sent again. The scope is everything the subgraph is
 * told about the caller (the signed identity: user, kind, role, company, profile, session),
 * so no answer crosses from one caller's permissions to another's. Only queries merge (a
 * mutation is always sent). Each waiting caller gets its own copy of the response (the
 * gateway writes into what it receives).
 *
 * Read-your-writes: once a mutation's response has come back through this gateway (any
 * subgraph), no later query joins a fetch that was already on its way (it may have read
 * before the write committed): `mutationDone` starts a new epoch and only fetches of the
 * current epoch are joined. A write answered through another gateway instance is not seen
 * here: the data source checks a joined answer's cache tags (gateway/subgraph-source.ts)
 * and fetches again when one was written since it was read.
 */
let epoch = 0;
export function mutationDone(): void {
  epoch++;
}

export class InflightFetches<R> {
  private readonly pending = new Map<string, { promise: Promise<R>; waiting: number; epoch: number }>();
  /** Fetches answered by another's (for metrics and tests). */
  merged = 0;

  static scopeOf(identity: Identity | null | undefined): string {
    if (!identity) return 'anonymous';
    return JSON.stringify([identity.userId, identity.kind, identity.role, identity.companyId, identity.profileId, identity.sessionId, identity.dev ?? false]);
  }

  static isQuery(text: string): boolean {
    return /^\s*(query\b|\{)/.test(text);
  }

  /** `copy`: a response the caller may write into without touching the shared one. */
  private readonly copy: (response: R) => R;

  constructor(copy: (response: R) => R) {
    this.copy = copy;
  }

  run(key: string, fetch: () => Promise<R>): Promise<R> {
    return this.runJoined(key, fetch).then((r) => r.value);
  }

  /** Like run, saying whether the answer is another caller's fetch (joined) or this one's. */
  runJoined(key: string, fetch: () => Promise<R>): Promise<{ value: R; joined: boolean }> {
    const current = this.pending.get(key);
    if (current && current.epoch === epoch) {
      this.merged++;
      current.waiting++;
      return current.promise.then((r) => ({ value: this.copy(r), joined: true }));
    }
    const entry = { promise: fetch(), waiting: 0, epoch };
    this.pending.set(key, entry);
    const done = () => {
      if (this.pending.get(key) === entry) this.pending.delete(key);
    };
    entry.promise.then(done, done);
    // The first caller's copy is the original unless others wait for it too (they clone it after).
    return entry.promise.then((r) => ({ value: entry.waiting > 0 ? this.copy(r) : r, joined: false }));
  }
}
