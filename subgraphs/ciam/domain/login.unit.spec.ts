import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { CiamEvent } from '../../../schema/events/ciam.ts';
import { decideInternalUser, internalUser } from './internal-user.ts';
import { attemptOutcome, decideCodeSent, decideFailure, decideLockedAttempt, decideSuccess, evolveLock, isLocked, unlocked, type LockState } from './login.ts';
import { decideRotation, publishedKeys, signingKeyAt } from './signing-keys.ts';

const policy = { maxFailures: 3, lockMs: 60_000 };
const now = new Date('2026-01-01T00:00:00Z');
const attempt = { accountId: '00000000-0000-4000-8000-000000000001', accountKind: 'internal-user' as const, address: '10.0.0.1', now };
const apply = (s: LockState, events: CiamEvent[]) => events.reduce(evolveLock, s);
const recorded = (e: CiamEvent, v = 1) => ({ ...e, streamVersion: v, occurredAt: now }) as unknown as RecordedEvent<CiamEvent>;

describe('lockout', () => {
  it('locks after maxFailures counted failures and unlocks after lockMs', () => {
    let s = unlocked();
    for (let i = 0; i < 2; i++) s = apply(s, decideFailure(s, { ...attempt, reason: 'WRONG_PASSWORD' }, policy));
    expect(s.failures).toBe(2);
    const third = decideFailure(s, { ...attempt, reason: 'WRONG_CODE' }, policy);
    expect(third.map((e) => e.type)).toEqual(['LoginFailed', 'AccountLocked']);
    s = apply(s, third);
    expect(isLocked(s, now)).toBe(true);
    expect(isLocked(s, new Date(now.getTime() + 60_001))).toBe(false);
  });

  it('does not count NOT_ACTIVE, and a success resets the count', () => {
    let s = apply(unlocked(), decideFailure(unlocked(), { ...attempt, reason: 'NOT_ACTIVE' }, policy));
    expect(s.failures).toBe(0);
    s = apply(s, decideFailure(s, { ...attempt, reason: 'WRONG_PASSWORD' }, policy));
    s = apply(s, decideSuccess({ ...attempt, sessionId: 's', role: 'ADMIN' }));
    expect(s).toEqual(unlocked());
  });
});

describe('internal user', () => {
  const userId = '00000000-0000-4000-8000-000000000002';
  const invited = internalUser.evolve(
    internalUser.initialState(),
    recorded(decideInternalUser.invite(internalUser.initialState(), { userId, email: 'A@B.cl', name: 'A', role: 'ADMIN', inviteTokenHash: 'h', inviteExpiresAt: '2026-01-02T00:00:00Z' })[0]),
  );

  it('normalises the email and refuses a MANAGER without a company', () => {
    expect(invited.email).toBe('a@b.cl');
    expect(() => decideInternalUser.invite(internalUser.initialState(), { userId, email: 'x@y.cl', name: 'X', role: 'MANAGER', inviteTokenHash: 'h', inviteExpiresAt: 'x' })).toThrow(/companyId/);
  });

  it('accepts the invite once, with the right token, before it expires', () => {
    expect(() => decideInternalUser.setPassword(invited, { tokenHash: 'other', passwordHash: 'p', now })).toThrow(/not valid/);
    expect(() => decideInternalUser.setPassword(invited, { tokenHash: 'h', passwordHash: 'p', now: new Date('2026-01-03T00:00:00Z') })).toThrow(/expired/);
    const events = decideInternalUser.setPassword(invited, { tokenHash: 'h', passwordHash: 'p', now });
    const active = internalUser.evolve(invited, recorded(events[0], 2));
    expect(active.status).toBe('ACTIVE');
    expect(() => decideInternalUser.setPassword(active, { tokenHash: 'h', passwordHash: 'p', now })).toThrow(/already used/);
  });

  it('records a role change only when something changes', () => {
    expect(decideInternalUser.changeRole(invited, { userId, role: 'ADMIN' })).toEqual([]);
    const [e] = decideInternalUser.changeRole(invited, { userId, role: 'MANAGER', companyId: '00000000-0000-4000-8000-000000000003' });
    expect(e).toMatchObject({ type: 'RoleChanged', data: { fromRole: 'ADMIN', toRole: 'MANAGER' } });
  });
});

describe('signing keys', () => {
  const key = { kid: 'k', alg: 'ES256', publicJwk: {}, encryptedPrivateKey: 'x' };
  it('rotates only when due or forced', () => {
    const state = { keys: [{ kid: 'a', createdAt: now, activatesAt: now }] };
    const later = new Date(now.getTime() + 1000);
    expect(decideRotation(state, { now: later, rotationMs: 5000, activationDelayMs: 0, force: false, key })).toEqual([]);
    expect(decideRotation(state, { now: later, rotationMs: 500, activationDelayMs: 0, force: false, key })).toHaveLength(1);
    expect(decideRotation(state, { now: later, rotationMs: 5000, activationDelayMs: 0, force: true, key })).toHaveLength(1);
  });

  it('keeps the old key published until tokens it signed have expired', () => {
    const t = (s: number) => new Date(now.getTime() + s * 1000);
    const keys = [{ kid: 'old', activatesAt: t(0) }, { kid: 'new', activatesAt: t(100) }];
    expect(signingKeyAt(keys, t(50))!.kid).toBe('old');
    expect(signingKeyAt(keys, t(100))!.kid).toBe('new');
    expect(publishedKeys(keys, t(100 + 600 + 59), 600_000).map((k) => k.kid)).toEqual(['old', 'new']);
    expect(publishedKeys(keys, t(100 + 600 + 61), 600_000).map((k) => k.kid)).toEqual(['new']);
  });
});

describe('attempt outcome', () => {
  it('is read from the decided events alone, however often the decision ran', () => {
    const locked = { failures: 0, lockedUntil: new Date(now.getTime() + 60_000).toISOString() };
    expect(attemptOutcome(decideCodeSent({ ...attempt, challengeId: 'c' }))).toBe('ok');
    expect(attemptOutcome(decideLockedAttempt(locked, attempt))).toBe('locked');
    expect(attemptOutcome(decideFailure(unlocked(), { ...attempt, reason: 'NOT_ACTIVE' }, policy))).toBe('inactive');
    expect(attemptOutcome(decideFailure(unlocked(), { ...attempt, reason: 'WRONG_PASSWORD' }, policy))).toBe('wrong');
    // The failure that locks the account is still a wrong password to the one who made it.
    const third = decideFailure({ failures: 2, lockedUntil: null }, { ...attempt, reason: 'WRONG_PASSWORD' }, policy);
    expect(third.map((e) => e.type)).toEqual(['LoginFailed', 'AccountLocked']);
    expect(attemptOutcome(third)).toBe('wrong');
  });
});
