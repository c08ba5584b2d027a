import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeNotificationCursor, encodeNotificationCursor, type FeedPosition } from './notifications.ts';

/**
 * Notification cursors (Notification.cursor, the SSE event id) compare as plain strings in
 * commit order, (transaction id, position), over the whole range of both: xid8 is 64 bits,
 * positions stay below 2^53 (they are read as numbers).
 */
const position = fc.record({
  transactionId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
  position: fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.maxSafeInteger().filter((n) => n >= 0)),
});
const byCommitOrder = (a: FeedPosition, b: FeedPosition) => {
  const [x, y] = [BigInt(a.transactionId), BigInt(b.transactionId)];
  return x !== y ? (x < y ? -1 : 1) : Math.sign(a.position - b.position);
};
const byString = (a: string, b: string) => (a === b ? 0 : a < b ? -1 : 1);

describe('notification cursors', () => {
  it('compare as plain strings exactly as their positions compare in commit order', () => {
    fc.assert(
      fc.property(position, position, (a, b) => {
        expect(byString(encodeNotificationCursor(a), encodeNotificationCursor(b))).toBe(byCommitOrder(a, b));
      }),
      { numRuns: 2_000 },
    );
    // Where decimal text would sort wrongly: 9 before 10, in both parts.
    const nine = encodeNotificationCursor({ transactionId: '9', position: 10 });
    expect(nine < encodeNotificationCursor({ transactionId: '10', position: 1 })).toBe(true);
    expect(encodeNotificationCursor({ transactionId: '10', position: 9 }) < encodeNotificationCursor({ transactionId: '10', position: 10 })).toBe(true);
  });

  it('name the position they were made from, at the extremes too', () => {
    fc.assert(fc.property(position, (p) => {
        expect(decodeNotificationCursor(encodeNotificationCursor(p))).toEqual(p);
      }));
    for (const p of [{ transactionId: '0', position: 0 }, { transactionId: String(2n ** 64n - 1n), position: Number.MAX_SAFE_INTEGER }]) {
      expect(encodeNotificationCursor(p)).toMatch(/^[0-9a-f]{32}$/);
      expect(decodeNotificationCursor(encodeNotificationCursor(p))).toEqual(p);
    }
  });

  it('refuse anything else as BAD_USER_INPUT naming the argument: one spelling per position', () => {
    const valid = encodeNotificationCursor({ transactionId: '123456', position: 42 });
    const refused = [
      '', 'garbage', valid.toUpperCase(), valid.slice(1), `${valid}0`, ` ${valid}`, `${valid}\n`, valid.replace(/.$/, 'g'),
      // A position past what a number holds exactly.
      `${'0'.repeat(16)}0020000000000000`,
      // The base64url spelling cursors had before they were fixed width.
      Buffer.from('n:123456:42').toString('base64url'),
    ];
    for (const cursor of refused) {
      let error: unknown;
      try {
        decodeNotificationCursor(cursor, 'lastEventId');
      } catch (err) {
        error = err;
      }
      expect(error, JSON.stringify(cursor)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
      expect(String((error as Error).message)).toContain('lastEventId');
    }
  });
});
