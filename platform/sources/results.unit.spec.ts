import { describe, expect, it } from 'vitest';
import { resultFilter, MAX_RANGE_DAYS } from './results.ts';
import { sourceInstant } from './rows.ts';
import { sampleResults } from './sample.ts';

describe('results filter', () => {
  it('turns the inclusive range into [from, day after to), with the page', () => {
    expect(resultFilter({ from: '2026-01-01', to: '2026-01-31', result: 'PENDING', first: 5 })).toEqual({
      from: '2026-01-01',
      toExclusive: '2026-02-01',
      result: 'PENDING',
      page: { limit: 5, afterPosition: 0 },
    });
    expect(resultFilter({})).toEqual({ from: null, toExclusive: null, result: null, page: { limit: 20, afterPosition: 0 } });
  });

  it('refuses a reversed range, one wider than the limit, a malformed date and an unknown result, naming the argument', () => {
    const refused = (args: Parameters<typeof resultFilter>[0]) => {
      try {
        resultFilter(args);
      } catch (err) {
        return [(err as { extensions: { code: string; field: string } }).extensions.code, (err as { extensions: { field: string } }).extensions.field];
      }
      return null;
    };
    expect(refused({ from: '2026-02-01', to: '2026-01-31' })).toEqual(['BAD_USER_INPUT', 'to']);
    expect(refused({ from: '2025-01-01', to: '2026-01-02' })).toEqual(['BAD_USER_INPUT', 'to']);
    expect(refused({ from: '2025-01-01', to: '2026-01-01' })).toBeNull(); // 366 days counted inclusively: the widest allowed
    expect(MAX_RANGE_DAYS).toBe(366);
    expect(refused({ from: '2026-13-01' })).toEqual(['BAD_USER_INPUT', 'from']);
    expect(refused({ to: "x' OR 1=1" })).toEqual(['BAD_USER_INPUT', 'to']);
    expect(refused({ result: 'APROBADO' })).toEqual(['BAD_USER_INPUT', 'result']);
    expect(refused({ first: 0 })).toEqual(['BAD_USER_INPUT', 'first']);
  });
});

describe('source instants', () => {
  it('reads driver dates and UTC text, refusing impossible dates', () => {
    expect(sourceInstant('2026-11-04 11:00:00')?.toISOString()).toBe('2026-11-04T11:00:00.000Z');
    expect(sourceInstant('2026-11-04')?.toISOString()).toBe('2026-11-04T00:00:00.000Z');
    expect(sourceInstant('2026-11-04T11:00:00.123Z')?.toISOString()).toBe('2026-11-04T11:00:00.123Z');
    expect(sourceInstant('2026-02-30')).toBeNull();
    expect(sourceInstant('0000-00-00 00:00:00')).toBeNull();
    expect(sourceInstant(null)).toBeNull();
    expect(sourceInstant(new Date('x'))).toBeNull();
  });
});

describe('sample results', () => {
  it('are deterministic per provider, person and faena, and only for the people and faenas given', () => {
    const people = [{ rut: '12345678-5', faenaCodes: ['F101', 'F102'] }, { rut: '11111111-1', faenaCodes: ['F201'] }];
    const a = sampleResults('FIT2000', people, '2026-12-01');
    expect(sampleResults('FIT2000', people, '2026-12-01')).toEqual(a);
    expect(sampleResults('SAFERAPP', people, '2026-12-01')).not.toEqual(a);
    expect(new Set(a.map((r) => `${r.rut}/${r.faenaCode}`))).toEqual(new Set(['12345678-5/F101', '12345678-5/F102', '11111111-1/F201']));
    expect(a.map((r) => r.position)).toEqual(a.map((_, i) => i + 1));
    for (const r of a) expect(r.takenAt.toISOString() <= '2026-12-01T23:59:59Z' && r.takenAt.toISOString() >= '2026-05-15').toBe(true);
  });
});
