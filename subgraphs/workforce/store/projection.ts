import type { Queryable } from '../../../platform/postgres/pool.ts';
import { prepared, run } from '../../../platform/postgres/pool.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';

/**
 * The inline projection: Workforce events -> read tables. One prepared statement per
 * event (an aggregate's `version` bump rides in the same statement as a CTE).
 * Uses only what the event carries (positions, versions, occurred_at), never now(),
 * so a rebuild reproduces every row exactly.
 */

const bumpCompany = `UPDATE companies SET version = $2, updated_at = $3 WHERE id = $1`;
const bumpProject = `UPDATE projects SET version = $2, updated_at = $3 WHERE id = $1`;
const bumpProfile = `UPDATE profiles SET version = $2, updated_at = $3 WHERE id = $1`;

const S = {
  CompanyRegistered: prepared(
    'wf_company_registered',
    `INSERT INTO companies (id, version, updated_at, name, tax_rut, status, position, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $3)`,
  ),
  OfferingCreated: prepared(
    'wf_offering_created',
    `INSERT INTO offerings (id, code, name, description, position, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
  ),
  SubscriptionStarted: prepared(
    'wf_subscription_started',
    `WITH s AS (INSERT INTO subscriptions (id, company_id, offering_id, seats, starts_on, ends_on, status, position, created_at, updated_at)
                VALUES ($4, $1, $5, $6, $7, $8, 'ACTIVE', $9, $3, $3))
     ${bumpCompany}`,
  ),
  SubscriptionCancelled: prepared(
    'wf_subscription_cancelled',
    `WITH s AS (UPDATE subscriptions SET status = 'CANCELLED', cancelled_on = $5, cancel_reason = $6, updated_at = $3 WHERE id = $4)
     ${bumpCompany}`,
  ),
  ProfileHired: prepared(
    'wf_profile_hired',
    `WITH h AS (INSERT INTO profile_companies (profile_id, company_id, job_title, supervisor_id, started_on, ended_on, status, position, updated_at)
                VALUES ($4, $1, $5, NULL, $6, NULL, 'ACTIVE', $7, $3)
                ON CONFLICT (profile_id, company_id) DO UPDATE
                SET job_title = EXCLUDED.job_title, supervisor_id = NULL, started_on = EXCLUDED.started_on,
                    ended_on = NULL, status = 'ACTIVE', updated_at = EXCLUDED.updated_at)
     ${bumpCompany}`,
  ),
  SupervisorSet: prepared(
    'wf_supervisor_set',
    `WITH s AS (UPDATE profile_companies SET supervisor_id = $5, updated_at = $3 WHERE company_id = $1 AND profile_id = $4)
     ${bumpCompany}`,
  ),
  EmploymentEnded: prepared(
    'wf_employment_ended',
    `WITH e AS (UPDATE profile_companies SET status = 'ENDED', ended_on = $5, supervisor_id = NULL, updated_at = $3
                WHERE company_id = $1 AND profile_id = $4),
          r AS (UPDATE profile_companies SET supervisor_id = NULL, updated_at = $3
                WHERE company_id = $1 AND supervisor_id = $4 AND profile_id <> $4)
     ${bumpCompany}`,
  ),
  ProjectCreated: prepared(
    'wf_project_created',
    `INSERT INTO projects (id, version, updated_at, company_id, name, faena_code, location, starts_on, ends_on, status, position, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'ACTIVE', $10, $3)`,
  ),
  ProjectClosed: prepared(
    'wf_project_closed',
    `UPDATE projects SET status = 'CLOSED', closed_on = $4, version = $2, updated_at = $3 WHERE id = $1`,
  ),
  AssignmentCreated: prepared(
    'wf_assignment_created',
    `WITH a AS (INSERT INTO assignments (id, project_id, company_id, name, starts_on, ends_on, position, created_at)
                VALUES ($4, $1, $5, $6, $7, $8, $9, $3))
     ${bumpProject}`,
  ),
  ProfileAssigned: prepared(
    'wf_profile_assigned',
    `WITH a AS (INSERT INTO profile_assignments (profile_id, assignment_id, project_id, status, assigned_at, unassigned_at, position)
                VALUES ($5, $4, $1, 'ASSIGNED', $3, NULL, $6)
                ON CONFLICT (assignment_id, profile_id) DO UPDATE
                SET status = 'ASSIGNED', assigned_at = EXCLUDED.assigned_at, unassigned_at = NULL)
     ${bumpProject}`,
  ),
  ProfileUnassigned: prepared(
    'wf_profile_unassigned',
    `WITH a AS (UPDATE profile_assignments SET status = 'UNASSIGNED', unassigned_at = $3 WHERE assignment_id = $4 AND profile_id = $5)
     ${bumpProject}`,
  ),
  ProfileCreated: prepared(
    'wf_profile_created',
    `INSERT INTO profiles (id, version, updated_at, rut, first_name, last_name, email, phone, birth_date, created_by, position, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $3)`,
  ),
  ProfileUpdated: prepared(
    'wf_profile_updated',
    `UPDATE profiles SET first_name = $4, last_name = $5, email = $6, phone = $7, birth_date = $8, version = $2, updated_at = $3 WHERE id = $1`,
  ),
  LicenseGranted: prepared(
    'wf_license_granted',
    `WITH l AS (INSERT INTO licenses (id, profile_id, type, number, issued_on, expires_on, position, created_at, updated_at)
                VALUES ($4, $1, $5, $6, $7, $8, $9, $3, $3))
     ${bumpProfile}`,
  ),
  LicenseRenewed: prepared(
    'wf_license_renewed',
    `WITH l AS (UPDATE licenses SET expires_on = $5, updated_at = $3 WHERE id = $4) ${bumpProfile}`,
  ),
  LicenseRevoked: prepared(
    'wf_license_revoked',
    `WITH l AS (UPDATE licenses SET revoked = true, revoked_on = $5, revoke_reason = $6, updated_at = $3 WHERE id = $4) ${bumpProfile}`,
  ),
};

/** The statement and parameters that apply one event to the read tables. */
function statementFor(event: RecordedEvent<WorkforceEvent>): [keyof typeof S, unknown[]] {
  const e = event as unknown as WorkforceEvent;
  const v = event.streamVersion;
  const at = event.occurredAt;
  const pos = event.globalPosition;
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
    case 'ProfileHired':
      return [e.type, [e.data.companyId, v, at, e.data.profileId, e.data.position, e.data.startedOn, pos]];
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
      return [e.type, [e.data.projectId, v, at, e.data.assignmentId, e.data.profileId, pos]];
    case 'ProfileUnassigned':
      return [e.type, [e.data.projectId, v, at, e.data.assignmentId, e.data.profileId]];
    case 'ProfileCreated': {
      const d = e.data;
      return [e.type, [d.profileId, v, at, d.rut, d.firstName, d.lastName, d.email, d.phone, d.birthDate, d.createdBy, pos]];
    }
    case 'ProfileUpdated': {
      const d = e.data;
      return [e.type, [d.profileId, v, at, d.firstName, d.lastName, d.email, d.phone, d.birthDate]];
    }
    case 'LicenseGranted': {
      const d = e.data;
      return [e.type, [d.profileId, v, at, d.licenseId, d.type, d.number, d.issuedOn, d.expiresOn, pos]];
    }
    case 'LicenseRenewed':
      return [e.type, [e.data.profileId, v, at, e.data.licenseId, e.data.expiresOn]];
    case 'LicenseRevoked':
      return [e.type, [e.data.profileId, v, at, e.data.licenseId, e.data.revokedOn, e.data.reason]];
  }
}

/** Applies events to the read tables in the caller's transaction. */
export async function projectWorkforce(tx: Queryable, events: RecordedEvent[]): Promise<void> {
  for (const event of events) {
    const [name, values] = statementFor(event as RecordedEvent<WorkforceEvent>);
    await run(tx, S[name], values);
  }
}
