import { describe, expect, it } from 'vitest';
import { refusal } from '../testing/decider.ts';
import { checkDigit, formatRut, normalizeRut } from './rut.ts';

// Check digits worked out by hand (mod 11, factors 2..7 from the right):
//   12345678: 8*2+7*3+6*4+5*5+4*6+3*7+2*2+1*3 = 138, 138 % 11 = 6, 11-6 = 5
//   10000013: 3*2+1*3+1*3 = 12, 12 % 11 = 1, 11-1 = 10 -> K
//   14: 4*2+1*3 = 11, 11 % 11 = 0, 11-0 = 11 -> 0

describe('RUT', () => {
  it('computes the mod-11 check digit, with K for 10 and 0 for 11', () => {
    expect(checkDigit('12345678')).toBe('5');
    expect(checkDigit('10000013')).toBe('K');
    expect(checkDigit('14')).toBe('0');
  });

  it.each([
    ['12.345.678-5', '12345678-5'],
    ['12345678-5', '12345678-5'],
    ['123456785', '12345678-5'],
    [' 12 345 678-5 ', '12345678-5'],
    ['10.000.013-K', '10000013-K'],
    ['10000013-k', '10000013-K'],
    ['10000013k', '10000013-K'],
    ['014-0', '14-0'],
  ])('normalises %j to %j', (raw, normalised) => {
    expect(normalizeRut(raw)).toBe(normalised);
  });

  it('refuses a wrong check digit and says which one was expected', () => {
    const e = refusal(() => normalizeRut('12.345.678-9'));
    expect(e).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rut' });
    expect(e.message).toMatch(/check digit.*expected 5/);
    expect(refusal(() => normalizeRut('10000013-0')).message).toMatch(/expected K/);
  });

  it.each(['', 'abc', '12.345.678-', '-5', '12.345.678-55', '12,345,678-5', '1234567890-1', 'K-K', '12345678-X', '1'.repeat(25)])(
    'refuses garbage %j as BAD_USER_INPUT',
    (raw) => {
      expect(refusal(() => normalizeRut(raw)).code).toBe('BAD_USER_INPUT');
    },
  );

  it('refuses a RUT whose number is zero, although 0-0 passes the check-digit arithmetic', () => {
    expect(checkDigit('0')).toBe('0');
    expect(refusal(() => normalizeRut('0-0')).code).toBe('BAD_USER_INPUT');
    expect(refusal(() => normalizeRut('00.000.000-0')).code).toBe('BAD_USER_INPUT');
  });

  it('refuses non-text and names the field it was given', () => {
    expect(refusal(() => normalizeRut(12345678, 'taxRut'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'taxRut' });
    expect(refusal(() => normalizeRut(null))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rut' });
  });

  it('formats a normalised RUT with thousands dots', () => {
    expect(formatRut('12345678-5')).toBe('12.345.678-5');
    expect(formatRut('10000013-K')).toBe('10.000.013-K');
    expect(formatRut('14-0')).toBe('14-0');
  });
});
