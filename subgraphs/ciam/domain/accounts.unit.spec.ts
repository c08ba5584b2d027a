import { describe, it } from 'vitest';
import { deciderSpec } from '../../../platform/testing/decider.ts';
import type { CiamEvent } from '../../../schema/events/ciam.ts';
import { decideInternalUser, internalUser } from './internal-user.ts';
import { decideWorkerAccount, workerAccount } from './worker-account.ts';

/** CIAM's account decisions as given/when/then specifications: no database, no clock but the one given. */
const U = '00000000-0000-4000-8000-0000000000a1';
const C = '00000000-0000-4000-8000-0000000000c1';
const P = '00000000-0000-4000-8000-0000000000b1';
const invited: CiamEvent = {
  type: 'UserInvited',
  data: { userId: U, email: 'ana@example.cl', name: 'Ana', role: 'MANAGER', companyId: C, inviteTokenHash: 'h', inviteExpiresAt: '2026-07-01T00:00:00.000Z' },
};
const now = new Date('2026-06-15T00:00:00Z');

describe('internal user (given/when/then)', () => {
  const spec = deciderSpec(internalUser);

  it('invites once, with a normalised email; a second invite of the same id conflicts', () => {
    spec
      .given()
      .when((s) => decideInternalUser.invite(s, { userId: U, email: ' Ana@Example.CL ', name: 'Ana', role: 'MANAGER', companyId: C, inviteTokenHash: 'h', inviteExpiresAt: '2026-07-01T00:00:00.000Z' }))
      .then([invited]);
    spec.given(invited).when((s) => decideInternalUser.invite(s, { userId: U, email: 'b@example.cl', name: 'B', role: 'ADMIN', inviteTokenHash: 'h', inviteExpiresAt: 'x' })).thenRefuses('CONFLICT');
  });

  it('an ADMIN has no company and a MANAGER needs one', () => {
    const invite = (role: string, companyId: string | null) => (s: ReturnType<typeof internalUser.initialState>) =>
      decideInternalUser.invite(s, { userId: U, email: 'a@b.cl', name: 'A', role, companyId, inviteTokenHash: 'h', inviteExpiresAt: 'x' });
    spec.given().when(invite('ADMIN', C)).thenRefuses('BAD_USER_INPUT', 'companyId');
    spec.given().when(invite('MANAGER', null)).thenRefuses('BAD_USER_INPUT', 'companyId');
    spec.given().when(invite('WORKER', C)).thenRefuses('BAD_USER_INPUT', 'role');
  });

  it('sets the password with the right, unexpired, unused invite only', () => {
    spec.given(invited).when((s) => decideInternalUser.setPassword(s, { tokenHash: 'h', passwordHash: 'argon', now })).then([{ type: 'PasswordSet', data: { userId: U, passwordHash: 'argon' } }]);
    spec.given(invited).when((s) => decideInternalUser.setPassword(s, { tokenHash: 'other', passwordHash: 'argon', now })).thenRefuses('UNAUTHENTICATED');
    spec.given(invited).when((s) => decideInternalUser.setPassword(s, { tokenHash: 'h', passwordHash: 'argon', now: new Date('2026-07-02T00:00:00Z') })).thenRefuses('UNAUTHENTICATED');
    spec.given(invited, { type: 'PasswordSet', data: { userId: U, passwordHash: 'argon' } }).when((s) => decideInternalUser.setPassword(s, { tokenHash: 'h', passwordHash: 'again', now })).thenRefuses('UNAUTHENTICATED');
  });

  it('changes a role only when it changes, and only for a user that exists', () => {
    spec.given(invited).when((s) => decideInternalUser.changeRole(s, { userId: U, role: 'MANAGER', companyId: C })).then([]);
    spec.given(invited).when((s) => decideInternalUser.changeRole(s, { userId: U, role: 'ADMIN', companyId: null })).then([
      { type: 'RoleChanged', data: { userId: U, fromRole: 'MANAGER', toRole: 'ADMIN', fromCompanyId: C, toCompanyId: null } },
    ]);
    spec.given().when((s) => decideInternalUser.changeRole(s, { userId: U, role: 'ADMIN' })).thenRefuses('NOT_FOUND');
  });
});

describe('worker account (given/when/then)', () => {
  const spec = deciderSpec(workerAccount);
  const enabled: CiamEvent = { type: 'WorkerLoginEnabled', data: { profileId: P, rut: '12345678-5', companyId: C } };

  it('enables a login with the RUT normalised, once; a different company moves it', () => {
    spec.given().when((s) => decideWorkerAccount.enable(s, { profileId: P, rut: '12.345.678-5', companyId: C })).then([enabled]);
    spec.given(enabled).when((s) => decideWorkerAccount.enable(s, { profileId: P, rut: '123456785', companyId: C })).then([]);
    const other = '00000000-0000-4000-8000-0000000000c2';
    spec.given(enabled).when((s) => decideWorkerAccount.enable(s, { profileId: P, rut: '12345678-5', companyId: other })).then([
      { type: 'WorkerLoginEnabled', data: { profileId: P, rut: '12345678-5', companyId: other } },
    ]);
    spec.given().when((s) => decideWorkerAccount.enable(s, { profileId: P, rut: '12.345.678-4', companyId: C })).thenRefuses('BAD_USER_INPUT');
  });
});
