import { BadUserInputError, ConflictError, NotFoundError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';
import { normalizeRut } from '../../../platform/domain/rut.ts';

/**
 * The Company aggregate (stream `company-<id>`): the company, its subscriptions and its
 * employments. Seats and supervision are decided here because both are rules over the
 * whole company: hires against the sum of seats, supervisor chains without cycles.
 */

interface Subscription {
  seats: number;
  startsOn: string;
  endsOn: string | null;
  cancelled: boolean;
}
interface Employment {
  active: boolean;
  supervisorId: string | null;
  startedOn: string;
}

export interface CompanyState {
  id: string | null;
  status: 'ACTIVE' | null;
  subscriptions: ReadonlyMap<string, Subscription>;
  employments: ReadonlyMap<string, Employment>;
}

export const companyStream = (companyId: string) => `company-${companyId}`;

export const company = {
  initialState: (): CompanyState => ({ id: null, status: null, subscriptions: new Map(), employments: new Map() }),

  evolve(state: CompanyState, event: RecordedEvent<WorkforceEvent>): CompanyState {
    const e = event as unknown as WorkforceEvent;
    switch (e.type) {
      case 'CompanyRegistered':
        return { ...state, id: e.data.companyId, status: e.data.status };
      case 'SubscriptionStarted': {
        const subscriptions = new Map(state.subscriptions);
        subscriptions.set(e.data.subscriptionId, { seats: e.data.seats, startsOn: e.data.startsOn, endsOn: e.data.endsOn, cancelled: false });
        return { ...state, subscriptions };
      }
      case 'SubscriptionCancelled': {
        const subscriptions = new Map(state.subscriptions);
        const s = subscriptions.get(e.data.subscriptionId);
        if (s) subscriptions.set(e.data.subscriptionId, { ...s, cancelled: true });
        return { ...state, subscriptions };
      }
      case 'ProfileHired': {
        const employments = new Map(state.employments);
        employments.set(e.data.profileId, { active: true, supervisorId: null, startedOn: e.data.startedOn });
        return { ...state, employments };
      }
      case 'SupervisorSet': {
        const employments = new Map(state.employments);
        const current = employments.get(e.data.profileId);
        if (current) employments.set(e.data.profileId, { ...current, supervisorId: e.data.supervisorId });
        return { ...state, employments };
      }
      case 'EmploymentEnded': {
        const employments = new Map(state.employments);
        const ended = employments.get(e.data.profileId);
        if (ended) employments.set(e.data.profileId, { ...ended, active: false, supervisorId: null });
        // Whoever reported to them now reports to no one.
        for (const [pid, emp] of employments) {
          if (emp.supervisorId === e.data.profileId) employments.set(pid, { ...emp, supervisorId: null });
        }
        return { ...state, employments };
      }
      default:
        return state;
    }
  },
};

/** Whether a subscription's seats count on `today`. */
export function inForce(s: { startsOn: string; endsOn: string | null; cancelled: boolean }, today: string): boolean {
  return !s.cancelled && s.startsOn <= today && (s.endsOn === null || s.endsOn >= today);
}

/** Seats of the subscriptions in force on `today`. */
export function seatsInForce(state: CompanyState, today: string): number {
  let seats = 0;
  for (const s of state.subscriptions.values()) if (inForce(s, today)) seats += s.seats;
  return seats;
}

export function activeEmployees(state: CompanyState): number {
  let n = 0;
  for (const e of state.employments.values()) if (e.active) n++;
  return n;
}

/**
 * The subscription a SEATS_RUNNING_OUT notice is about when a hire takes the active profiles
 * from `activeBefore` to `activeBefore + 1` with `seats` in force on `today`: the oldest
 * subscription in force, when that hire reaches 90% of the seats from below (once per
 * crossing); otherwise null.
 */
export function seatsRunningOutSubject(state: CompanyState, activeBefore: number, today: string): string | null {
  const seats = seatsInForce(state, today);
  const crosses = seats > 0 && (activeBefore + 1) * 10 >= seats * 9 && activeBefore * 10 < seats * 9;
  if (!crosses) return null;
  // Subscriptions are kept in the order they started (the stream's), as the read table's positions.
  for (const [id, s] of state.subscriptions) if (inForce(s, today)) return id;
  return null;
}

function requireCompany(state: CompanyState, companyId: string): void {
  if (state.id === null) throw new NotFoundError('Company', companyId);
}

/** Decisions on the Company aggregate. Pure: facts from elsewhere come in as arguments. */
export const decideCompany = {
  register(state: CompanyState, cmd: { companyId: string; name: unknown; taxRut: unknown }): WorkforceEvent[] {
    if (state.id !== null) throw new ConflictError(`Company ${cmd.companyId} already exists`);
    return [
      {
        type: 'CompanyRegistered',
        data: { companyId: cmd.companyId, name: input.text(cmd.name, 'name', 200), taxRut: normalizeRut(cmd.taxRut, 'taxRut'), status: 'ACTIVE' },
      },
    ];
  },

  subscribe(
    state: CompanyState,
    cmd: { companyId: string; subscriptionId: string; offeringId: string; seats: unknown; startsOn?: unknown; endsOn?: unknown; today: string },
    facts: { offeringExists: boolean },
  ): WorkforceEvent[] {
    requireCompany(state, cmd.companyId);
    if (!facts.offeringExists) throw new NotFoundError('Offering', cmd.offeringId);
    const seats = input.intInRange(cmd.seats, 'seats', 1, 100_000);
    const startsOn = cmd.startsOn === undefined || cmd.startsOn === null ? cmd.today : input.isoDate(cmd.startsOn, 'startsOn');
    const endsOn = input.optionalDate(cmd.endsOn, 'endsOn');
    input.dateOrder(startsOn, endsOn, 'startsOn', 'endsOn');
    return [
      {
        type: 'SubscriptionStarted',
        data: { subscriptionId: cmd.subscriptionId, companyId: cmd.companyId, offeringId: cmd.offeringId, seats, startsOn, endsOn },
        subjects: [cmd.subscriptionId, cmd.offeringId],
      },
    ];
  },

  cancelSubscription(state: CompanyState, cmd: { companyId: string; subscriptionId: string; reason: unknown; today: string }): WorkforceEvent[] {
    requireCompany(state, cmd.companyId);
    const s = state.subscriptions.get(cmd.subscriptionId);
    if (!s) throw new NotFoundError('Subscription', cmd.subscriptionId);
    if (s.cancelled) throw new ConflictError(`Subscription ${cmd.subscriptionId} is already cancelled`);
    return [
      {
        type: 'SubscriptionCancelled',
        data: { subscriptionId: cmd.subscriptionId, companyId: cmd.companyId, cancelledOn: cmd.today, reason: input.optionalText(cmd.reason, 'reason', 500) },
        subjects: [cmd.subscriptionId],
      },
    ];
  },

  hire(
    state: CompanyState,
    cmd: { companyId: string; profileId: string; position?: unknown; startedOn?: unknown; today: string },
    facts: { profileExists: boolean },
  ): WorkforceEvent[] {
    requireCompany(state, cmd.companyId);
    if (!facts.profileExists) throw new NotFoundError('Profile', cmd.profileId);
    if (state.employments.get(cmd.profileId)?.active) {
      throw new ConflictError(`Profile ${cmd.profileId} already works for company ${cmd.companyId}`);
    }
    const seats = seatsInForce(state, cmd.today);
    const active = activeEmployees(state);
    if (active + 1 > seats) {
      throw new BadUserInputError(
        `Company ${cmd.companyId} has ${active} active profiles and ${seats} seats in force; subscribe to more seats before hiring`,
        'companyId',
      );
    }
    const startedOn = cmd.startedOn === undefined || cmd.startedOn === null ? cmd.today : input.isoDate(cmd.startedOn, 'startedOn');
    // Version 2 carries the seats decided against and the notice the hire causes (schema/events/workforce.ts).
    return [
      {
        type: 'ProfileHired',
        version: 2,
        data: {
          companyId: cmd.companyId, profileId: cmd.profileId, position: input.optionalText(cmd.position, 'position', 120), startedOn,
          seatsInForce: seats, activeProfiles: active + 1, seatsRunningOutSubscriptionId: seatsRunningOutSubject(state, active, cmd.today),
        },
        subjects: [cmd.profileId],
      },
    ];
  },

  setSupervisor(state: CompanyState, cmd: { companyId: string; profileId: string; supervisorId: string | null }): WorkforceEvent[] {
    requireCompany(state, cmd.companyId);
    const employment = state.employments.get(cmd.profileId);
    if (!employment?.active) throw new BadUserInputError(`Profile ${cmd.profileId} does not work for this company`, 'profileId');
    if (cmd.supervisorId !== null) {
      if (cmd.supervisorId === cmd.profileId) throw new BadUserInputError('A profile cannot supervise itself', 'supervisorId');
      if (!state.employments.get(cmd.supervisorId)?.active) {
        throw new BadUserInputError(`Supervisor ${cmd.supervisorId} does not work for this company`, 'supervisorId');
      }
      // Walk up from the new supervisor: reaching the profile would close a cycle.
      const seen = new Set<string>();
      for (let cur: string | null = cmd.supervisorId; cur !== null; cur = state.employments.get(cur)?.supervisorId ?? null) {
        if (cur === cmd.profileId) {
          throw new BadUserInputError(`Profile ${cmd.supervisorId} already reports (directly or not) to ${cmd.profileId}; that would make a supervision cycle`, 'supervisorId');
        }
        if (seen.has(cur)) break;
        seen.add(cur);
      }
    }
    if (employment.supervisorId === cmd.supervisorId) return [];
    return [
      {
        type: 'SupervisorSet',
        data: { companyId: cmd.companyId, profileId: cmd.profileId, supervisorId: cmd.supervisorId },
        subjects: cmd.supervisorId ? [cmd.profileId, cmd.supervisorId] : [cmd.profileId],
      },
    ];
  },

  endEmployment(state: CompanyState, cmd: { companyId: string; profileId: string; endedOn: unknown; today: string }): WorkforceEvent[] {
    requireCompany(state, cmd.companyId);
    const employment = state.employments.get(cmd.profileId);
    if (!employment?.active) {
      throw new BadUserInputError(`Profile ${cmd.profileId} does not work for this company`, 'profileId');
    }
    const endedOn = cmd.endedOn === undefined || cmd.endedOn === null ? cmd.today : input.isoDate(cmd.endedOn, 'endedOn');
    input.dateOrder(employment.startedOn, endedOn, 'startedOn', 'endedOn');
    return [{ type: 'EmploymentEnded', data: { companyId: cmd.companyId, profileId: cmd.profileId, endedOn }, subjects: [cmd.profileId] }];
  },
};
