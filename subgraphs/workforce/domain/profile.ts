import { BadUserInputError, ConflictError, NotFoundError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';
import { normalizeRut } from '../../../platform/domain/rut.ts';

/**
 * The Profile aggregate (stream `profile-<id>`): a worker's identity (RUT, name), the
 * personal data recorded about them, and their licences. Identity is shared by every
 * company that employs them; personal data (email, phone, birth date) is recorded per
 * company: the company is the event's `metadata.companyId`, none for an ADMIN's change
 * (schema/subgraphs/workforce.policy.ts).
 */

interface LicenseState {
  issuedOn: string;
  expiresOn: string;
  revoked: boolean;
}

/** A profile's personal data as one party recorded it. */
export interface PersonalValues {
  email: string | null;
  phone: string | null;
  birthDate: string | null;
}

const PERSONAL_KEYS = ['email', 'phone', 'birthDate'] as const;
const NOTHING_RECORDED: PersonalValues = { email: null, phone: null, birthDate: null };

export interface ProfileState {
  id: string | null;
  firstName: string;
  lastName: string;
  /** Each field as most recently recorded by anyone (a company or an ADMIN): what ADMINs and the person see. */
  latest: PersonalValues;
  /** What each company recorded, by company id. */
  recordedBy: ReadonlyMap<string, PersonalValues>;
  licenses: ReadonlyMap<string, LicenseState>;
}

export const profileStream = (profileId: string) => `profile-${profileId}`;

/**
 * The personal data a change starts from: the company's own record, or for a change under
 * no company (an ADMIN's) the latest values. What a change leaves out keeps these.
 */
export function personalBase(state: ProfileState, companyId: string | null): PersonalValues {
  return companyId === null ? state.latest : (state.recordedBy.get(companyId) ?? NOTHING_RECORDED);
}

/**
 * Records `values` for the company (or none): the company's record becomes them, and each
 * field that changed against what that party had recorded becomes the latest. A change
 * under no company is the latest as a whole. The projection does the same in SQL.
 */
function record(state: ProfileState, companyId: string | null, values: PersonalValues): Pick<ProfileState, 'latest' | 'recordedBy'> {
  if (companyId === null) return { latest: values, recordedBy: state.recordedBy };
  const before = personalBase(state, companyId);
  const latest = { ...state.latest };
  for (const k of PERSONAL_KEYS) if (values[k] !== before[k]) latest[k] = values[k];
  const recordedBy = new Map(state.recordedBy);
  recordedBy.set(companyId, values);
  return { latest, recordedBy };
}

export const profile = {
  initialState: (): ProfileState => ({
    id: null, firstName: '', lastName: '', latest: NOTHING_RECORDED, recordedBy: new Map(), licenses: new Map(),
  }),

  evolve(state: ProfileState, event: RecordedEvent<WorkforceEvent>): ProfileState {
    const e = event as unknown as WorkforceEvent;
    switch (e.type) {
      case 'ProfileCreated':
      case 'ProfileUpdated': {
        const { firstName, lastName, email, phone, birthDate } = e.data;
        const recorded = record(state, event.metadata?.companyId ?? null, { email, phone, birthDate });
        return { ...state, id: e.data.profileId, firstName, lastName, ...recorded };
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

  /**
   * Fields left undefined keep their value; null clears an optional one. The name is the
   * profile's; the personal data is `companyId`'s own record (none: an ADMIN's change, from
   * the latest values), so the event never carries what another company recorded.
   */
  update(state: ProfileState, cmd: PersonalData & { profileId: string; companyId: string | null; today: string }): WorkforceEvent[] {
    requireProfile(state, cmd.profileId);
    const base = personalBase(state, cmd.companyId);
    const name = {
      firstName: cmd.firstName === undefined ? state.firstName : input.text(cmd.firstName, 'firstName', 100),
      lastName: cmd.lastName === undefined ? state.lastName : input.text(cmd.lastName, 'lastName', 100),
    };
    const personal: PersonalValues = {
      email: cmd.email === undefined ? base.email : input.optionalEmail(cmd.email),
      phone: cmd.phone === undefined ? base.phone : input.optionalPhone(cmd.phone),
      birthDate: cmd.birthDate === undefined ? base.birthDate : birthDate(cmd.birthDate, cmd.today),
    };
    const same = name.firstName === state.firstName && name.lastName === state.lastName && PERSONAL_KEYS.every((k) => personal[k] === base[k]);
    if (same) return [];
    return [{ type: 'ProfileUpdated', data: { profileId: cmd.profileId, ...name, ...personal } }];
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
