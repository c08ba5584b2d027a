import { sessionKey } from '../../../platform/auth/session-status.ts';
import { createHmac, randomUUID } from 'node:crypto';
import type { Identity } from '../../../platform/auth/identity.ts';
import type { KeyValueStore } from '../../../platform/redis/store.ts';
import { randomToken, sameSecret } from './secrets.ts';

/**
 * Server-side sessions in the key-value store. The gateway checks `EXISTS
 * angelis:session:<sid>` on every request, so deleting that key revokes at once.
 *
 * A refresh token is `<sid>.<generation>.<mac>`, the mac keyed by a per-session secret kept
 * only in the session. Refreshing moves the session to the next generation (compare-and-set,
 * so of two concurrent refreshes one wins); a genuine token of an older generation is a
 * reused refresh token: the session is revoked. Keys: `<prefix>session:<sid>` and
 * `<prefix>user-sessions:<accountId>` (a set, for "log out everywhere").
 *
 * Lifetime: a session unused for `ttlMs` expires (each refresh restarts that wait), and
 * none outlives `maxAgeMs` from sign-in: its key expires then, so the gateway refuses its
 * access tokens at that moment too, and a refresh after it is not valid.
 */

export interface Session {
  sid: string;
  identity: Omit<Identity, 'sessionId'>;
  generation: number;
  secret: string;
  createdAt: string;
}

export type RefreshOutcome =
  | { kind: 'rotated'; session: Session; refreshToken: string }
  | { kind: 'reused'; session: Session }
  | { kind: 'invalid' };

export class Sessions {
  private readonly store: KeyValueStore;
  private readonly options: { prefix: string; ttlMs: number; maxAgeMs: number };

  constructor(
    store: KeyValueStore,
    options: { prefix: string; ttlMs: number; maxAgeMs: number },
  ) {
    this.store = store;
    this.options = options;
  }

  /** How long the session's keys may live from now: the idle wait, but never past its maximum age. */
  private ttlOf(session: Session): number {
    return Math.min(this.options.ttlMs, Date.parse(session.createdAt) + this.options.maxAgeMs - Date.now());
  }

  key(sid: string) {
    return sessionKey(sid, this.options.prefix);
  }

  private userKey(accountId: string) {
    return `${this.options.prefix}user-sessions:${accountId}`;
  }

  private token(s: Session) {
    return `${s.sid}.${s.generation}.${createHmac('sha256', s.secret).update(`${s.sid}.${s.generation}`).digest('base64url')}`;
  }

  get ttlMs() {
    return this.options.ttlMs;
  }

  /** Starts a session; returns it with its first refresh token. */
  async create(identity: Omit<Identity, 'sessionId'>): Promise<{ session: Session; refreshToken: string }> {
    const session: Session = { sid: randomUUID(), identity, generation: 1, secret: randomToken(), createdAt: new Date().toISOString() };
    const ttl = this.ttlOf(session);
    await this.store.set(this.key(session.sid), JSON.stringify(session), ttl);
    await this.store.setAdd(this.userKey(identity.userId), session.sid, this.options.ttlMs);
    return { session, refreshToken: this.token(session) };
  }

  async get(sid: string): Promise<Session | null> {
    const raw = await this.store.get(this.key(sid));
    return raw ? (JSON.parse(raw) as Session) : null;
  }

  /** Rotates a refresh token, or reports its reuse (the caller revokes) or that it is not valid. */
  async refresh(refreshToken: string): Promise<RefreshOutcome> {
    const m = /^([0-9a-f-]{36})\.(\d{1,9})\.([A-Za-z0-9_-]{43})$/.exec(refreshToken);
    if (!m) return { kind: 'invalid' };
    const raw = await this.store.get(this.key(m[1]));
    if (!raw) return { kind: 'invalid' };
    const session = JSON.parse(raw) as Session;
    const generation = Number(m[2]);
    if (generation > session.generation || !sameSecret(this.token({ ...session, generation }), refreshToken)) return { kind: 'invalid' };
    if (generation < session.generation) return { kind: 'reused', session };
    const ttl = this.ttlOf(session);
    if (ttl <= 0) {
      // Past its maximum age (the key's expiry is due): over, whatever the token.
      await this.revoke(session.sid, session.identity.userId);
      return { kind: 'invalid' };
    }
    const next: Session = { ...session, generation: session.generation + 1 };
    // Lost the race to a concurrent refresh with the same token: that is reuse too.
    if (!(await this.store.compareAndSet(this.key(session.sid), raw, JSON.stringify(next), ttl))) {
      return { kind: 'reused', session };
    }
    await this.store.setAdd(this.userKey(session.identity.userId), session.sid, this.options.ttlMs);
    return { kind: 'rotated', session: next, refreshToken: this.token(next) };
  }

  /** The session a refresh token names, if the token is genuine (any generation). */
  async ofRefreshToken(refreshToken: string): Promise<Session | null> {
    const m = /^([0-9a-f-]{36})\.(\d{1,9})\.([A-Za-z0-9_-]{43})$/.exec(refreshToken);
    if (!m) return null;
    const session = await this.get(m[1]);
    if (!session || Number(m[2]) > session.generation) return null;
    return sameSecret(this.token({ ...session, generation: Number(m[2]) }), refreshToken) ? session : null;
  }

  /** Ends a session; true when it was still open. */
  async revoke(sid: string, accountId: string): Promise<boolean> {
    const existed = (await this.store.del(this.key(sid))) > 0;
    await this.store.setRemove(this.userKey(accountId), sid);
    return existed;
  }

  /** Ends every session of an account; returns the ones that were open. */
  async revokeAll(accountId: string): Promise<string[]> {
    const sids = await this.store.setMembers(this.userKey(accountId));
    const open: string[] = [];
    for (const sid of sids) if ((await this.store.del(this.key(sid))) > 0) open.push(sid);
    await this.store.del(this.userKey(accountId));
    return open;
  }
}
