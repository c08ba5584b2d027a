import { BadUserInputError, ConflictError, NotFoundError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';
import { normalizeRut } from './rut.ts';

/** The Profile aggregate (stream `profile-<id>`): a worker's personal data and licences. */

interface LicenseState {
  issuedOn: string;
  expiresOn: string;
  revoked: boolean;
}

export interface ProfileState {
  id: string | null;
  firstName: string;
  lastName: string;
  email: string | null;
  phone: string | null;
  birthDate: string | null;
  licenses: ReadonlyMap<string, LicenseState>;
}

export const profileStream = (profileId: string) => `profile-${profileId}`;

export const profile = {
  initialState: (): ProfileState => ({ id: null, firstName: '', lastName: '', email: null, phone: null, birthDate: null, licenses: new Map() }),

  evolve(state: ProfileState, event: RecordedEvent<WorkforceEvent>): ProfileState {
    const e = event as unknown as WorkforceEvent;
    switch (e.type) {
      case 'ProfileCreated':
      case 'ProfileUpdated': {
        const { firstName, lastName, email, phone, birthDate } = e.data;
        return { ...state, id: e.data.profileId, firstName, lastName, email, phone, birthDate };
      }
      case 'LicenseGranted': {
        const licenses = new Map(state.licenses);
        licenses.set(e.data.licenseId, { issuedOn: e.data.issuedOn, expiresOn: e.data.expiresOn, revoked: false });
        return { ...state, licenses };
      }
      case 'LicenseRenewed':
      case 'LicenseRevoked': {
        const licenses = new Map(state.licenses);
        const l = licenses.get(e.data.licenseId);
        if (l) licenses.set(e.data.licenseId, e.type === 'LicenseRenewed' ? { ...l, expiresOn: e.data.expiresOn } : { ...l, revoked: true });
        return { ...state, licenses };
      }
      default:
        return state;
    }
  },
};

export interface PersonalData {
  firstName?: unknown;
  lastName?: unknown;
  email?: unknown;
  phone?: unknown;
  birthDate?: unknown;
}

function birthDate(value: unknown, today: string): string | null {
  const d = input.optionalDate(value, 'birthDate');
  if (d !== null && d > today) throw new BadUserInputError('birthDate must not be in the future', 'birthDate');
  return d;
}

function requireProfile(state: ProfileState, profileId: string): void {
  if (state.id === null) throw new NotFoundError('Profile', profileId);
}

function requireLicense(state: ProfileState, profileId: string, licenseId: string): LicenseState {
  requireProfile(state, profileId);
  const l = state.licenses.get(licenseId);
  if (!l) throw new NotFoundError('License', licenseId);
  if (l.revoked) throw new ConflictError(`License ${licenseId} is revoked`);
  return l;
}

/** Decisions on the Profile aggregate. Pure. */
export const decideProfile = {
  create(state: ProfileState, cmd: PersonalData & { profileId: string; rut: unknown; createdBy: string; today: string }): WorkforceEvent[] {
    if (state.id !== null) throw new ConflictError(`Profile ${cmd.profileId} already exists`);
    return [
      {
        type: 'ProfileCreated',
        data: {
          profileId: cmd.profileId,
          rut: normalizeRut(cmd.rut),
          firstName: input.text(cmd.firstName, 'firstName', 100),
          lastName: input.text(cmd.lastName, 'lastName', 100),
          email: input.optionalEmail(cmd.email),
          phone: input.optionalPhone(cmd.phone),
          birthDate: birthDate(cmd.birthDate, cmd.today),
          createdBy: cmd.createdBy,
        },
      },
    ];
  },

  /** Fields left undefined keep their value; null clears an optional one. */
  update(state: ProfileState, cmd: PersonalData & { profileId: string; today: string }): WorkforceEvent[] {
    requireProfile(state, cmd.profileId);
    const next = {
      firstName: cmd.firstName === undefined ? state.firstName : input.text(cmd.firstName, 'firstName', 100),
      lastName: cmd.lastName === undefined ? state.lastName : input.text(cmd.lastName, 'lastName', 100),
      email: cmd.email === undefined ? state.email : input.optionalEmail(cmd.email),
      phone: cmd.phone === undefined ? state.phone : input.optionalPhone(cmd.phone),
      birthDate: cmd.birthDate === undefined ? state.birthDate : birthDate(cmd.birthDate, cmd.today),
    };
    const same = (Object.keys(next) as (keyof typeof next)[]).every((k) => next[k] === state[k]);
    if (same) return [];
    return [{ type: 'ProfileUpdated', data: { profileId: cmd.profileId, ...next } }];
  },

  grantLicense(
    state: ProfileState,
    cmd: { profileId: string; licenseId: string; type: unknown; number: unknown; issuedOn?: unknown; expiresOn: unknown; today: string },
  ): WorkforceEvent[] {
    requireProfile(state, cmd.profileId);
    const issuedOn = cmd.issuedOn === undefined || cmd.issuedOn === null ? cmd.today : input.isoDate(cmd.issuedOn, 'issuedOn');
    const expiresOn = input.isoDate(cmd.expiresOn, 'expiresOn');
    if (expiresOn <= issuedOn) throw new BadUserInputError(`expiresOn (${expiresOn}) must be after issuedOn (${issuedOn})`, 'expiresOn');
    return [
      {
        type: 'LicenseGranted',
        data: {
          licenseId: cmd.licenseId, profileId: cmd.profileId, type: input.text(cmd.type, 'type', 80),
          number: input.text(cmd.number, 'number', 80), issuedOn, expiresOn,
        },
        subjects: [cmd.licenseId],
      },
    ];
  },

  renewLicense(state: ProfileState, cmd: { profileId: string; licenseId: string; expiresOn: unknown }): WorkforceEvent[] {
    const l = requireLicense(state, cmd.profileId, cmd.licenseId);
    const expiresOn = input.isoDate(cmd.expiresOn, 'expiresOn');
    if (expiresOn <= l.expiresOn) {
      throw new BadUserInputError(`A renewal must move expiresOn later than ${l.expiresOn}`, 'expiresOn');
    }
    return [{ type: 'LicenseRenewed', data: { licenseId: cmd.licenseId, profileId: cmd.profileId, expiresOn }, subjects: [cmd.licenseId] }];
  },

  revokeLicense(state: ProfileState, cmd: { profileId: string; licenseId: string; reason: unknown; today: string }): WorkforceEvent[] {
    requireLicense(state, cmd.profileId, cmd.licenseId);
    return [
      {
        type: 'LicenseRevoked',
        data: { licenseId: cmd.licenseId, profileId: cmd.profileId, revokedOn: cmd.today, reason: input.optionalText(cmd.reason, 'reason', 500) },
        subjects: [cmd.licenseId],
      },
    ];
  },
};
