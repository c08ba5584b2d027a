import { BadUserInputError, ConflictError, NotFoundError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';

/**
 * The Project aggregate (stream `project-<id>`): a faena, its assignments and who is on
 * them. Date containment and "closed takes no new work" are decided here.
 */

interface AssignmentState {
  startsOn: string;
  endsOn: string | null;
  assigned: ReadonlySet<string>;
}

export interface ProjectState {
  id: string | null;
  companyId: string | null;
  status: 'ACTIVE' | 'CLOSED' | null;
  startsOn: string;
  endsOn: string | null;
  assignments: ReadonlyMap<string, AssignmentState>;
}

export const projectStream = (projectId: string) => `project-${projectId}`;

const FAENA_CODE = /^[A-Z0-9][A-Z0-9_-]{1,31}$/;

export const project = {
  initialState: (): ProjectState => ({ id: null, companyId: null, status: null, startsOn: '', endsOn: null, assignments: new Map() }),

  evolve(state: ProjectState, event: RecordedEvent<WorkforceEvent>): ProjectState {
    const e = event as unknown as WorkforceEvent;
    switch (e.type) {
      case 'ProjectCreated':
        return { ...state, id: e.data.projectId, companyId: e.data.companyId, status: 'ACTIVE', startsOn: e.data.startsOn, endsOn: e.data.endsOn };
      case 'ProjectClosed':
        return { ...state, status: 'CLOSED' };
      case 'AssignmentCreated': {
        const assignments = new Map(state.assignments);
        assignments.set(e.data.assignmentId, { startsOn: e.data.startsOn, endsOn: e.data.endsOn, assigned: new Set() });
        return { ...state, assignments };
      }
      case 'ProfileAssigned':
      case 'ProfileUnassigned': {
        const assignments = new Map(state.assignments);
        const a = assignments.get(e.data.assignmentId);
        if (a) {
          const assigned = new Set(a.assigned);
          if (e.type === 'ProfileAssigned') assigned.add(e.data.profileId);
          else assigned.delete(e.data.profileId);
          assignments.set(e.data.assignmentId, { ...a, assigned });
        }
        return { ...state, assignments };
      }
      default:
        return state;
    }
  },
};

function requireOpen(state: ProjectState, projectId: string, what: string): void {
  if (state.id === null) throw new NotFoundError('Project', projectId);
  if (state.status === 'CLOSED') throw new BadUserInputError(`Project ${projectId} is closed and takes no ${what}`, 'projectId');
}

/** Decisions on the Project aggregate. Pure: facts from elsewhere come in as arguments. */
export const decideProject = {
  create(
    state: ProjectState,
    cmd: { projectId: string; companyId: string; name: unknown; faenaCode: unknown; location?: unknown; startsOn: unknown; endsOn?: unknown },
    facts: { companyExists: boolean },
  ): WorkforceEvent[] {
    if (state.id !== null) throw new ConflictError(`Project ${cmd.projectId} already exists`);
    if (!facts.companyExists) throw new NotFoundError('Company', cmd.companyId);
    const faenaCode = input.text(cmd.faenaCode, 'faenaCode', 32).toUpperCase();
    if (!FAENA_CODE.test(faenaCode)) {
      throw new BadUserInputError('faenaCode must be 2-32 letters, digits, "-" or "_"', 'faenaCode');
    }
    const startsOn = input.isoDate(cmd.startsOn, 'startsOn');
    const endsOn = input.optionalDate(cmd.endsOn, 'endsOn');
    input.dateOrder(startsOn, endsOn, 'startsOn', 'endsOn');
    return [
      {
        type: 'ProjectCreated',
        data: {
          projectId: cmd.projectId, companyId: cmd.companyId, name: input.text(cmd.name, 'name', 200), faenaCode,
          location: input.optionalText(cmd.location, 'location', 200), startsOn, endsOn,
        },
        subjects: [cmd.companyId],
      },
    ];
  },

  close(state: ProjectState, cmd: { projectId: string; today: string }): WorkforceEvent[] {
    if (state.id === null) throw new NotFoundError('Project', cmd.projectId);
    if (state.status === 'CLOSED') throw new ConflictError(`Project ${cmd.projectId} is already closed`);
    return [{ type: 'ProjectClosed', data: { projectId: cmd.projectId, companyId: state.companyId!, closedOn: cmd.today } }];
  },

  createAssignment(
    state: ProjectState,
    cmd: { projectId: string; assignmentId: string; name: unknown; startsOn: unknown; endsOn?: unknown },
  ): WorkforceEvent[] {
    requireOpen(state, cmd.projectId, 'new assignments');
    const startsOn = input.isoDate(cmd.startsOn, 'startsOn');
    if (startsOn < state.startsOn) {
      throw new BadUserInputError(`startsOn (${startsOn}) is before the project starts (${state.startsOn})`, 'startsOn');
    }
    if (state.endsOn !== null && startsOn > state.endsOn) {
      throw new BadUserInputError(`startsOn (${startsOn}) is after the project ends (${state.endsOn})`, 'startsOn');
    }
    // An open-ended assignment ends with its project.
    const endsOn = input.optionalDate(cmd.endsOn, 'endsOn') ?? state.endsOn;
    input.dateOrder(startsOn, endsOn, 'startsOn', 'endsOn');
    if (state.endsOn !== null && endsOn !== null && endsOn > state.endsOn) {
      throw new BadUserInputError(`endsOn (${endsOn}) is after the project ends (${state.endsOn})`, 'endsOn');
    }
    return [
      {
        type: 'AssignmentCreated',
        data: { assignmentId: cmd.assignmentId, projectId: cmd.projectId, companyId: state.companyId!, name: input.text(cmd.name, 'name', 200), startsOn, endsOn },
        subjects: [cmd.assignmentId],
      },
    ];
  },

  assign(
    state: ProjectState,
    cmd: { projectId: string; assignmentId: string; profileId: string },
    facts: { worksForCompany: boolean; profileExists: boolean },
  ): WorkforceEvent[] {
    requireOpen(state, cmd.projectId, 'new assignments');
    const a = state.assignments.get(cmd.assignmentId);
    if (!a) throw new NotFoundError('Assignment', cmd.assignmentId);
    if (!facts.profileExists) throw new NotFoundError('Profile', cmd.profileId);
    if (!facts.worksForCompany) {
      throw new BadUserInputError(`Profile ${cmd.profileId} does not work for the project's company`, 'profileId');
    }
    if (a.assigned.has(cmd.profileId)) throw new ConflictError(`Profile ${cmd.profileId} is already on assignment ${cmd.assignmentId}`);
    return [
      {
        type: 'ProfileAssigned',
        data: { assignmentId: cmd.assignmentId, projectId: cmd.projectId, companyId: state.companyId!, profileId: cmd.profileId },
        subjects: [cmd.assignmentId, cmd.profileId],
      },
    ];
  },

  unassign(state: ProjectState, cmd: { projectId: string; assignmentId: string; profileId: string }): WorkforceEvent[] {
    if (state.id === null) throw new NotFoundError('Project', cmd.projectId);
    const a = state.assignments.get(cmd.assignmentId);
    if (!a) throw new NotFoundError('Assignment', cmd.assignmentId);
    if (!a.assigned.has(cmd.profileId)) {
      throw new BadUserInputError(`Profile ${cmd.profileId} is not on assignment ${cmd.assignmentId}`, 'profileId');
    }
    return [
      {
        type: 'ProfileUnassigned',
        data: { assignmentId: cmd.assignmentId, projectId: cmd.projectId, companyId: state.companyId!, profileId: cmd.profileId },
        subjects: [cmd.assignmentId, cmd.profileId],
      },
    ];
  },
};
