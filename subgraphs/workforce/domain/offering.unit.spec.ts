import { describe, expect, it } from 'vitest';
import { given, refusal } from '../../../platform/testing/decider.ts';
import { decideOffering, offering } from './offering.ts';

const O = '00000000-0000-4000-8000-0000000000f0';
const create = (state = offering.initialState(), cmd: Record<string, unknown> = {}) =>
  decideOffering.create(state, { offeringId: O, code: 'safety-pro', name: 'Safety Pro', description: null, ...cmd });

describe('Offering', () => {
  it('upper-cases the code', () => {
    expect(create()).toEqual([{ type: 'OfferingCreated', data: { offeringId: O, code: 'SAFETY-PRO', name: 'Safety Pro', description: null } }]);
  });

  it('refuses a bad code, and creating twice', () => {
    expect(refusal(() => create(undefined, { code: 'safety pro' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    expect(refusal(() => create(given(offering, create()[0]))).code).toBe('CONFLICT');
  });
});
