import { BadUserInputError, ConflictError, NotFoundError, UnauthenticatedError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { CiamEvent } from '../../../schema/events/ciam.ts';
import { evolveLock, unlocked, type LockState } from './login.ts';

/** The InternalUser aggregate (stream `internal-user-<id>`): an Angelis admin or a company manager. */

export type InternalRole = 'ADMIN' | 'MANAGER';

export interface InternalUserState {
  id: string | null;
  email: string | null;
  role: InternalRole | null;
  companyId: string | null;
  status: 'INVITED' | 'ACTIVE' | null;
  passwordHash: string | null;
  inviteTokenHash: string | null;
  inviteExpiresAt: string | null;
  lock: LockState;
}

export const internalUserStream = (userId: string) => `internal-user-${userId}`;

export const internalUser = {
  initialState: (): InternalUserState => ({
    id: null, email: null, role: null, companyId: null, status: null, passwordHash: null, inviteTokenHash: null, inviteExpiresAt: null,
    lock: unlocked(),
  }),

  evolve(state: InternalUserState, event: RecordedEvent<CiamEvent>): InternalUserState {
    const e = event as unknown as CiamEvent;
    switch (e.type) {
      case 'UserInvited':
        return {
          ...state, id: e.data.userId, email: e.data.email, role: e.data.role, companyId: e.data.companyId, status: 'INVITED',
          inviteTokenHash: e.data.inviteTokenHash, inviteExpiresAt: e.data.inviteExpiresAt,
        };
      case 'PasswordSet':
        return { ...state, status: 'ACTIVE', passwordHash: e.data.passwordHash, inviteTokenHash: null, inviteExpiresAt: null };
      case 'RoleChanged':
        return { ...state, role: e.data.toRole, companyId: e.data.toCompanyId };
      default:
        return { ...state, lock: evolveLock(state.lock, e) };
    }
  },
};

const ROLES = new Set<InternalRole>(['ADMIN', 'MANAGER']);

/** A role and company that fit together: ADMIN has none, MANAGER exactly one. */
export function roleAndCompany(role: unknown, companyId: unknown): { role: InternalRole; companyId: string | null } {
  if (!ROLES.has(role as InternalRole)) throw new BadUserInputError('role must be ADMIN or MANAGER', 'role');
  if (role === 'ADMIN') {
    if (companyId != null) throw new BadUserInputError('An ADMIN belongs to no company; leave companyId out', 'companyId');
    return { role, companyId: null };
  }
  if (companyId == null) throw new BadUserInputError('A MANAGER needs a companyId', 'companyId');
  return { role: role as InternalRole, companyId: input.id(companyId, 'companyId') };
}

/** Password rules, checked before hashing. */
export function checkPassword(password: unknown): string {
  if (typeof password !== 'string') throw new BadUserInputError('password must be text', 'password');
  if (password.length < 10) throw new BadUserInputError('password must be at least 10 characters', 'password');
  if (password.length > 200) throw new BadUserInputError('password must be at most 200 characters', 'password');
  if (password.trim().length === 0 || new Set(password).size < 4) {
    throw new BadUserInputError('password is too simple: use at least 4 different characters', 'password');
  }
  return password;
}

/** Decisions on the InternalUser aggregate. Pure: hashes and clocks come in as arguments. */
export const decideInternalUser = {
  invite(
    state: InternalUserState,
    cmd: { userId: string; email: unknown; name: unknown; role: unknown; companyId?: unknown; inviteTokenHash: string; inviteExpiresAt: string },
  ): CiamEvent[] {
    if (state.id !== null) throw new ConflictError(`InternalUser ${cmd.userId} already exists`);
    const email = input.optionalEmail(cmd.email);
    if (email === null) throw new BadUserInputError('email is required', 'email');
    const { role, companyId } = roleAndCompany(cmd.role, cmd.companyId);
    return [
      {
        type: 'UserInvited',
        data: {
          userId: cmd.userId, email, name: input.text(cmd.name, 'name', 200), role, companyId,
          inviteTokenHash: cmd.inviteTokenHash, inviteExpiresAt: cmd.inviteExpiresAt,
        },
      },
    ];
  },

  /** Accepts the invite: the token must match, be unexpired and unused. */
  setPassword(state: InternalUserState, cmd: { tokenHash: string; passwordHash: string; now: Date }): CiamEvent[] {
    if (state.status === 'ACTIVE') throw new UnauthenticatedError('This invite was already used; log in or ask for a new one');
    if (state.status !== 'INVITED' || state.inviteTokenHash !== cmd.tokenHash) throw new UnauthenticatedError('The invite token is not valid');
    if (Date.parse(state.inviteExpiresAt!) <= cmd.now.getTime()) throw new UnauthenticatedError('The invite has expired; ask for a new one');
    return [{ type: 'PasswordSet', data: { userId: state.id!, passwordHash: cmd.passwordHash } }];
  },

  changeRole(state: InternalUserState, cmd: { userId: string; role: unknown; companyId?: unknown }): CiamEvent[] {
    if (state.id === null) throw new NotFoundError('InternalUser', cmd.userId);
    const { role, companyId } = roleAndCompany(cmd.role, cmd.companyId);
    if (role === state.role && companyId === state.companyId) return [];
    return [{ type: 'RoleChanged', data: { userId: state.id, fromRole: state.role!, toRole: role, fromCompanyId: state.companyId, toCompanyId: companyId } }];
  },
};
