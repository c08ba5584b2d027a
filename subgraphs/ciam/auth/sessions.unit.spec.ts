import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryKeyValueStore } from '../../../platform/redis/memory.ts';
import { Sessions, type RefreshOutcome } from './sessions.ts';

const DAY = 86_400_000;
const START = Date.parse('2026-01-01T00:00:00Z');
const identity = { userId: 'user-1', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null } as const;

function rotated(outcome: RefreshOutcome): string {
  if (outcome.kind !== 'rotated') throw new Error(`expected a rotation, got ${outcome.kind}`);
  return outcome.refreshToken;
}

describe('session lifetime', () => {
  let store: MemoryKeyValueStore;
  let sessions: Sessions;
  beforeEach(() => {
    vi.useFakeTimers({ now: START });
    store = new MemoryKeyValueStore(() => Date.now());
    sessions = new Sessions(store, { prefix: 't:', ttlMs: 30 * DAY, maxAgeMs: 90 * DAY });
  });
  afterEach(() => vi.useRealTimers());

  it('each refresh restarts the idle wait, but never past the maximum age from sign-in', async () => {
    const { session, refreshToken: first } = await sessions.create(identity);
    expect(await store.ttl(sessions.key(session.sid))).toBe(30 * DAY);
    let token = first;
    for (const day of [20, 40, 60, 80]) {
      vi.setSystemTime(START + day * DAY);
      token = rotated(await sessions.refresh(token));
      expect(await store.ttl(sessions.key(session.sid))).toBe(Math.min(30 * DAY, (90 - day) * DAY));
    }
    vi.setSystemTime(START + 90 * DAY);
    expect((await sessions.refresh(token)).kind).toBe('invalid');
    expect(await sessions.get(session.sid)).toBeNull();
  });

  it('a session left unused for the idle wait ends', async () => {
    const { session, refreshToken } = await sessions.create(identity);
    vi.setSystemTime(START + 30 * DAY);
    expect((await sessions.refresh(refreshToken)).kind).toBe('invalid');
    expect(await sessions.get(session.sid)).toBeNull();
  });

  it('a session past its maximum age is refused and removed even if its key outlived it', async () => {
    const { session, refreshToken } = await sessions.create(identity);
    // As if the key had been written without the cap (an older release, a restore).
    await store.set(sessions.key(session.sid), JSON.stringify(session));
    vi.setSystemTime(START + 90 * DAY + 1);
    expect((await sessions.refresh(refreshToken)).kind).toBe('invalid');
    expect(await sessions.get(session.sid)).toBeNull();
  });
});
