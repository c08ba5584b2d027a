import { describe, expect, it } from 'vitest';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';
import { andThen, given, recorded, refusal } from '../../../platform/testing/decider.ts';
import { decideProfile, profile, type ProfileState } from './profile.ts';

const TODAY = '2026-06-15';
const W = '00000000-0000-4000-8000-0000000000e1';
const L = '00000000-0000-4000-8000-0000000000d1';

const created: WorkforceEvent = {
  type: 'ProfileCreated',
  data: { profileId: W, rut: '12345678-5', firstName: 'Ana', lastName: 'Pérez', email: 'ana@example.cl', phone: '+56 9 1234 5678', birthDate: '1990-04-01', createdBy: 'u1' },
};
const granted: WorkforceEvent = {
  type: 'LicenseGranted', data: { licenseId: L, profileId: W, type: 'Driving B', number: 'B-1', issuedOn: '2026-01-01', expiresOn: '2026-12-31' },
};
const revoked: WorkforceEvent = { type: 'LicenseRevoked', data: { licenseId: L, profileId: W, revokedOn: TODAY, reason: null } };

const update = (state: ProfileState, changes: Record<string, unknown>) => decideProfile.update(state, { profileId: W, companyId: null, today: TODAY, ...changes });

describe('Profile: creation', () => {
  const create = (cmd: Record<string, unknown>) =>
    decideProfile.create(profile.initialState(), { profileId: W, rut: '12.345.678-5', firstName: 'Ana', lastName: 'Pérez', createdBy: 'u1', today: TODAY, ...cmd });

  it('normalises the RUT and the email, and records who created it', () => {
    expect(create({ email: ' Ana@Example.CL ' })[0]).toEqual({
      type: 'ProfileCreated',
      data: { profileId: W, rut: '12345678-5', firstName: 'Ana', lastName: 'Pérez', email: 'ana@example.cl', phone: null, birthDate: null, createdBy: 'u1' },
    });
  });

  it('refuses a bad RUT, email, phone or name', () => {
    expect(refusal(() => create({ rut: '12.345.678-0' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rut' });
    expect(refusal(() => create({ email: 'not-an-email' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    expect(refusal(() => create({ phone: 'call me' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phone' });
    expect(refusal(() => create({ firstName: '' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'firstName' });
    expect(refusal(() => create({ lastName: 'x'.repeat(101) }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lastName' });
  });

  it('refuses a birth date in the future, accepts today', () => {
    expect(refusal(() => create({ birthDate: '2026-06-16' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'birthDate' });
    expect(create({ birthDate: TODAY })[0]).toMatchObject({ data: { birthDate: TODAY } });
  });
});

describe('Profile: update', () => {
  const state = given(profile, created);

  it('keeps fields left out and carries the full new values', () => {
    expect(update(state, { lastName: 'Pérez Soto' })).toEqual([
      {
        type: 'ProfileUpdated',
        data: { profileId: W, firstName: 'Ana', lastName: 'Pérez Soto', email: 'ana@example.cl', phone: '+56 9 1234 5678', birthDate: '1990-04-01' },
      },
    ]);
  });

  it('clears optional fields given as null', () => {
    expect(update(state, { email: null, phone: null, birthDate: null })[0]).toMatchObject({
      data: { firstName: 'Ana', email: null, phone: null, birthDate: null },
    });
  });

  it('refuses to clear a required name', () => {
    expect(refusal(() => update(state, { firstName: null }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'firstName' });
    expect(refusal(() => update(state, { lastName: '  ' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lastName' });
  });

  it('decides nothing when nothing changes, including values that normalise to the current ones', () => {
    expect(update(state, {})).toEqual([]);
    expect(update(state, { firstName: ' Ana ', email: 'ANA@example.cl', birthDate: '1990-04-01' })).toEqual([]);
  });

  it('applies an update through evolve', () => {
    const next = andThen(profile, state, update(state, { email: null, firstName: 'Ana María' }));
    expect(next).toMatchObject({ firstName: 'Ana María', lastName: 'Pérez', latest: { email: null, phone: '+56 9 1234 5678' } });
  });

  it('refuses a birth date in the future and an unknown profile', () => {
    expect(refusal(() => update(state, { birthDate: '2030-01-01' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'birthDate' });
    expect(refusal(() => update(profile.initialState(), { firstName: 'X' })).code).toBe('NOT_FOUND');
  });
});

describe('Profile: licences', () => {
  const state = given(profile, created, granted);
  const grant = (s: ProfileState, cmd: Record<string, unknown>) =>
    decideProfile.grantLicense(s, { profileId: W, licenseId: 'L2', type: 'Crane', number: 'C-9', expiresOn: '2027-01-01', today: TODAY, ...cmd });
  const renew = (s: ProfileState, expiresOn: unknown) => decideProfile.renewLicense(s, { profileId: W, licenseId: L, expiresOn });
  const revoke = (s: ProfileState, licenseId = L) => decideProfile.revokeLicense(s, { profileId: W, licenseId, reason: 'fraud', today: TODAY });

  it('grants from today unless told, and refuses an expiry on or before the issue date', () => {
    expect(grant(state, {})[0]).toMatchObject({ data: { issuedOn: TODAY, expiresOn: '2027-01-01' } });
    expect(refusal(() => grant(state, { issuedOn: '2027-01-01' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresOn' });
    expect(refusal(() => grant(state, { expiresOn: '2026-06-14' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresOn' });
    expect(refusal(() => grant(profile.initialState(), {})).code).toBe('NOT_FOUND');
  });

  it('renews only to a later expiry', () => {
    expect(renew(state, '2027-12-31')).toEqual([
      { type: 'LicenseRenewed', data: { licenseId: L, profileId: W, expiresOn: '2027-12-31' }, subjects: [L] },
    ]);
    expect(refusal(() => renew(state, '2026-12-31'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresOn' });
    expect(refusal(() => renew(state, '2026-07-01'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresOn' });
    const renewed = andThen(profile, state, renew(state, '2027-12-31'));
    expect(renewed.licenses.get(L)?.expiresOn).toBe('2027-12-31');
    expect(refusal(() => renew(renewed, '2027-06-30')).code).toBe('BAD_USER_INPUT');
  });

  it('revokes once; a second revoke, or renewing a revoked licence, is a CONFLICT', () => {
    expect(revoke(state)).toEqual([
      { type: 'LicenseRevoked', data: { licenseId: L, profileId: W, revokedOn: TODAY, reason: 'fraud' }, subjects: [L] },
    ]);
    const gone = andThen(profile, state, [revoked]);
    expect(refusal(() => revoke(gone)).code).toBe('CONFLICT');
    expect(refusal(() => renew(gone, '2030-01-01')).code).toBe('CONFLICT');
  });

  it('refuses an unknown licence', () => {
    expect(refusal(() => revoke(state, 'nope')).code).toBe('NOT_FOUND');
  });
});

describe('Profile: personal data per recording company', () => {
  const A = '00000000-0000-4000-8000-00000000000a';
  const B = '00000000-0000-4000-8000-00000000000b';
  /** Folds events as recorded under a company (metadata.companyId), as a MANAGER's commands are. */
  const under = (state: ProfileState, companyId: string | null, events: WorkforceEvent[]) =>
    recorded('unit', events).reduce((s, e) => profile.evolve(s, { ...e, metadata: { ...e.metadata, companyId } }), state);
  const byB = under(profile.initialState(), B, [created]);
  const asCompany = (s: ProfileState, companyId: string | null, changes: Record<string, unknown>) =>
    decideProfile.update(s, { profileId: W, companyId, today: TODAY, ...changes });

  it("a company's change starts from its own record, never another company's", () => {
    expect(asCompany(byB, A, { phone: '+56 9 0000 0001' })).toEqual([
      { type: 'ProfileUpdated', data: { profileId: W, firstName: 'Ana', lastName: 'Pérez', email: null, phone: '+56 9 0000 0001', birthDate: null } },
    ]);
    expect(asCompany(byB, B, { phone: '+56 9 0000 0002' })[0]).toMatchObject({ data: { email: 'ana@example.cl', birthDate: '1990-04-01' } });
  });

  it('decides nothing when a company repeats its own values, even if another company recorded others', () => {
    expect(asCompany(byB, A, { email: null })).toEqual([]);
    expect(asCompany(byB, B, { email: 'ana@example.cl' })).toEqual([]);
  });

  it('keeps each field as most recently recorded by anyone; an ADMIN starts from those', () => {
    const withA = under(byB, A, asCompany(byB, A, { phone: '+56 9 0000 0001' }));
    expect(withA.recordedBy.get(A)).toEqual({ email: null, phone: '+56 9 0000 0001', birthDate: null });
    expect(withA.recordedBy.get(B)).toEqual({ email: 'ana@example.cl', phone: '+56 9 1234 5678', birthDate: '1990-04-01' });
    // A changed the phone only: B's email and birth date are still the latest.
    expect(withA.latest).toEqual({ email: 'ana@example.cl', phone: '+56 9 0000 0001', birthDate: '1990-04-01' });
    // A name change by A records nothing personal: the latest stay.
    const renamed = under(withA, A, asCompany(withA, A, { firstName: 'Anita' }));
    expect(renamed).toMatchObject({ firstName: 'Anita', latest: withA.latest });
    const [adminChange] = asCompany(renamed, null, { birthDate: '1990-04-02' });
    expect(adminChange.data).toMatchObject({ email: 'ana@example.cl', phone: '+56 9 0000 0001', birthDate: '1990-04-02' });
    const afterAdmin = under(renamed, null, [adminChange]);
    expect(afterAdmin.latest).toEqual({ email: 'ana@example.cl', phone: '+56 9 0000 0001', birthDate: '1990-04-02' });
    expect(afterAdmin.recordedBy).toEqual(renamed.recordedBy);
  });
});
