import { describe, expect, it } from 'vitest';
import { refusal } from '../testing/decider.ts';
import { encodeCursor, MAX_PAGE_SIZE, toConnection, toPage } from './pagination.ts';

describe('toPage', () => {
  it('defaults to 20 from the start', () => {
    expect(toPage({})).toEqual({ limit: 20, afterPosition: 0 });
    expect(toPage({ first: null, after: null })).toEqual({ limit: 20, afterPosition: 0 });
  });

  it('accepts 1 to the maximum', () => {
    expect(toPage({ first: 1 }).limit).toBe(1);
    expect(toPage({ first: MAX_PAGE_SIZE }).limit).toBe(MAX_PAGE_SIZE);
  });

  it.each([0, -1, -2147483648, MAX_PAGE_SIZE + 1, 2147483647, 1.5, Number.NaN])('refuses first = %s naming the field', (first) => {
    const e = refusal(() => toPage({ first }));
    expect(e).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(e.message).toMatch(/first must be from 1 to 100/);
  });

  it('reads back the position of a cursor it issued', () => {
    expect(toPage({ after: encodeCursor(0) }).afterPosition).toBe(0);
    expect(toPage({ after: encodeCursor(12345) }).afterPosition).toBe(12345);
    expect(toPage({ after: encodeCursor(999_999_999_999_999) }).afterPosition).toBe(999_999_999_999_999);
  });

  it.each([
    '',
    'garbage',
    '!!!',
    Buffer.from('p:-1').toString('base64url'),
    Buffer.from('p:1.5').toString('base64url'),
    Buffer.from('p:').toString('base64url'),
    Buffer.from('q:12').toString('base64url'),
    Buffer.from('p:1234567890123456').toString('base64url'),
    Buffer.from('p:12 OR 1=1').toString('base64url'),
    'x'.repeat(10_000),
  ])('refuses the cursor %j', (after) => {
    expect(refusal(() => toPage({ after }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('toConnection', () => {
  const rows = (...positions: number[]) => positions.map((position) => ({ position }));

  it('returns the first `limit` rows, says there is more when it got limit + 1, and points the cursor at the last returned', () => {
    const c = toConnection(rows(3, 5, 8), { limit: 2, afterPosition: 0 });
    expect(c.nodes).toEqual(rows(3, 5));
    expect(c.pageInfo.hasNextPage).toBe(true);
    expect(toPage({ after: c.pageInfo.endCursor }).afterPosition).toBe(5);
  });

  it('has no next page on the last one, and no cursor when empty', () => {
    expect(toConnection(rows(3, 5), { limit: 2, afterPosition: 0 }).pageInfo.hasNextPage).toBe(false);
    expect(toConnection([], { limit: 2, afterPosition: 0 }).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });
});
