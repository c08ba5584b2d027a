import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../errors.ts';
import { deciderSpec } from './decider.ts';

type Counted = { type: 'Counted'; data: { n: number } };
const counter = { initialState: () => 0, evolve: (n: number) => n + 1 };
const count = (limit: number) => (n: number): Counted[] => {
  if (n >= limit) throw new BadUserInputError(`at most ${limit}`, 'n');
  return [{ type: 'Counted', data: { n: n + 1 } }];
};

describe('decider specifications', () => {
  const spec = deciderSpec<number, Counted>(counter);

  it('folds the history, runs the decision, compares the events', () => {
    spec.given({ type: 'Counted', data: { n: 1 } }).when(count(5)).then([{ type: 'Counted', data: { n: 2 } }]);
    expect(spec.given().when(count(5)).thenState()).toBe(1);
  });

  it('fails when the decision decides something else, refuses otherwise, or does not refuse', () => {
    expect(() => spec.given().when(count(5)).then([{ type: 'Counted', data: { n: 9 } }])).toThrow();
    expect(() => spec.given().when(count(0)).then([])).toThrow(/at most 0/);
    expect(spec.given().when(count(0)).thenRefuses('BAD_USER_INPUT', 'n').message).toBe('at most 0');
    expect(() => spec.given().when(count(0)).thenRefuses('CONFLICT')).toThrow();
    expect(() => spec.given().when(count(5)).thenRefuses('BAD_USER_INPUT')).toThrow(/expected a refusal/);
  });
});
