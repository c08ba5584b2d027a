import { describe, expect, it } from 'vitest';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';
import { andThen, given, refusal } from '../../../platform/testing/decider.ts';
import { decideProject, project, type ProjectState } from './project.ts';

const P = '00000000-0000-4000-8000-0000000000a1';
const C = '00000000-0000-4000-8000-00000000000c';
const ASG = '00000000-0000-4000-8000-0000000000b1';
const W = '00000000-0000-4000-8000-0000000000e1';

const created = (startsOn: string, endsOn: string | null): WorkforceEvent => ({
  type: 'ProjectCreated', data: { projectId: P, companyId: C, name: 'Faena Norte', faenaCode: 'FN-01', location: null, startsOn, endsOn },
});
const closed: WorkforceEvent = { type: 'ProjectClosed', data: { projectId: P, companyId: C, closedOn: '2026-06-15' } };
const assignment: WorkforceEvent = {
  type: 'AssignmentCreated', data: { assignmentId: ASG, projectId: P, companyId: C, name: 'Driller', startsOn: '2026-02-01', endsOn: null },
};

const withDates = (startsOn: string, endsOn: string | null) => given(project, created(startsOn, endsOn));
const createAssignment = (state: ProjectState, dates: { startsOn: unknown; endsOn?: unknown }) =>
  decideProject.createAssignment(state, { projectId: P, assignmentId: ASG, name: 'Driller', ...dates });
const facts = { worksForCompany: true, profileExists: true };
const assign = (state: ProjectState, f = facts) => decideProject.assign(state, { projectId: P, assignmentId: ASG, profileId: W }, f);

describe('Project: creation', () => {
  const create = (cmd: Record<string, unknown>, companyExists = true) =>
    decideProject.create(
      project.initialState(),
      { projectId: P, companyId: C, name: 'Faena Norte', faenaCode: 'fn-01', startsOn: '2026-01-01', ...cmd },
      { companyExists },
    );

  it('upper-cases the faena code and keeps an open end', () => {
    expect(create({})[0]).toMatchObject({ type: 'ProjectCreated', data: { faenaCode: 'FN-01', endsOn: null, location: null } });
  });

  it('refuses a bad faena code, an end before the start, an impossible date, and an unknown company', () => {
    for (const faenaCode of ['x', 'has space', 'ÑANDÚ', '-LEADING', 'A'.repeat(33)]) {
      expect(refusal(() => create({ faenaCode }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'faenaCode' });
    }
    expect(refusal(() => create({ endsOn: '2025-12-31' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endsOn' });
    expect(refusal(() => create({ startsOn: '2026-02-30' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startsOn' });
    expect(refusal(() => create({}, false)).code).toBe('NOT_FOUND');
  });

  it('closes once', () => {
    const state = withDates('2026-01-01', null);
    expect(decideProject.close(state, { projectId: P, today: '2026-06-15' })).toEqual([closed]);
    expect(refusal(() => decideProject.close(andThen(project, state, [closed]), { projectId: P, today: '2026-06-15' })).code).toBe('CONFLICT');
    expect(refusal(() => decideProject.close(project.initialState(), { projectId: P, today: '2026-06-15' })).code).toBe('NOT_FOUND');
  });
});

describe('Project: assignment dates sit inside the project', () => {
  const state = withDates('2026-01-01', '2026-12-31');

  it('accepts dates on and inside the bounds', () => {
    expect(createAssignment(state, { startsOn: '2026-01-01', endsOn: '2026-12-31' })[0]).toMatchObject({
      data: { startsOn: '2026-01-01', endsOn: '2026-12-31' },
    });
    expect(createAssignment(state, { startsOn: '2026-03-01', endsOn: '2026-03-01' })).toHaveLength(1);
  });

  it('refuses a start before the project starts, or an end after it ends', () => {
    expect(refusal(() => createAssignment(state, { startsOn: '2025-12-31', endsOn: '2026-02-01' }))).toMatchObject({ field: 'startsOn' });
    expect(refusal(() => createAssignment(state, { startsOn: '2026-02-01', endsOn: '2027-01-01' }))).toMatchObject({ field: 'endsOn' });
  });

  it('refuses an end before its start', () => {
    expect(refusal(() => createAssignment(state, { startsOn: '2026-05-02', endsOn: '2026-05-01' }))).toMatchObject({
      code: 'BAD_USER_INPUT', field: 'endsOn',
    });
  });

  it('gives an open-ended assignment the project end', () => {
    expect(createAssignment(state, { startsOn: '2026-02-01' })[0]).toMatchObject({ data: { endsOn: '2026-12-31' } });
    expect(createAssignment(state, { startsOn: '2026-02-01', endsOn: null })[0]).toMatchObject({ data: { endsOn: '2026-12-31' } });
    expect(createAssignment(withDates('2026-01-01', null), { startsOn: '2026-02-01' })[0]).toMatchObject({ data: { endsOn: null } });
  });

  it('refuses an open-ended assignment starting after the project ends, blaming its start', () => {
    const e = refusal(() => createAssignment(state, { startsOn: '2027-01-15' }));
    expect(e).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startsOn' });
    expect(e.message).toMatch(/after the project ends \(2026-12-31\)/);
  });

  it('refuses new assignments on a closed or unknown project', () => {
    expect(refusal(() => createAssignment(andThen(project, state, [closed]), { startsOn: '2026-02-01' }))).toMatchObject({
      code: 'BAD_USER_INPUT', field: 'projectId',
    });
    expect(refusal(() => createAssignment(project.initialState(), { startsOn: '2026-02-01' })).code).toBe('NOT_FOUND');
  });
});

describe('Project: profiles on assignments', () => {
  const state = given(project, created('2026-01-01', null), assignment);

  it('assigns a profile who works for the company', () => {
    expect(assign(state)).toEqual([
      { type: 'ProfileAssigned', data: { assignmentId: ASG, projectId: P, companyId: C, profileId: W }, subjects: [ASG, W] },
    ]);
  });

  it('refuses a duplicate assignment with CONFLICT, and allows it again after an unassign', () => {
    const on = andThen(project, state, assign(state));
    expect(refusal(() => assign(on)).code).toBe('CONFLICT');
    const off = andThen(project, on, decideProject.unassign(on, { projectId: P, assignmentId: ASG, profileId: W }));
    expect(assign(off)).toHaveLength(1);
  });

  it('refuses a closed project, an unknown assignment or profile, and a profile of another company', () => {
    expect(refusal(() => assign(andThen(project, state, [closed]))).code).toBe('BAD_USER_INPUT');
    expect(refusal(() => assign(given(project, created('2026-01-01', null)))).code).toBe('NOT_FOUND');
    expect(refusal(() => assign(state, { ...facts, profileExists: false })).code).toBe('NOT_FOUND');
    expect(refusal(() => assign(state, { ...facts, worksForCompany: false }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'profileId' });
  });

  it('refuses to unassign a profile who is not on the assignment', () => {
    expect(refusal(() => decideProject.unassign(state, { projectId: P, assignmentId: ASG, profileId: W }))).toMatchObject({
      code: 'BAD_USER_INPUT', field: 'profileId',
    });
    expect(refusal(() => decideProject.unassign(state, { projectId: P, assignmentId: 'other', profileId: W })).code).toBe('NOT_FOUND');
  });
});
