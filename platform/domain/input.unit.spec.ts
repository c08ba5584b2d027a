import { describe, expect, it } from 'vitest';
import { refusal } from '../testing/decider.ts';
import * as input from './input.ts';

describe('text', () => {
  it('trims, and refuses empty, over-long, missing and non-text values naming the field', () => {
    expect(input.text('  Ana  ', 'name')).toBe('Ana');
    expect(input.text('x'.repeat(10), 'name', 10)).toBe('x'.repeat(10));
    expect(refusal(() => input.text('x'.repeat(11), 'name', 10))).toMatchObject({
      code: 'BAD_USER_INPUT', field: 'name', message: 'name must be at most 10 characters',
    });
    expect(refusal(() => input.text('   ', 'name')).message).toBe('name must not be empty');
    expect(refusal(() => input.text(null, 'name')).message).toBe('name is required');
    expect(refusal(() => input.text(undefined, 'name')).message).toBe('name is required');
    expect(refusal(() => input.text(42, 'name')).message).toBe('name must be text');
  });

  it('counts the length after trimming', () => {
    expect(input.text(`  ${'x'.repeat(10)}  `, 'name', 10)).toHaveLength(10);
  });

  it('optionalText gives null for missing or blank values', () => {
    expect(input.optionalText(undefined, 'f')).toBeNull();
    expect(input.optionalText(null, 'f')).toBeNull();
    expect(input.optionalText('  ', 'f')).toBeNull();
    expect(input.optionalText(' a ', 'f')).toBe('a');
    expect(refusal(() => input.optionalText('abc', 'f', 2)).code).toBe('BAD_USER_INPUT');
  });
});

describe('isoDate', () => {
  it.each(['2026-01-31', '2024-02-29', '2000-02-29', '1900-01-01', '2200-12-31'])('accepts the real date %s', (d) => {
    expect(input.isoDate(d, 'on')).toBe(d);
  });

  it.each(['2026-02-29', '1900-02-29', '2026-02-30', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00'])(
    'refuses %s, which does not exist, saying so',
    (d) => {
      const e = refusal(() => input.isoDate(d, 'on'));
      expect(e).toMatchObject({ code: 'BAD_USER_INPUT', field: 'on' });
      expect(e.message).toBe(`on must be a real calendar date; ${d} does not exist`);
    },
  );

  it.each(['2026-1-5', '05-01-2026', '2026/01/05', '2026-01-05T00:00:00Z', ' 2026-01-05', '', 'tomorrow', 20260105, null])(
    'refuses %j as not written YYYY-MM-DD',
    (d) => {
      expect(refusal(() => input.isoDate(d, 'on')).message).toMatch(/^on must be a date written YYYY-MM-DD, got /);
    },
  );

  it('refuses years outside 1900-2200, including two-digit years that Date.UTC would shift', () => {
    expect(refusal(() => input.isoDate('1899-12-31', 'on')).message).toBe('on must be a date from 1900 to 2200, got 1899-12-31');
    expect(refusal(() => input.isoDate('2201-01-01', 'on')).code).toBe('BAD_USER_INPUT');
    expect(refusal(() => input.isoDate('0050-01-01', 'on')).message).toMatch(/from 1900 to 2200/);
  });

  it('optionalDate gives null for null or undefined, and validates anything else', () => {
    expect(input.optionalDate(null, 'on')).toBeNull();
    expect(input.optionalDate(undefined, 'on')).toBeNull();
    expect(refusal(() => input.optionalDate('', 'on')).code).toBe('BAD_USER_INPUT');
  });
});

describe('dateOrder', () => {
  it('accepts equal dates and an open end, refuses an end before the start naming the end field', () => {
    expect(() => input.dateOrder('2026-01-01', '2026-01-01', 'startsOn', 'endsOn')).not.toThrow();
    expect(() => input.dateOrder('2026-01-01', null, 'startsOn', 'endsOn')).not.toThrow();
    expect(refusal(() => input.dateOrder('2026-01-02', '2026-01-01', 'startsOn', 'endsOn'))).toMatchObject({
      field: 'endsOn', message: 'endsOn (2026-01-01) must not be before startsOn (2026-01-02)',
    });
  });
});

describe('email and phone', () => {
  it('lower-cases emails and refuses malformed ones', () => {
    expect(input.optionalEmail(' Ana.P@Mina.CL ')).toBe('ana.p@mina.cl');
    expect(input.optionalEmail('')).toBeNull();
    for (const bad of ['ana', 'ana@', '@mina.cl', 'ana@mina', 'a b@mina.cl']) expect(refusal(() => input.optionalEmail(bad)).field).toBe('email');
    expect(refusal(() => input.optionalEmail(`${'a'.repeat(250)}@x.cl`)).code).toBe('BAD_USER_INPUT');
  });

  it('accepts common phone spellings and refuses letters and over-long numbers', () => {
    for (const ok of ['+56 9 1234 5678', '(2) 2345-6789', '912345678']) expect(input.optionalPhone(ok)).toBe(ok);
    for (const bad of ['call me', '12345', '+56 9 1234 5678 9999 1']) expect(refusal(() => input.optionalPhone(bad)).field).toBe('phone');
  });
});

describe('intInRange', () => {
  it('accepts whole numbers in range and refuses the rest', () => {
    expect(input.intInRange(1, 'n', 1, 3)).toBe(1);
    expect(input.intInRange(3, 'n', 1, 3)).toBe(3);
    for (const bad of [0, 4, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2', null]) {
      expect(refusal(() => input.intInRange(bad, 'n', 1, 3))).toMatchObject({ field: 'n', message: 'n must be a whole number from 1 to 3' });
    }
  });
});

describe('ids', () => {
  it('accepts UUIDs in any case, returns them lower-cased, and refuses anything else', () => {
    expect(input.id('0F8FAD5B-D9CB-469F-A165-70867728950E', 'id')).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
    for (const bad of ['', '42', 'not-a-uuid', '0f8fad5b-d9cb-469f-a165-70867728950', "' OR 1=1 --", 42, null]) {
      expect(refusal(() => input.id(bad, 'companyId'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'companyId' });
      expect(input.isId(bad)).toBe(false);
    }
    expect(input.isId('0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(true);
  });
});

describe('calendar helpers', () => {
  it('todayUtc takes the UTC date, not the local one', () => {
    expect(input.todayUtc(new Date('2026-06-15T23:59:59-04:00'))).toBe('2026-06-16');
    expect(input.todayUtc(new Date('2026-06-15T00:00:00Z'))).toBe('2026-06-15');
  });

  it('addDays crosses months, years and leap days', () => {
    expect(input.addDays('2026-01-31', 1)).toBe('2026-02-01');
    expect(input.addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(input.addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(input.addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(input.addDays('2026-06-15', 30)).toBe('2026-07-15');
    expect(input.addDays('2026-06-15', 0)).toBe('2026-06-15');
  });
});
