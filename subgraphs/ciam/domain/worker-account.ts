import { NotFoundError } from '../../../platform/errors.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { CiamEvent } from '../../../schema/events/ciam.ts';
import { normalizeRut } from '../../workforce/domain/rut.ts';
import { evolveLock, unlocked, type LockState } from './login.ts';

/**
 * The WorkerAccount aggregate (stream `worker-account-<profileId>`): CIAM's record that a
 * Workforce profile may log in by RUT, for one company. CIAM cannot read Workforce's
 * database, so the profile's RUT and company are given when the login is enabled.
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
