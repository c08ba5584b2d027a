import { BadUserInputError, NotFoundError } from '../../../platform/errors.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { CiamEvent } from '../../../schema/events/ciam.ts';
import { normalizeRut } from '../../../platform/domain/rut.ts';
import { evolveLock, unlocked, type LockState } from './login.ts';

/**
 * The WorkerAccount aggregate (stream `worker-account-<profileId>`): CIAM's record that a
 * Workforce profile may log in by RUT, for one company. CIAM cannot read Workforce's
 * database: the profile's RUT and company are checked against Workforce when the login is
 * enabled (workerLoginTerms) and recorded in the event.
 */

export interface WorkerAccountState {
  profileId: string | null;
  rut: string | null;
  companyId: string | null;
  lock: LockState;
}

export const workerAccountStream = (profileId: string) => `worker-account-${profileId}`;

export const workerAccount = {
  initialState: (): WorkerAccountState => ({ profileId: null, rut: null, companyId: null, lock: unlocked() }),

  evolve(state: WorkerAccountState, event: RecordedEvent<CiamEvent>): WorkerAccountState {
    const e = event as unknown as CiamEvent;
    if (e.type === 'WorkerLoginEnabled') return { ...state, profileId: e.data.profileId, rut: e.data.rut, companyId: e.data.companyId };
    return { ...state, lock: evolveLock(state.lock, e) };
  },
};

export const decideWorkerAccount = {
  /** Enables (or moves to another company) a worker's login; nothing when it is already so. */
  enable(state: WorkerAccountState, cmd: { profileId: string; rut: unknown; companyId: string }): CiamEvent[] {
    const rut = normalizeRut(cmd.rut);
    if (state.rut === rut && state.companyId === cmd.companyId) return [];
    return [{ type: 'WorkerLoginEnabled', data: { profileId: cmd.profileId, rut, companyId: cmd.companyId } }];
  },

  requireEnabled(state: WorkerAccountState, profileId: string): void {
    if (state.profileId === null) throw new NotFoundError('WorkerAccount', profileId);
  },
};

/**
 * The RUT a worker login is enabled with, given the profile as Workforce shows it to the
 * caller (null: absent or not theirs to see, answered alike): the profile's own RUT (a
 * RUT the caller gives must be it), for a company the profile works for now.
 */
export function workerLoginTerms(
  profile: { rut: string; activeCompanyIds: string[] } | null,
  cmd: { profileId: string; companyId: string; rut: string | null },
): string {
  if (!profile) throw new NotFoundError('Profile', cmd.profileId);
  const rut = normalizeRut(profile.rut);
  if (cmd.rut !== null && normalizeRut(cmd.rut) !== rut) throw new BadUserInputError(`rut is not the RUT of profile ${cmd.profileId}`, 'rut');
  if (!profile.activeCompanyIds.includes(cmd.companyId)) {
    throw new BadUserInputError(`Profile ${cmd.profileId} does not work for company ${cmd.companyId} now`, 'companyId');
  }
  return rut;
}
