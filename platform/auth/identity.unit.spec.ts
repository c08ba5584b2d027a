import { describe, expect, it } from 'vitest';
import { signClaims, verifySignedClaims } from './identity.ts';

describe('signed claims (gateway to subgraph headers)', () => {
  const now = Date.parse('2026-12-01T12:00:00.250Z');

  it('gives the same header for the same claims within a second, and each secret its own', () => {
    const a = signClaims({ sub: 'u1' }, 'secret-a', now);
    expect(signClaims({ sub: 'u1' }, 'secret-a', now + 500)).toBe(a);
    const b = signClaims({ sub: 'u1' }, 'secret-b', now);
    expect(b).not.toBe(a);
    expect(verifySignedClaims(a, 'secret-a', 'identity', now)).toMatchObject({ sub: 'u1' });
    expect(verifySignedClaims(b, 'secret-b', 'identity', now)).toMatchObject({ sub: 'u1' });
    expect(() => verifySignedClaims(b, 'secret-a', 'identity', now)).toThrow(/not signed by the gateway/);
    expect(signClaims({ sub: 'u2' }, 'secret-a', now)).not.toBe(a);
  });

  it('takes the next second\'s timestamp in the next second, and an old header ages out', () => {
    const first = signClaims({ sub: 'u1' }, 's', now);
    const next = signClaims({ sub: 'u1' }, 's', now + 1_000);
    expect(next).not.toBe(first);
    expect(verifySignedClaims(next, 's', 'identity', now + 1_000)).toMatchObject({ iat: Math.floor(now / 1000) + 1 });
    expect(() => verifySignedClaims(first, 's', 'identity', now + 120_000)).toThrow();
    // Signing for an earlier second again (a clock read out of order) is still right.
    expect(signClaims({ sub: 'u1' }, 's', now)).toBe(first);
  });

  it('refuses a forged or altered header every time, also right after the genuine one was accepted', () => {
    const good = signClaims({ sub: 'u9', role: 'WORKER' }, 'k', now);
    expect(verifySignedClaims(good, 'k', 'identity', now)).toMatchObject({ sub: 'u9' });
    const [payload, signature] = good.split('.');
    const elevated = Buffer.from(JSON.stringify({ sub: 'u9', role: 'ADMIN', iat: Math.floor(now / 1000) })).toString('base64url');
    for (let i = 0; i < 2; i++) {
      expect(() => verifySignedClaims(`${elevated}.${signature}`, 'k', 'identity', now)).toThrow(/not signed by the gateway/);
      expect(() => verifySignedClaims(`${payload}.${signature}x`, 'k', 'identity', now)).toThrow(/not signed by the gateway/);
      expect(() => verifySignedClaims(`${good}.extra`, 'k', 'identity', now)).toThrow(/not signed by the gateway/);
      expect(() => verifySignedClaims(good, 'other-secret', 'identity', now)).toThrow(/not signed by the gateway/);
    }
    // Accepted again, and still aged: past maxAgeS it is refused however recently it was checked.
    expect(verifySignedClaims(good, 'k', 'identity', now + 30_000)).toMatchObject({ sub: 'u9' });
    expect(() => verifySignedClaims(good, 'k', 'identity', now + 61_000)).toThrow(/expired/);
  });
});
