import { prepared, run, type Prepared, type Queryable } from '../../../platform/postgres/pool.ts';
import type { FusedProjection } from '../../../platform/event-store/postgres.ts';
import type { RecordedEvent, WrittenRows } from '../../../platform/event-store/types.ts';
import { READ_COLUMNS, writtenKey, type ReadTable } from './read-model.ts';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';

/**
 * The inline projection: Workforce events -> read tables. Uses only what the event
 * carries (positions, versions, occurred_at), never now(), so a rebuild reproduces every
 * row exactly.
 *
 * Every read-table row belongs to exactly one stream (a company's subscriptions and
 * employments, a project's assignments, a profile's licences), so events of different
 * streams never touch the same row and may be applied in any order between streams. That
 * lets one statement apply many events: events are taken in rounds (the next event of
 * each stream), and each round's events of one type go to one prepared statement over
 * arrays (`unnest`). A batch of 16 commands on 16 streams costs one statement per event
 * type, not 16; a single command costs one statement per event, as before.
 */

/**
 * One event type's projection: CTEs over `{u}` (one row per event, with the event's
 * version `v`, time `at` and position `pos`), the main one `{w}` returning the rows it
 * wrote. Run alone over arrays (`unnest`), or fused into the append statement.
 */
interface ArrayStatement extends Prepared {
  columns: string[];
  /** The read table whose rows `{w}` returns (the row each event wrote); null: none a mutation answers with. */
  returns: ReadTable | null;
  ctes: string;
}

/** The CTE names of a template, with a suffix (one set per event type in a fused statement). */
function fill(template: string, suffix: string): string {
  return template.replace(/\{([uwbrpn])\}/g, (_, n: string) => `${n}${suffix}`);
}

function overArrays(name: string, columns: string[], returns: ReadTable | null, ctes: string): ArrayStatement {
  const names = columns.map((c) => c.split(' ')[0]);
  const unnest = `unnest(${columns.map((c, i) => `$${i + 1}::${c.split(' ')[1]}[]`).join(', ')}) AS u(${names.join(', ')})`;
  return { ...prepared(name, `WITH u AS (SELECT * FROM ${unnest}), ${fill(ctes, '')} SELECT * FROM w`), columns, returns, ctes };
}

/** RETURNING the table's read columns, qualified by the target alias `t` (u has columns of the same names). */
function returning(table: ReadTable): string {
  return `RETURNING ${READ_COLUMNS[table].split(',').map((c) => `t.${c.trim()}`).join(', ')}`;
}

// The aggregate's version bump, for events whose main row is a child of the aggregate.
const bumpCompany = `{b} AS (UPDATE companies t SET version = {u}.v, updated_at = {u}.at FROM {u} WHERE t.id = {u}.company_id)`;
const bumpProject = `{b} AS (UPDATE projects t SET version = {u}.v, updated_at = {u}.at FROM {u} WHERE t.id = {u}.project_id)`;
const bumpProfile = `{b} AS (UPDATE profiles t SET version = {u}.v, updated_at = {u}.at FROM {u} WHERE t.id = {u}.profile_id)`;
/**
 * Notifications derived from the event that causes them, in the same statement (so in the
 * same commit, fused or not), with the event's id as the notification's and the event's
 * transaction id and position as its delivery order. Only read tables and the event go in,
 * never now(): replayed in commit order they give the same rows. Derived rather than a
 * second event in the aggregate's stream, which would bump the aggregate's version (and
 * a client's expectedVersion) for something that did not change it.
 *
 * PROFILE_ASSIGNED: to the worker and the project's company's managers, about the project.
 */
const profileAssignedNotice = `{n} AS (INSERT INTO notifications (id, kind, title, body, subject_type, subject_id, audience, source_event_id, transaction_id, position, created_at)
       SELECT {u}.event_id, 'PROFILE_ASSIGNED', 'Assigned to ' || p.name, 'Assignment: ' || a.name, 'Project', {u}.project_id::text,
              ARRAY['profile:' || {u}.profile_id, 'managers:' || p.company_id], NULL, {u}.tx, {u}.pos, {u}.at
       FROM {u} JOIN projects p ON p.id = {u}.project_id JOIN assignments a ON a.id = {u}.assignment_id)`;
/**
 * SEATS_RUNNING_OUT: the notice a hire causes, as the hire's event says (ProfileHired v2:
 * the decider's seats in force and active profiles after the hire, and the subscription the
 * notice is about when the hire reached 90% of the seats from below). To the company's
 * managers and the admins. The lake derives the same rows from the same fields
 * (schema/lake/workforce.ts). A v1 ProfileHired carries none of them: no notice.
 */
const seatsRunningOut = `{n} AS (INSERT INTO notifications (id, kind, title, body, subject_type, subject_id, audience, source_event_id, transaction_id, position, created_at)
       SELECT {u}.event_id, 'SEATS_RUNNING_OUT', 'Seats running out', {u}.active_profiles || ' of ' || {u}.seats_in_force || ' seats are in use',
              'CompanySubscription', {u}.seats_notice_subject::text, ARRAY['managers:' || {u}.company_id, 'admins'], NULL, {u}.tx, {u}.pos, {u}.at
       FROM {u} WHERE {u}.seats_notice_subject IS NOT NULL)`;

const S = {
  CompanyRegistered: overArrays(
    'wf_company_registered',
    ['id uuid', 'v bigint', 'at timestamptz', 'name text', 'tax_rut text', 'status text', 'pos bigint'],
    'companies',
    `{w} AS (INSERT INTO companies AS t (id, version, updated_at, name, tax_rut, status, position, created_at)
     SELECT id, v, at, name, tax_rut, status, pos, at FROM {u} ${returning('companies')})`,
  ),
  OfferingCreated: overArrays(
    'wf_offering_created',
    ['id uuid', 'code text', 'name text', 'description text', 'pos bigint', 'at timestamptz'],
    'offerings',
    `{w} AS (INSERT INTO offerings AS t (id, code, name, description, position, created_at)
     SELECT id, code, name, description, pos, at FROM {u} ${returning('offerings')})`,
  ),
  SubscriptionStarted: overArrays(
    'wf_subscription_started',
    ['company_id uuid', 'v bigint', 'at timestamptz', 'id uuid', 'offering_id uuid', 'seats int', 'starts_on date', 'ends_on date', 'pos bigint'],
    'subscriptions',
    `{w} AS (INSERT INTO subscriptions AS t (id, company_id, offering_id, seats, starts_on, ends_on, status, position, created_at, updated_at)
             SELECT id, company_id, offering_id, seats, starts_on, ends_on, 'ACTIVE', pos, at, at FROM {u} ${returning('subscriptions')}),
       ${bumpCompany}`,
  ),
  SubscriptionCancelled: overArrays(
    'wf_subscription_cancelled',
    ['company_id uuid', 'v bigint', 'at timestamptz', 'id uuid', 'cancelled_on date', 'reason text'],
    'subscriptions',
    `{w} AS (UPDATE subscriptions t SET status = 'CANCELLED', cancelled_on = {u}.cancelled_on, cancel_reason = {u}.reason, updated_at = {u}.at
             FROM {u} WHERE t.id = {u}.id ${returning('subscriptions')}),
       ${bumpCompany}`,
  ),
  ProfileHired: overArrays(
    'wf_profile_hired',
    [
      'company_id uuid', 'v bigint', 'at timestamptz', 'profile_id uuid', 'job_title text', 'started_on date', 'pos bigint', 'event_id uuid', 'tx xid8',
      'seats_in_force int', 'active_profiles int', 'seats_notice_subject uuid',
    ],
    'profile_companies',
    `{w} AS (INSERT INTO profile_companies AS t (profile_id, company_id, job_title, supervisor_id, started_on, ended_on, status, position, updated_at)
             SELECT profile_id, company_id, job_title, NULL, started_on, NULL, 'ACTIVE', pos, at FROM {u}
             ON CONFLICT (profile_id, company_id) DO UPDATE
             SET job_title = EXCLUDED.job_title, supervisor_id = NULL, started_on = EXCLUDED.started_on,
                 ended_on = NULL, status = 'ACTIVE', updated_at = EXCLUDED.updated_at
             ${returning('profile_companies')}),
       ${bumpCompany},
       ${seatsRunningOut}`,
  ),
  SupervisorSet: overArrays(
    'wf_supervisor_set',
    ['company_id uuid', 'v bigint', 'at timestamptz', 'profile_id uuid', 'supervisor_id uuid'],
    'profile_companies',
    `{w} AS (UPDATE profile_companies t SET supervisor_id = {u}.supervisor_id, updated_at = {u}.at
             FROM {u} WHERE t.company_id = {u}.company_id AND t.profile_id = {u}.profile_id ${returning('profile_companies')}),
       ${bumpCompany}`,
  ),
  EmploymentEnded: overArrays(
    'wf_employment_ended',
    ['company_id uuid', 'v bigint', 'at timestamptz', 'profile_id uuid', 'ended_on date'],
    'profile_companies',
    `{w} AS (UPDATE profile_companies t SET status = 'ENDED', ended_on = {u}.ended_on, supervisor_id = NULL, updated_at = {u}.at
             FROM {u} WHERE t.company_id = {u}.company_id AND t.profile_id = {u}.profile_id ${returning('profile_companies')}),
       {r} AS (UPDATE profile_companies t SET supervisor_id = NULL, updated_at = {u}.at
             FROM {u} WHERE t.company_id = {u}.company_id AND t.supervisor_id = {u}.profile_id AND t.profile_id <> {u}.profile_id),
       ${bumpCompany}`,
  ),
  ProjectCreated: overArrays(
    'wf_project_created',
    ['id uuid', 'v bigint', 'at timestamptz', 'company_id uuid', 'name text', 'faena_code text', 'location text', 'starts_on date', 'ends_on date', 'pos bigint'],
    'projects',
    `{w} AS (INSERT INTO projects AS t (id, version, updated_at, company_id, name, faena_code, location, starts_on, ends_on, status, position, created_at)
     SELECT id, v, at, company_id, name, faena_code, location, starts_on, ends_on, 'ACTIVE', pos, at FROM {u} ${returning('projects')})`,
  ),
  ProjectClosed: overArrays(
    'wf_project_closed',
    ['id uuid', 'v bigint', 'at timestamptz', 'closed_on date'],
    'projects',
    `{w} AS (UPDATE projects t SET status = 'CLOSED', closed_on = {u}.closed_on, version = {u}.v, updated_at = {u}.at FROM {u} WHERE t.id = {u}.id
     ${returning('projects')})`,
  ),
  AssignmentCreated: overArrays(
    'wf_assignment_created',
    ['project_id uuid', 'v bigint', 'at timestamptz', 'id uuid', 'company_id uuid', 'name text', 'starts_on date', 'ends_on date', 'pos bigint'],
    'assignments',
    `{w} AS (INSERT INTO assignments AS t (id, project_id, company_id, name, starts_on, ends_on, position, created_at)
             SELECT id, project_id, company_id, name, starts_on, ends_on, pos, at FROM {u} ${returning('assignments')}),
       ${bumpProject}`,
  ),
  ProfileAssigned: overArrays(
    'wf_profile_assigned',
    ['project_id uuid', 'v bigint', 'at timestamptz', 'assignment_id uuid', 'profile_id uuid', 'pos bigint', 'event_id uuid', 'tx xid8'],
    'profile_assignments',
    `{w} AS (INSERT INTO profile_assignments AS t (profile_id, assignment_id, project_id, status, assigned_at, unassigned_at, position)
             SELECT profile_id, assignment_id, project_id, 'ASSIGNED', at, NULL, pos FROM {u}
             ON CONFLICT (assignment_id, profile_id) DO UPDATE
             SET status = 'ASSIGNED', assigned_at = EXCLUDED.assigned_at, unassigned_at = NULL
             ${returning('profile_assignments')}),
       ${bumpProject},
       ${profileAssignedNotice}`,
  ),
  ProfileUnassigned: overArrays(
    'wf_profile_unassigned',
    ['project_id uuid', 'v bigint', 'at timestamptz', 'assignment_id uuid', 'profile_id uuid'],
    'profile_assignments',
    `{w} AS (UPDATE profile_assignments t SET status = 'UNASSIGNED', unassigned_at = {u}.at
             FROM {u} WHERE t.assignment_id = {u}.assignment_id AND t.profile_id = {u}.profile_id ${returning('profile_assignments')}),
       ${bumpProject}`,
  ),
  // Personal data is recorded per company, `recorded_for` (the event's metadata.companyId;
  // null: an ADMIN's). `profiles` keeps each field as most recently recorded by anyone:
  // a field a company's event changed against that company's own record, or every field
  // of an ADMIN's event (domain/profile.ts `record` decides the same).
  ProfileCreated: overArrays(
    'wf_profile_created',
    [
      'id uuid', 'v bigint', 'at timestamptz', 'rut text', 'first_name text', 'last_name text', 'email text', 'phone text', 'birth_date date',
      'created_by text', 'recorded_for uuid', 'pos bigint',
    ],
    'profiles',
    `{w} AS (INSERT INTO profiles AS t (id, version, updated_at, rut, first_name, last_name, email, phone, birth_date, created_by, created_for, position, created_at)
     SELECT id, v, at, rut, first_name, last_name, email, phone, birth_date, created_by, recorded_for, pos, at FROM {u} ${returning('profiles')}),
       {r} AS (INSERT INTO profile_personal_data (profile_id, company_id, email, phone, birth_date, position, updated_at)
             SELECT id, recorded_for, email, phone, birth_date, pos, at FROM {u} WHERE recorded_for IS NOT NULL)`,
  ),
  ProfileUpdated: overArrays(
    'wf_profile_updated',
    ['id uuid', 'v bigint', 'at timestamptz', 'first_name text', 'last_name text', 'email text', 'phone text', 'birth_date date', 'recorded_for uuid', 'pos bigint'],
    'profiles',
    `{p} AS (SELECT {u}.id, {u}.recorded_for IS NULL AS every_field, d.email, d.phone, d.birth_date
             FROM {u} LEFT JOIN profile_personal_data d ON d.profile_id = {u}.id AND d.company_id = {u}.recorded_for),
       {w} AS (UPDATE profiles t SET first_name = {u}.first_name, last_name = {u}.last_name,
               email = CASE WHEN {p}.every_field OR {p}.email IS DISTINCT FROM {u}.email THEN {u}.email ELSE t.email END,
               phone = CASE WHEN {p}.every_field OR {p}.phone IS DISTINCT FROM {u}.phone THEN {u}.phone ELSE t.phone END,
               birth_date = CASE WHEN {p}.every_field OR {p}.birth_date IS DISTINCT FROM {u}.birth_date THEN {u}.birth_date ELSE t.birth_date END,
               version = {u}.v, updated_at = {u}.at
             FROM {u} JOIN {p} ON {p}.id = {u}.id WHERE t.id = {u}.id ${returning('profiles')}),
       {r} AS (INSERT INTO profile_personal_data AS t (profile_id, company_id, email, phone, birth_date, position, updated_at)
             SELECT id, recorded_for, email, phone, birth_date, pos, at FROM {u} WHERE recorded_for IS NOT NULL
             ON CONFLICT (profile_id, company_id) DO UPDATE
             SET email = EXCLUDED.email, phone = EXCLUDED.phone, birth_date = EXCLUDED.birth_date, updated_at = EXCLUDED.updated_at)`,
  ),
  LicenseGranted: overArrays(
    'wf_license_granted',
    ['profile_id uuid', 'v bigint', 'at timestamptz', 'id uuid', 'type text', 'number text', 'issued_on date', 'expires_on date', 'pos bigint'],
    'licenses',
    `{w} AS (INSERT INTO licenses AS t (id, profile_id, type, number, issued_on, expires_on, position, created_at, updated_at)
             SELECT id, profile_id, type, number, issued_on, expires_on, pos, at, at FROM {u} ${returning('licenses')}),
       ${bumpProfile}`,
  ),
  LicenseRenewed: overArrays(
    'wf_license_renewed',
    ['profile_id uuid', 'v bigint', 'at timestamptz', 'id uuid', 'expires_on date'],
    'licenses',
    `{w} AS (UPDATE licenses t SET expires_on = {u}.expires_on, updated_at = {u}.at FROM {u} WHERE t.id = {u}.id ${returning('licenses')}),
       ${bumpProfile}`,
  ),
  LicenseRevoked: overArrays(
    'wf_license_revoked',
    ['profile_id uuid', 'v bigint', 'at timestamptz', 'id uuid', 'revoked_on date', 'reason text'],
    'licenses',
    `{w} AS (UPDATE licenses t SET revoked = true, revoked_on = {u}.revoked_on, revoke_reason = {u}.reason, updated_at = {u}.at
             FROM {u} WHERE t.id = {u}.id ${returning('licenses')}),
       ${bumpProfile}`,
  ),
  // A notification raised on its own (another domain's, a licence expiry notice), in a
  // stream of its own. Its delivery order is its event's: transaction id and global position.
  NotificationRaised: overArrays(
    'wf_notification_raised',
    [
      'id uuid', 'v bigint', 'at timestamptz', 'kind text', 'title text', 'body text', 'subject_type text', 'subject_id text', 'audience jsonb',
      'source_event_id text', 'tx xid8', 'pos bigint',
    ],
    null,
    `{w} AS (INSERT INTO notifications AS t (id, kind, title, body, subject_type, subject_id, audience, source_event_id, transaction_id, position, created_at)
             SELECT id, kind, title, body, subject_type, subject_id, ARRAY(SELECT jsonb_array_elements_text(audience)), source_event_id, tx, pos, at
             FROM {u} RETURNING t.id)`,
  ),
  // Marking read again keeps the first readAt.
  NotificationsRead: overArrays(
    'wf_notifications_read',
    ['reader_id text', 'ids jsonb', 'at timestamptz', 'pos bigint'],
    null,
    `{w} AS (INSERT INTO notification_reads AS t (reader_id, notification_id, read_at, position)
             SELECT {u}.reader_id, n.id::uuid, {u}.at, {u}.pos FROM {u} CROSS JOIN jsonb_array_elements_text({u}.ids) AS n(id)
             ON CONFLICT (reader_id, notification_id) DO NOTHING RETURNING t.notification_id)`,
  ),
};

/** The read tables each event type's statement writes (from its SQL: INSERT INTO, UPDATE, DELETE FROM; not ON CONFLICT's DO UPDATE), for the response cache's invalidation. */
export const TABLES_WRITTEN: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(S).map(([type, statement]) => [
    type,
    [...new Set([...statement.text.matchAll(/\b(?:insert\s+into|(?<!\bdo\s+)update|delete\s+from)\s+([a-z_][a-z0-9_]*)/gi)].map((m) => m[1].toLowerCase()))],
  ]),
);

/** Events the fused single statement does not take (they need the transaction id, or are rare): the transaction path projects them. */
const NOT_FUSED = new Set<string>(['NotificationRaised', 'NotificationsRead']);

/** The statement and parameters that apply one event to the read tables. */
function statementFor(event: RecordedEvent<WorkforceEvent>): [keyof typeof S, unknown[]] {
  const e = event as unknown as WorkforceEvent;
  const v = event.streamVersion;
  const at = event.occurredAt;
  const pos = event.globalPosition;
  const recordedFor = event.metadata?.companyId ?? null;
  switch (e.type) {
    case 'CompanyRegistered':
      return [e.type, [e.data.companyId, v, at, e.data.name, e.data.taxRut, e.data.status, pos]];
    case 'OfferingCreated':
      return [e.type, [e.data.offeringId, e.data.code, e.data.name, e.data.description, pos, at]];
    case 'SubscriptionStarted': {
      const d = e.data;
      return [e.type, [d.companyId, v, at, d.subscriptionId, d.offeringId, d.seats, d.startsOn, d.endsOn, pos]];
    }
    case 'SubscriptionCancelled':
      return [e.type, [e.data.companyId, v, at, e.data.subscriptionId, e.data.cancelledOn, e.data.reason]];
    case 'ProfileHired': {
      // A v1 event has no seat fields: null, no notice.
      const d = e.data;
      return [e.type, [
        d.companyId, v, at, d.profileId, d.position, d.startedOn, pos, event.eventId, event.transactionId,
        d.seatsInForce ?? null, d.activeProfiles ?? null, d.seatsRunningOutSubscriptionId ?? null,
      ]];
    }
    case 'SupervisorSet':
      return [e.type, [e.data.companyId, v, at, e.data.profileId, e.data.supervisorId]];
    case 'EmploymentEnded':
      return [e.type, [e.data.companyId, v, at, e.data.profileId, e.data.endedOn]];
    case 'ProjectCreated': {
      const d = e.data;
      return [e.type, [d.projectId, v, at, d.companyId, d.name, d.faenaCode, d.location, d.startsOn, d.endsOn, pos]];
    }
    case 'ProjectClosed':
      return [e.type, [e.data.projectId, v, at, e.data.closedOn]];
    case 'AssignmentCreated': {
      const d = e.data;
      return [e.type, [d.projectId, v, at, d.assignmentId, d.companyId, d.name, d.startsOn, d.endsOn, pos]];
    }
    case 'ProfileAssigned':
      return [e.type, [e.data.projectId, v, at, e.data.assignmentId, e.data.profileId, pos, event.eventId, event.transactionId]];
    case 'ProfileUnassigned':
      return [e.type, [e.data.projectId, v, at, e.data.assignmentId, e.data.profileId]];
    case 'ProfileCreated': {
      const d = e.data;
      return [e.type, [d.profileId, v, at, d.rut, d.firstName, d.lastName, d.email, d.phone, d.birthDate, d.createdBy, recordedFor, pos]];
    }
    case 'ProfileUpdated': {
      const d = e.data;
      return [e.type, [d.profileId, v, at, d.firstName, d.lastName, d.email, d.phone, d.birthDate, recordedFor, pos]];
    }
    case 'LicenseGranted': {
      const d = e.data;
      return [e.type, [d.profileId, v, at, d.licenseId, d.type, d.number, d.issuedOn, d.expiresOn, pos]];
    }
    case 'LicenseRenewed':
      return [e.type, [e.data.profileId, v, at, e.data.licenseId, e.data.expiresOn]];
    case 'LicenseRevoked':
      return [e.type, [e.data.profileId, v, at, e.data.licenseId, e.data.revokedOn, e.data.reason]];
    case 'NotificationRaised': {
      const d = e.data;
      return [e.type, [
        d.notificationId, v, at, d.kind, d.title, d.body, d.subjectType, d.subjectId, JSON.stringify(d.audience), d.sourceEventId, event.transactionId, pos,
      ]];
    }
    case 'NotificationsRead':
      return [e.type, [e.data.readerId, JSON.stringify(e.data.notificationIds), at, pos]];
  }
}

/**
 * Applies events to the read tables in the caller's transaction. `events` may hold several
 * streams (a batch of commands, a rebuild's page); each stream's events in order.
 * Returns the rows the events left behind, by `writtenKey`, so a mutation can answer
 * with what it wrote instead of reading it again.
 */
export async function projectWorkforce(tx: Queryable, events: RecordedEvent[]): Promise<WrittenRows> {
  const written: WrittenRows = new Map();
  // Round r holds the r-th event of every stream in the list.
  const rounds: RecordedEvent[][] = [];
  const seen = new Map<string, number>();
  for (const event of events) {
    const r = seen.get(event.streamId) ?? 0;
    seen.set(event.streamId, r + 1);
    (rounds[r] ??= []).push(event);
  }
  for (const round of rounds) {
    const byType = new Map<keyof typeof S, unknown[][]>();
    for (const event of round) {
      const [name, values] = statementFor(event as RecordedEvent<WorkforceEvent>);
      const rows = byType.get(name) ?? [];
      rows.push(values);
      byType.set(name, rows);
    }
    for (const [name, rows] of byType) {
      // Columns as arrays, one element per event.
      const statement = S[name];
      const result = await run(tx, statement, rows[0].map((_, c) => rows.map((row) => row[c] ?? null)));
      if (statement.returns) for (const row of result.rows) written.set(writtenKey(statement.returns, row), row);
    }
  }
  return written;
}

/** What the append statement supplies to a fused projection instead of parameters. */
const FROM_APPENDED = new Set(['v', 'at', 'pos', 'recorded_for', 'event_id', 'tx']);

/** Read columns that are timestamps (`*_at`), by table: JSON brings them back as text. */
const TIMESTAMPS = Object.fromEntries(
  Object.entries(READ_COLUMNS).map(([table, columns]) => [
    table,
    columns
      .split(',')
      .map((c) => c.trim().match(/^(\w+)(?:\s+AS\s+"(\w+)")?$/))
      .filter((m): m is RegExpMatchArray => m !== null && m[1].endsWith('_at'))
      .map((m) => m[2] ?? m[1]),
  ]),
) as Record<ReadTable, string[]>;

/**
 * The projection fused into the append statement (platform/event-store/postgres.ts): a
 * batch with one event per stream becomes one statement, atomic on its own, instead of
 * BEGIN, append, projection and COMMIT. Several events of one stream need rounds: null.
 */
export const fusedWorkforceProjection: FusedProjection = {
  plan(events, firstParam) {
    const streams = new Set<string>();
    const byType = new Map<keyof typeof S, { eventId: string; values: unknown[] }[]>();
    for (const e of events) {
      if (streams.has(e.streamId) || NOT_FUSED.has(e.type)) return null;
      streams.add(e.streamId);
      const [name, values] = statementFor({ type: e.type, data: e.data } as RecordedEvent<WorkforceEvent>);
      const rows = byType.get(name) ?? [];
      rows.push({ eventId: e.eventId, values });
      byType.set(name, rows);
    }
    let param = firstParam;
    const ctes: string[] = [];
    const params: unknown[] = [];
    const tables: Record<string, ReadTable> = {};
    // (NOT_FUSED events never get here: every statement below returns a read table.)
    // In a fixed order, so a mix of types is one statement whatever order its events came in.
    const groups = [...byType].sort(([a], [b]) => a.localeCompare(b));
    groups.forEach(([name, rows], i) => {
      const statement = S[name];
      const kept = statement.columns.map((c, at) => ({ c, at })).filter(({ c }) => !FROM_APPENDED.has(c.split(' ')[0]));
      const columns = ['event_id uuid', ...kept.map(({ c }) => c)];
      const unnest = `unnest(${columns.map((c, k) => `$${param + k}::${c.split(' ')[1]}[]`).join(', ')}) AS x(${columns.map((c) => c.split(' ')[0]).join(', ')})`;
      param += columns.length;
      params.push(rows.map((r) => r.eventId), ...kept.map(({ at }) => rows.map((r) => r.values[at] ?? null)));
      // The recording company, from the metadata the event is stored with (the append's
      // `input` rows: the fused plan is not handed the metadata itself).
      const recordedFor = statement.columns.includes('recorded_for uuid')
        ? { column: `, (i.meta ->> 'companyId')::uuid AS recorded_for`, join: ' JOIN input i ON i.id = x.event_id' }
        : { column: '', join: '' };
      ctes.push(
        // Milliseconds, as the event's time is everywhere else it reaches a read table
        // (a JavaScript Date): a rebuild reproduces the same rows.
        `u_${i} AS (SELECT x.*, a.stream_version AS v, date_trunc('milliseconds', a.occurred_at) AS at, a.global_position AS pos,
                           a.transaction_id::xid8 AS tx${recordedFor.column}
                    FROM ${unnest} JOIN appended a ON a.event_id = x.event_id${recordedFor.join})`,
        fill(statement.ctes, `_${i}`),
      );
      tables[`w_${i}`] = statement.returns!;
    });
    return {
      key: groups.map(([name]) => name).join('+'),
      ctes: ctes.join(',\n'),
      params,
      outputs: Object.keys(tables),
      written(outputs) {
        const written: WrittenRows = new Map();
        for (const [output, table] of Object.entries(tables)) {
          for (const row of (outputs[output] ?? []) as Record<string, unknown>[]) {
            for (const field of TIMESTAMPS[table]) if (typeof row[field] === 'string') row[field] = new Date(row[field] as string);
            written.set(writtenKey(table, row), row);
          }
        }
        return written;
      },
    };
  },
};
