import type { CiamEvent } from '../../../schema/events/ciam.ts';

/**
 * Login outcomes shared by every kind of account (internal users, worker accounts):
 * consecutive failures, and the lockout they lead to. Pure.
 */

export type AccountKind = 'internal-user' | 'profile';

export interface LockState {
  /** Consecutive counted failures since the last success or lock. */
  failures: number;
  /** ISO instant, or null. */
  lockedUntil: string | null;
}

export interface LockoutPolicy {
  /** Consecutive failures that lock the account. */
  maxFailures: number;
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, lockMs: 15 * 60_000 };

export const unlocked = (): LockState => ({ failures: 0, lockedUntil: null });

type FailureReason = Extract<CiamEvent, { type: 'LoginFailed' }>['data']['reason'];

/** Failures that say someone is guessing: they count toward the lockout. */
const COUNTED = new Set<FailureReason>(['WRONG_PASSWORD', 'WRONG_CODE', 'CODE_ATTEMPTS_EXHAUSTED']);

/** Applies a login event to the lock state. */
export function evolveLock(state: LockState, e: CiamEvent): LockState {
  switch (e.type) {
    case 'LoginFailed':
      return { ...state, failures: e.data.failures };
    case 'AccountLocked':
      return { failures: 0, lockedUntil: e.data.lockedUntil };
    case 'LoginSucceeded':
      return unlocked();
    default:
      return state;
  }
}

/** Whether the account is locked at `now`. */
export function isLocked(state: LockState, now: Date): boolean {
  return state.lockedUntil !== null && Date.parse(state.lockedUntil) > now.getTime();
}

/** Seconds until the lock lifts (0 when not locked). */
export function lockSecondsLeft(state: LockState, now: Date): number {
  return isLocked(state, now) ? Math.ceil((Date.parse(state.lockedUntil!) - now.getTime()) / 1000) : 0;
}

export interface Attempt {
  accountId: string;
  accountKind: AccountKind;
  address: string | null;
  now: Date;
}

/** A failed attempt: the failure, and the lock when it is one too many. */
export function decideFailure(state: LockState, a: Attempt & { reason: FailureReason }, policy: LockoutPolicy): CiamEvent[] {
  const counted = COUNTED.has(a.reason);
  const failures = counted ? state.failures + 1 : state.failures;
  const events: CiamEvent[] = [
    {
      type: 'LoginFailed',
      data: { accountId: a.accountId, accountKind: a.accountKind, identifier: null, reason: a.reason, failures, address: a.address },
    },
  ];
  if (counted && failures >= policy.maxFailures) {
    const lockedUntil = new Date(a.now.getTime() + policy.lockMs).toISOString();
    events.push({ type: 'AccountLocked', data: { accountId: a.accountId, accountKind: a.accountKind, failures, lockedUntil } });
  }
  return events;
}

/** A login that is refused before any check, because the account is locked. */
export function decideLockedAttempt(state: LockState, a: Attempt): CiamEvent[] {
  return [
    {
      type: 'LoginFailed',
      data: { accountId: a.accountId, accountKind: a.accountKind, identifier: null, reason: 'LOCKED', failures: state.failures, address: a.address },
    },
  ];
}

/**
 * What a login attempt came to, read from the events its decision recorded (so callers
 * need no state outside the decision, which may run more than once on a retry).
 */
export function attemptOutcome(events: readonly { type: string; data: unknown }[]): 'ok' | 'locked' | 'inactive' | 'wrong' {
  if (events.some((e) => e.type === 'LoginCodeSent' || e.type === 'LoginSucceeded')) return 'ok';
  const failure = events.find((e) => e.type === 'LoginFailed')?.data as { reason?: FailureReason } | undefined;
  if (failure?.reason === 'LOCKED') return 'locked';
  if (failure?.reason === 'NOT_ACTIVE') return 'inactive';
  return 'wrong';
}

/** The first factor passed (or a worker asked for a code): a code goes out. */
export function decideCodeSent(a: Attempt & { challengeId: string }): CiamEvent[] {
  return [{ type: 'LoginCodeSent', data: { accountId: a.accountId, accountKind: a.accountKind, challengeId: a.challengeId, address: a.address } }];
}

/** The login completed. */
export function decideSuccess(a: Attempt & { sessionId: string; role: 'ADMIN' | 'MANAGER' | 'WORKER' }): CiamEvent[] {
  return [{ type: 'LoginSucceeded', data: { accountId: a.accountId, accountKind: a.accountKind, sessionId: a.sessionId, role: a.role, address: a.address } }];
}

/** A session ended early. */
export function decideRevoked(
  accountId: string,
  accountKind: AccountKind,
  sessionIds: string[],
  reason: Extract<CiamEvent, { type: 'SessionRevoked' }>['data']['reason'],
): CiamEvent[] {
  return sessionIds.map((sessionId) => ({ type: 'SessionRevoked', data: { accountId, accountKind, sessionId, reason } }));
}
