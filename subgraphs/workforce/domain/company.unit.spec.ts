import { describe, expect, it } from 'vitest';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';
import { andThen, deciderSpec, given, refusal } from '../../../platform/testing/decider.ts';
import { activeEmployees, company, decideCompany, seatsInForce, seatsRunningOutSubject, type CompanyState } from './company.ts';

const TODAY = '2026-06-15';
const C = '00000000-0000-4000-8000-00000000000c';
const OFFER = '00000000-0000-4000-8000-0000000000f0';
const [A, B, D, E] = ['a', 'b', 'd', 'e'].map((c) => `00000000-0000-4000-8000-00000000000${c}`);

const registered: WorkforceEvent = { type: 'CompanyRegistered', data: { companyId: C, name: 'Minera Sur', taxRut: '12345678-5', status: 'ACTIVE' } };
let subs = 0;
const subscription = (seats: number, startsOn: string, endsOn: string | null = null): WorkforceEvent & { type: 'SubscriptionStarted' } => ({
  type: 'SubscriptionStarted',
  data: { subscriptionId: `00000000-0000-4000-9000-${String(++subs).padStart(12, '0')}`, companyId: C, offeringId: OFFER, seats, startsOn, endsOn },
});
const hired = (profileId: string, startedOn = '2026-01-01'): WorkforceEvent => ({
  type: 'ProfileHired', data: { companyId: C, profileId, position: null, startedOn },
});
const supervisor = (profileId: string, supervisorId: string | null): WorkforceEvent => ({
  type: 'SupervisorSet', data: { companyId: C, profileId, supervisorId },
});
const ended = (profileId: string): WorkforceEvent => ({ type: 'EmploymentEnded', data: { companyId: C, profileId, endedOn: TODAY } });

/** Applies what a decision returned, the way the command handler would. */
const apply = (state: CompanyState, events: WorkforceEvent[]) => andThen(company, state, events);
const hire = (state: CompanyState, profileId: string, facts = { profileExists: true }) =>
  decideCompany.hire(state, { companyId: C, profileId, today: TODAY }, facts);
const setSupervisor = (state: CompanyState, profileId: string, supervisorId: string | null) =>
  decideCompany.setSupervisor(state, { companyId: C, profileId, supervisorId });

describe('Company: registration (given/when/then)', () => {
  const spec = deciderSpec(company);
  const register = (name: string, taxRut: string) => (s: CompanyState) => decideCompany.register(s, { companyId: C, name, taxRut });

  it('registers with a normalised tax RUT', () => {
    spec.given().when(register('  Minera Sur ', '12.345.678-5')).then([registered]);
  });

  it('refuses a bad tax RUT, an empty name, and registering twice', () => {
    spec.given().when(register('X', '12.345.678-4')).thenRefuses('BAD_USER_INPUT', 'taxRut');
    spec.given().when(register('   ', '12.345.678-5')).thenRefuses('BAD_USER_INPUT', 'name');
    spec.given(registered).when(register('X', '12.345.678-5')).thenRefuses('CONFLICT');
  });
});

describe('Company: subscriptions', () => {
  const sub = (state: CompanyState, cmd: Record<string, unknown>, offeringExists = true) =>
    decideCompany.subscribe(state, { companyId: C, subscriptionId: 'S', offeringId: OFFER, seats: 5, today: TODAY, ...cmd }, { offeringExists });

  it('starts today unless told otherwise', () => {
    const [e] = sub(given(company, registered), {});
    expect(e).toMatchObject({ type: 'SubscriptionStarted', data: { seats: 5, startsOn: TODAY, endsOn: null } });
  });

  it('refuses an unknown company or offering, seats out of range, and an end before the start', () => {
    expect(refusal(() => sub(company.initialState(), {})).code).toBe('NOT_FOUND');
    expect(refusal(() => sub(given(company, registered), {}, false)).code).toBe('NOT_FOUND');
    for (const seats of [0, -1, 1.5, 100_001, '5']) {
      expect(refusal(() => sub(given(company, registered), { seats }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'seats' });
    }
    expect(refusal(() => sub(given(company, registered), { startsOn: '2026-07-01', endsOn: '2026-06-30' }))).toMatchObject({
      code: 'BAD_USER_INPUT', field: 'endsOn',
    });
  });

  it('cancels once; a second cancel or an unknown subscription is refused', () => {
    const s = subscription(3, '2026-01-01');
    const state = given(company, registered, s);
    const cancel = (st: CompanyState, subscriptionId = s.data.subscriptionId) =>
      decideCompany.cancelSubscription(st, { companyId: C, subscriptionId, reason: ' too expensive ', today: TODAY });
    const events = cancel(state);
    expect(events).toEqual([
      { type: 'SubscriptionCancelled', data: { subscriptionId: s.data.subscriptionId, companyId: C, cancelledOn: TODAY, reason: 'too expensive' }, subjects: [s.data.subscriptionId] },
    ]);
    expect(refusal(() => cancel(apply(state, events))).code).toBe('CONFLICT');
    expect(refusal(() => cancel(state, 'nope')).code).toBe('NOT_FOUND');
  });
});

describe('Company: seats bound hires', () => {
  it('counts only subscriptions in force today: not cancelled, not expired, already started', () => {
    const cancelled = subscription(100, '2026-01-01');
    const state = given(
      company,
      registered,
      subscription(2, '2026-01-01'), // in force, open-ended
      subscription(3, '2026-01-01', TODAY), // ends today: still in force
      subscription(50, '2025-01-01', '2026-06-14'), // expired yesterday
      subscription(70, '2026-06-16'), // starts tomorrow
      cancelled,
      { type: 'SubscriptionCancelled', data: { subscriptionId: cancelled.data.subscriptionId, companyId: C, cancelledOn: TODAY, reason: null } },
    );
    expect(seatsInForce(state, TODAY)).toBe(5);
    expect(seatsInForce(state, '2026-06-16')).toBe(72);
  });

  it('hires up to the seats and refuses the next one with BAD_USER_INPUT that explains why', () => {
    let state = given(company, registered, subscription(2, '2026-01-01'));
    state = apply(state, hire(state, A));
    state = apply(state, hire(state, B));
    expect(activeEmployees(state)).toBe(2);
    const e = refusal(() => hire(state, D));
    expect(e.code).toBe('BAD_USER_INPUT');
    expect(e.message).toMatch(/2 active profiles and 2 seats/);
  });

  it('refuses any hire without a subscription in force (expired, future or cancelled ones do not count)', () => {
    const expired = given(company, registered, subscription(10, '2025-01-01', '2026-06-14'));
    const future = given(company, registered, subscription(10, '2026-06-16'));
    expect(refusal(() => hire(expired, A)).code).toBe('BAD_USER_INPUT');
    expect(refusal(() => hire(future, A)).code).toBe('BAD_USER_INPUT');
    expect(hire(given(company, registered, subscription(1, TODAY)), A)).toHaveLength(1);
  });

  it('frees a seat when an employment ends, and lets the same profile be hired again', () => {
    let state = given(company, registered, subscription(1, '2026-01-01'), hired(A));
    expect(refusal(() => hire(state, B)).code).toBe('BAD_USER_INPUT');
    state = apply(state, [ended(A)]);
    expect(hire(state, B)).toHaveLength(1);
    expect(hire(state, A)).toHaveLength(1);
  });

  it('refuses hiring a profile twice (CONFLICT), an unknown profile (NOT_FOUND) or into an unknown company', () => {
    const state = given(company, registered, subscription(5, '2026-01-01'), hired(A));
    expect(refusal(() => hire(state, A)).code).toBe('CONFLICT');
    expect(refusal(() => hire(state, B, { profileExists: false })).code).toBe('NOT_FOUND');
    expect(refusal(() => hire(company.initialState(), B)).code).toBe('NOT_FOUND');
  });

  it('records the seats it decided against, and the seat notice once, when a hire reaches 90% of the seats from below', () => {
    // 10 seats in force today: an expired and a future subscription do not count, nor name the notice's subject.
    const expired = subscription(50, '2025-01-01', '2026-06-14');
    const first = subscription(6, '2026-01-01');
    const second = subscription(4, '2026-02-01');
    let state = given(company, registered, expired, first, second, subscription(70, '2026-06-16'));
    const notices: (string | null | undefined)[] = [];
    for (let i = 1; i <= 10; i++) {
      const [e] = hire(state, `00000000-0000-4000-8000-1${String(i).padStart(11, '0')}`);
      expect(e).toMatchObject({ type: 'ProfileHired', version: 2, data: { seatsInForce: 10, activeProfiles: i } });
      notices.push((e.data as { seatsRunningOutSubscriptionId?: string | null }).seatsRunningOutSubscriptionId);
      state = apply(state, [e]);
    }
    // The 9th hire crosses 90%, about the oldest subscription in force; the 10th is beyond, not a new crossing.
    expect(notices).toEqual([null, null, null, null, null, null, null, null, first.data.subscriptionId, null]);
    // Below again (an employment ended) and back up: a new crossing, a new notice.
    state = apply(state, [ended(`00000000-0000-4000-8000-1${'1'.padStart(11, '0')}`), ended(`00000000-0000-4000-8000-1${'2'.padStart(11, '0')}`)]);
    expect(hire(state, A)[0].data).toMatchObject({ activeProfiles: 9, seatsRunningOutSubscriptionId: first.data.subscriptionId });
    // One seat: the first hire is 100% from 0%.
    expect(hire(given(company, registered, second), A)[0].data).toMatchObject({ seatsInForce: 4, activeProfiles: 1, seatsRunningOutSubscriptionId: null });
    expect(seatsRunningOutSubject(given(company, registered, subscription(1, '2026-01-01')), 0, TODAY)).not.toBeNull();
  });

  it('defaults the start to today and validates a given one', () => {
    const state = given(company, registered, subscription(5, '2026-01-01'));
    expect(hire(state, A)[0]).toMatchObject({ data: { startedOn: TODAY, position: null } });
    const cmd = { companyId: C, profileId: A, today: TODAY, position: ' Operator ', startedOn: '2026-02-30' };
    expect(refusal(() => decideCompany.hire(state, cmd, { profileExists: true }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startedOn' });
    expect(decideCompany.hire(state, { ...cmd, startedOn: '2026-02-28' }, { profileExists: true })[0]).toMatchObject({
      data: { position: 'Operator', startedOn: '2026-02-28' },
    });
  });
});

describe('Company: supervision', () => {
  const staff = () => given(company, registered, subscription(10, '2026-01-01'), hired(A), hired(B), hired(D));

  it('sets a supervisor, naming both profiles as subjects', () => {
    expect(setSupervisor(staff(), A, B)).toEqual([
      { type: 'SupervisorSet', data: { companyId: C, profileId: A, supervisorId: B }, subjects: [A, B] },
    ]);
  });

  it('refuses self-supervision', () => {
    expect(refusal(() => setSupervisor(staff(), A, A))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'supervisorId' });
  });

  it('refuses a cycle of two: A reports to B, so B cannot report to A', () => {
    const state = apply(staff(), [supervisor(A, B)]);
    const e = refusal(() => setSupervisor(state, B, A));
    expect(e).toMatchObject({ code: 'BAD_USER_INPUT', field: 'supervisorId' });
    expect(e.message).toMatch(/cycle/);
  });

  it('refuses a cycle of three: A -> B -> D, so D cannot report to A', () => {
    const state = apply(staff(), [supervisor(A, B), supervisor(B, D)]);
    expect(refusal(() => setSupervisor(state, D, A)).code).toBe('BAD_USER_INPUT');
    // A chain is not a cycle: A may move to report to D directly.
    expect(setSupervisor(state, A, D)).toHaveLength(1);
  });

  it('refuses a supervisor who does not (or no longer) work for the company, and a profile who does not', () => {
    expect(refusal(() => setSupervisor(staff(), A, E))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'supervisorId' });
    expect(refusal(() => setSupervisor(apply(staff(), [ended(B)]), A, B))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'supervisorId' });
    expect(refusal(() => setSupervisor(staff(), E, A))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'profileId' });
    expect(refusal(() => setSupervisor(company.initialState(), A, B)).code).toBe('NOT_FOUND');
  });

  it('clears with null, and a change to the current value decides nothing', () => {
    const state = apply(staff(), [supervisor(A, B)]);
    expect(setSupervisor(state, A, null)).toEqual([{ type: 'SupervisorSet', data: { companyId: C, profileId: A, supervisorId: null }, subjects: [A] }]);
    expect(setSupervisor(state, A, B)).toEqual([]);
    expect(setSupervisor(staff(), A, null)).toEqual([]);
  });

  it("EmploymentEnded clears the leaver's reports, so the old chain no longer blocks a new link", () => {
    // A -> B -> D; D cannot report to A while the chain stands.
    let state = apply(staff(), [supervisor(A, B), supervisor(B, D)]);
    state = apply(state, [ended(B)]);
    expect(state.employments.get(A)?.supervisorId).toBeNull();
    expect(state.employments.get(B)).toMatchObject({ active: false, supervisorId: null });
    expect(setSupervisor(state, D, A)).toHaveLength(1);
  });
});

describe('Company: ending an employment', () => {
  const state = () => given(company, registered, subscription(5, '2026-01-01'), hired(A, '2026-03-01'));
  const end = (s: CompanyState, profileId: string, endedOn?: unknown) =>
    decideCompany.endEmployment(s, { companyId: C, profileId, endedOn, today: TODAY });

  it('ends today by default', () => {
    expect(end(state(), A)).toEqual([{ type: 'EmploymentEnded', data: { companyId: C, profileId: A, endedOn: TODAY }, subjects: [A] }]);
  });

  it('refuses a profile who does not work there, or has already left', () => {
    expect(refusal(() => end(state(), B))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'profileId' });
    expect(refusal(() => end(apply(state(), [ended(A)]), A)).code).toBe('BAD_USER_INPUT');
  });

  it('refuses an end before the employment started, and an impossible date', () => {
    expect(refusal(() => end(state(), A, '2026-02-28'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endedOn' });
    expect(refusal(() => end(state(), A, '2026-04-31'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endedOn' });
    expect(end(state(), A, '2026-03-01')).toHaveLength(1);
  });
});
