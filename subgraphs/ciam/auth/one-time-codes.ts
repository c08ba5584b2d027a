import { randomInt, randomUUID } from 'node:crypto';
import type { KeyValueStore } from '../../../platform/redis/store.ts';
import type { AccountKind } from '../domain/login.ts';
import { sameSecret, type CiamSecrets } from './secrets.ts';

/**
 * One-time login codes in the key-value store: 6 digits, a TTL, an attempt limit, single
 * use. Only a keyed hash of the code is stored. Keys: `<prefix>otp:<challengeId>` (the
 * challenge) and `<prefix>otp:<challengeId>:attempts` (an atomic counter, so concurrent
 * guesses cannot exceed the limit).
 */

export interface Challenge {
  /** null for a decoy (unknown account): every code is wrong, like a real one would be. */
  accountId: string | null;
  accountKind: AccountKind;
}

export type CodeCheck =
  | { ok: true; challenge: Challenge }
  | { ok: false; reason: 'WRONG_CODE' | 'CODE_ATTEMPTS_EXHAUSTED'; challenge: Challenge; attemptsLeft: number }
  | { ok: false; reason: 'EXPIRED' };

export interface OneTimeCodeOptions {
  ttlMs: number;
  maxAttempts: number;
  prefix: string;
}

export const DEFAULT_CODE_OPTIONS = { ttlMs: 5 * 60_000, maxAttempts: 5 };

export class OneTimeCodes {
  private readonly store: KeyValueStore;
  private readonly secrets: CiamSecrets;
  private readonly options: OneTimeCodeOptions;

  constructor(
    store: KeyValueStore,
    secrets: CiamSecrets,
    options: OneTimeCodeOptions,
  ) {
    this.store = store;
    this.secrets = secrets;
    this.options = options;
  }

  private key(challengeId: string) {
    return `${this.options.prefix}otp:${challengeId}`;
  }

  /** Starts a challenge; returns the code to deliver (or, for a decoy, nothing to deliver). */
  async issue(challenge: Challenge): Promise<{ challengeId: string; code: string; expiresAt: Date }> {
    const challengeId = randomUUID();
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const codeMac = challenge.accountId ? this.secrets.mac(`${challengeId}:${code}`) : '';
    await this.store.set(this.key(challengeId), JSON.stringify({ ...challenge, codeMac }), this.options.ttlMs);
    return { challengeId, code, expiresAt: new Date(Date.now() + this.options.ttlMs) };
  }

  /** Withdraws a challenge (the login was refused after all). */
  async cancel(challengeId: string): Promise<void> {
    await this.store.del(this.key(challengeId), `${this.key(challengeId)}:attempts`);
  }

  /** Checks a code: counts the attempt first, consumes the challenge on success. */
  async check(challengeId: string, code: string): Promise<CodeCheck> {
    const key = this.key(challengeId);
    const raw = await this.store.get(key);
    if (!raw) return { ok: false, reason: 'EXPIRED' };
    const record = JSON.parse(raw) as Challenge & { codeMac: string };
    const challenge = { accountId: record.accountId, accountKind: record.accountKind };
    const attempts = await this.store.incr(`${key}:attempts`, this.options.ttlMs);
    const { maxAttempts } = this.options;
    if (attempts > maxAttempts) {
      await this.store.del(key, `${key}:attempts`);
      return { ok: false, reason: 'CODE_ATTEMPTS_EXHAUSTED', challenge, attemptsLeft: 0 };
    }
    const right = record.accountId !== null && /^\d{6}$/.test(code) && sameSecret(this.secrets.mac(`${challengeId}:${code}`), record.codeMac);
    if (!right) {
      if (attempts === maxAttempts) await this.store.del(key, `${key}:attempts`);
      return { ok: false, reason: attempts === maxAttempts ? 'CODE_ATTEMPTS_EXHAUSTED' : 'WRONG_CODE', challenge, attemptsLeft: maxAttempts - attempts };
    }
    // Single use: of two concurrent right answers only one takes the challenge.
    if ((await this.store.take(key)) === null) return { ok: false, reason: 'EXPIRED' };
    await this.store.del(`${key}:attempts`);
    return { ok: true, challenge };
  }
}
