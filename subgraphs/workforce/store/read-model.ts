import { keyed, prepared, run, type Queryable } from '../../../platform/postgres/pool.ts';
import type { Page } from '../../../platform/graphql/pagination.ts';
import { scopeParams, visible, type Scope } from './visible-rows.ts';

/**
 * Queries over the Workforce read tables. Every batch query takes an array of keys
 * (`= ANY($1)`) and every page query fetches `limit + 1` rows after a position, so the
 * number of statements per request does not grow with the rows returned. Lists take the
 * caller's Scope and return only rows it may see (visible-rows.ts), before any LIMIT.
 */

export interface CompanyRow { id: string; name: string; taxRut: string; status: string; version: number; position: number; createdAt: Date }
export interface ProjectRow {
  id: string; companyId: string; name: string; faenaCode: string; location: string | null; startsOn: string;
  endsOn: string | null; status: string; closedOn: string | null; version: number; position: number; createdAt: Date;
}
export interface AssignmentRow { id: string; projectId: string; companyId: string; name: string; startsOn: string; endsOn: string | null; position: number; createdAt: Date }
/** A profile; email, phone and birth date as most recently recorded by anyone (what ADMINs and the person see). */
export interface ProfileRow {
  id: string; rut: string; firstName: string; lastName: string; fullName: string; email: string | null; phone: string | null;
  birthDate: string | null; createdBy: string; createdFor: string | null; version: number; position: number; createdAt: Date; updatedAt: Date;
}
/** The personal data one company recorded about a profile. */
export interface PersonalDataRow { profileId: string; companyId: string; email: string | null; phone: string | null; birthDate: string | null }
export interface ProfileCompanyRow {
  profileId: string; companyId: string; jobTitle: string | null; supervisorId: string | null; startedOn: string;
  endedOn: string | null; status: string; position: number;
}
export interface ProfileAssignmentRow { profileId: string; assignmentId: string; projectId: string; status: string; assignedAt: Date; unassignedAt: Date | null; position: number }
export interface LicenseRow {
  id: string; profileId: string; type: string; number: string; issuedOn: string; expiresOn: string; revoked: boolean;
  revokedOn: string | null; position: number;
}
export interface OfferingRow { id: string; code: string; name: string; description: string | null; position: number }
export interface SubscriptionRow {
  id: string; companyId: string; offeringId: string; seats: number; startsOn: string; endsOn: string | null; status: string;
  cancelledOn: string | null; position: number;
}

const COMPANY = `id, name, tax_rut AS "taxRut", status, version, position, created_at AS "createdAt"`;
const PROJECT = `id, company_id AS "companyId", name, faena_code AS "faenaCode", location, starts_on AS "startsOn", ends_on AS "endsOn",
  status, closed_on AS "closedOn", version, position, created_at AS "createdAt"`;
const ASSIGNMENT = `id, project_id AS "projectId", company_id AS "companyId", name, starts_on AS "startsOn", ends_on AS "endsOn", position, created_at AS "createdAt"`;
const PROFILE = `id, rut, first_name AS "firstName", last_name AS "lastName", full_name AS "fullName", email, phone, birth_date AS "birthDate",
  created_by AS "createdBy", created_for AS "createdFor", version, position, created_at AS "createdAt", updated_at AS "updatedAt"`;
const PERSONAL_DATA = `profile_id AS "profileId", company_id AS "companyId", email, phone, birth_date AS "birthDate"`;
const PROFILE_COMPANY = `profile_id AS "profileId", company_id AS "companyId", job_title AS "jobTitle", supervisor_id AS "supervisorId",
  started_on AS "startedOn", ended_on AS "endedOn", status, position`;
const PROFILE_ASSIGNMENT = `profile_id AS "profileId", assignment_id AS "assignmentId", project_id AS "projectId", status,
  assigned_at AS "assignedAt", unassigned_at AS "unassignedAt", position`;
const LICENSE = `id, profile_id AS "profileId", type, number, issued_on AS "issuedOn", expires_on AS "expiresOn", revoked,
  revoked_on AS "revokedOn", position`;
const OFFERING = `id, code, name, description, position`;
const SUBSCRIPTION = `id, company_id AS "companyId", offering_id AS "offeringId", seats, starts_on AS "startsOn", ends_on AS "endsOn",
  status, cancelled_on AS "cancelledOn", position`;

/** The columns each read table is read with, for statements that return rows the same shape. */
export const READ_COLUMNS = {
  companies: COMPANY,
  projects: PROJECT,
  assignments: ASSIGNMENT,
  profiles: PROFILE,
  profile_companies: PROFILE_COMPANY,
  profile_assignments: PROFILE_ASSIGNMENT,
  licenses: LICENSE,
  offerings: OFFERING,
  subscriptions: SUBSCRIPTION,
};
export type ReadTable = keyof typeof READ_COLUMNS;

/** How a row just written is found again: `table:key`, the key its loader uses. */
export function writtenKey(table: ReadTable, row: Record<string, unknown>): string {
  if (table === 'profile_companies') return `${table}:${row.profileId}@${row.companyId}`;
  if (table === 'profile_assignments') return `${table}:${row.profileId}@${row.assignmentId}`;
  return `${table}:${row.id}`;
}

/** Licence filter: `status` as of `today`, and/or expiring between today and `until`. */
export interface LicenseFilter {
  today: string;
  status: 'VALID' | 'EXPIRED' | 'REVOKED' | null;
  expiringUntil: string | null;
}
const LICENSE_FILTER = `
  AND ($2::text IS NULL
       OR ($2 = 'REVOKED' AND revoked)
       OR ($2 = 'EXPIRED' AND NOT revoked AND expires_on < $3::date)
       OR ($2 = 'VALID' AND NOT revoked AND expires_on >= $3::date))
  AND ($4::date IS NULL OR (NOT revoked AND expires_on >= $3::date AND expires_on <= $4::date))`;

const Q = {
  companies: keyed('wf_rm_companies', 'id', `SELECT ${COMPANY} FROM companies WHERE id = ANY($1::uuid[])`),
  projects: keyed('wf_rm_projects', 'id', `SELECT ${PROJECT} FROM projects WHERE id = ANY($1::uuid[])`),
  projectsByFaena: keyed('wf_rm_projects_by_faena', 'faenaCode', `SELECT ${PROJECT} FROM projects WHERE faena_code = ANY($1::text[])`),
  assignments: keyed('wf_rm_assignments', 'id', `SELECT ${ASSIGNMENT} FROM assignments WHERE id = ANY($1::uuid[])`),
  profiles: keyed('wf_rm_profiles', 'id', `SELECT ${PROFILE} FROM profiles WHERE id = ANY($1::uuid[])`),
  profilesByRut: keyed('wf_rm_profiles_by_rut', 'rut', `SELECT ${PROFILE} FROM profiles WHERE rut = ANY($1::text[])`),
  licenses: keyed('wf_rm_licenses', 'id', `SELECT ${LICENSE} FROM licenses WHERE id = ANY($1::uuid[])`),
  offerings: keyed('wf_rm_offerings', 'id', `SELECT ${OFFERING} FROM offerings WHERE id = ANY($1::uuid[])`),
  subscriptions: keyed('wf_rm_subscriptions', 'id', `SELECT ${SUBSCRIPTION} FROM subscriptions WHERE id = ANY($1::uuid[])`),
  allOfferings: prepared('wf_rm_all_offerings', `SELECT ${OFFERING} FROM offerings ORDER BY position`),
  profileCompanies: prepared(
    'wf_rm_profile_companies',
    `SELECT ${PROFILE_COMPANY} FROM profile_companies pc
     WHERE profile_id = ANY($1::uuid[]) AND ($2::text IS NULL OR status = $2) AND ${visible('profileCompany', 'pc', 3)} ORDER BY position`,
  ),
  reports: prepared(
    'wf_rm_reports',
    `SELECT ${PROFILE_COMPANY} FROM profile_companies pc
     WHERE supervisor_id = ANY($1::uuid[]) AND status = 'ACTIVE' AND ${visible('profileCompany', 'pc', 2)} ORDER BY position`,
  ),
  profileAssignmentsByProfile: prepared(
    'wf_rm_pa_by_profile',
    `SELECT ${PROFILE_ASSIGNMENT} FROM profile_assignments pa
     WHERE profile_id = ANY($1::uuid[]) AND status = $2 AND ${visible('profileAssignment', 'pa', 3)} ORDER BY position`,
  ),
  profileAssignmentsByAssignment: prepared(
    'wf_rm_pa_by_assignment',
    `SELECT ${PROFILE_ASSIGNMENT} FROM profile_assignments pa
     WHERE assignment_id = ANY($1::uuid[]) AND status = $2 AND ${visible('profileAssignment', 'pa', 3)} ORDER BY position`,
  ),
  licensesByProfile: prepared(
    'wf_rm_licenses_by_profile',
    `SELECT ${LICENSE} FROM licenses l WHERE profile_id = ANY($1::uuid[]) ${LICENSE_FILTER} AND ${visible('license', 'l', 5)}
     ORDER BY expires_on, position`,
  ),
  subscriptionsByCompany: prepared(
    'wf_rm_subscriptions_by_company',
    `SELECT ${SUBSCRIPTION} FROM subscriptions s WHERE company_id = ANY($1::uuid[]) AND ${visible('subscription', 's', 2)} ORDER BY position`,
  ),
  personalData: prepared(
    'wf_rm_personal_data',
    `SELECT ${PERSONAL_DATA} FROM profile_personal_data WHERE profile_id = ANY($1::uuid[]) AND company_id = $2`,
  ),
  activeCounts: keyed(
    'wf_rm_active_counts', 'companyId',
    `SELECT company_id AS "companyId", count(*)::int AS n FROM profile_companies
     WHERE company_id = ANY($1::uuid[]) AND status = 'ACTIVE' GROUP BY company_id`,
  ),
};

/**
 * Children of many parents, `limit + 1` per parent after a position, in one statement:
 * $1 parents, $2 after, $3 limit, with `byStatus` $4 a status (null: any), then the scope.
 * Rows the scope may not see are left out before the rows are counted.
 */
function pagedChildren(table: string, columns: string, parent: string, entity: 'project' | 'profileCompany' | 'assignment', byStatus: boolean): string {
  const status = byStatus ? 'AND ($4::text IS NULL OR status = $4)' : '';
  return `SELECT * FROM (
    SELECT ${columns}, row_number() OVER (PARTITION BY ${parent} ORDER BY position) AS rn
    FROM ${table} r WHERE ${parent} = ANY($1::uuid[]) AND position > $2 ${status} AND ${visible(entity, 'r', byStatus ? 5 : 4)}
  ) x WHERE rn <= $3 ORDER BY position`;
}

const P = {
  projectsByCompany: prepared('wf_rm_projects_by_company', pagedChildren('projects', PROJECT, 'company_id', 'project', true)),
  employeesByCompany: prepared('wf_rm_employees_by_company', pagedChildren('profile_companies', PROFILE_COMPANY, 'company_id', 'profileCompany', true)),
  assignmentsByProject: prepared('wf_rm_assignments_by_project', pagedChildren('assignments', ASSIGNMENT, 'project_id', 'assignment', false)),
};

type Keys = readonly string[];
const rows = async <T>(q: Queryable, stmt: Parameters<typeof run>[1], values: unknown[]) => (await run(q, stmt, values)).rows as T[];

export const readModel = {
  companies: (q: Queryable, ids: Keys) => rows<CompanyRow>(q, Q.companies, [ids]),
  projects: (q: Queryable, ids: Keys) => rows<ProjectRow>(q, Q.projects, [ids]),
  projectsByFaenaCode: (q: Queryable, codes: Keys) => rows<ProjectRow>(q, Q.projectsByFaena, [codes]),
  assignments: (q: Queryable, ids: Keys) => rows<AssignmentRow>(q, Q.assignments, [ids]),
  profiles: (q: Queryable, ids: Keys) => rows<ProfileRow>(q, Q.profiles, [ids]),
  profilesByRut: (q: Queryable, ruts: Keys) => rows<ProfileRow>(q, Q.profilesByRut, [ruts]),
  licenses: (q: Queryable, ids: Keys) => rows<LicenseRow>(q, Q.licenses, [ids]),
  offerings: (q: Queryable, ids: Keys) => rows<OfferingRow>(q, Q.offerings, [ids]),
  subscriptions: (q: Queryable, ids: Keys) => rows<SubscriptionRow>(q, Q.subscriptions, [ids]),
  allOfferings: (q: Queryable) => rows<OfferingRow>(q, Q.allOfferings, []),

  profileCompanies: (q: Queryable, profileIds: Keys, status: string | null, scope: Scope) =>
    rows<ProfileCompanyRow>(q, Q.profileCompanies, [profileIds, status, ...scopeParams(scope)]),
  reports: (q: Queryable, supervisorIds: Keys, scope: Scope) => rows<ProfileCompanyRow>(q, Q.reports, [supervisorIds, ...scopeParams(scope)]),
  profileAssignmentsByProfile: (q: Queryable, profileIds: Keys, status: string, scope: Scope) =>
    rows<ProfileAssignmentRow>(q, Q.profileAssignmentsByProfile, [profileIds, status, ...scopeParams(scope)]),
  profileAssignmentsByAssignment: (q: Queryable, assignmentIds: Keys, status: string, scope: Scope) =>
    rows<ProfileAssignmentRow>(q, Q.profileAssignmentsByAssignment, [assignmentIds, status, ...scopeParams(scope)]),
  licensesByProfile: (q: Queryable, profileIds: Keys, f: LicenseFilter, scope: Scope) =>
    rows<LicenseRow>(q, Q.licensesByProfile, [profileIds, f.status, f.today, f.expiringUntil, ...scopeParams(scope)]),
  subscriptionsByCompany: (q: Queryable, companyIds: Keys, scope: Scope) =>
    rows<SubscriptionRow>(q, Q.subscriptionsByCompany, [companyIds, ...scopeParams(scope)]),
  activeCounts: (q: Queryable, companyIds: Keys) => rows<{ companyId: string; n: number }>(q, Q.activeCounts, [companyIds]),
  /** What one company recorded about each of these profiles (none: no row). */
  personalData: (q: Queryable, profileIds: Keys, companyId: string) => rows<PersonalDataRow>(q, Q.personalData, [profileIds, companyId]),
  projectsByCompany: (q: Queryable, companyIds: Keys, page: Page, status: string | null, scope: Scope) =>
    rows<ProjectRow>(q, P.projectsByCompany, [companyIds, page.afterPosition, page.limit + 1, status, ...scopeParams(scope)]),
  employeesByCompany: (q: Queryable, companyIds: Keys, page: Page, status: string | null, scope: Scope) =>
    rows<ProfileCompanyRow>(q, P.employeesByCompany, [companyIds, page.afterPosition, page.limit + 1, status, ...scopeParams(scope)]),
  assignmentsByProject: (q: Queryable, projectIds: Keys, page: Page, scope: Scope) =>
    rows<AssignmentRow>(q, P.assignmentsByProject, [projectIds, page.afterPosition, page.limit + 1, ...scopeParams(scope)]),

  /** Top-level company list; `search` matches the name, ignoring case. */
  listCompanies: (q: Queryable, page: Page, search: string | null, scope: Scope) =>
    rows<CompanyRow>(
      q,
      `SELECT ${COMPANY} FROM companies c WHERE position > $1 AND ($3::text IS NULL OR name ILIKE '%' || $3 || '%' ESCAPE '\\')
         AND ${visible('company', 'c', 4)}
       ORDER BY position LIMIT $2`,
      [page.afterPosition, page.limit + 1, search, ...scopeParams(scope)],
    ),
  listProjects: (q: Queryable, page: Page, status: string | null, companyId: string | null, scope: Scope) =>
    rows<ProjectRow>(
      q,
      `SELECT ${PROJECT} FROM projects p WHERE position > $1 AND ($3::text IS NULL OR status = $3) AND ($4::uuid IS NULL OR company_id = $4)
         AND ${visible('project', 'p', 5)}
       ORDER BY position LIMIT $2`,
      [page.afterPosition, page.limit + 1, status, companyId, ...scopeParams(scope)],
    ),
  /** Profiles by name fragment and/or employer (who works there now). */
  listProfiles: (q: Queryable, page: Page, search: string | null, companyId: string | null, scope: Scope) =>
    rows<ProfileRow>(
      q,
      `SELECT ${PROFILE} FROM profiles p WHERE position > $1
         AND ($3::text IS NULL OR full_name ILIKE '%' || $3 || '%' ESCAPE '\\')
         AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM profile_companies pc WHERE pc.profile_id = p.id AND pc.company_id = $4 AND pc.status = 'ACTIVE'))
         AND ${visible('profile', 'p', 5)}
       ORDER BY position LIMIT $2`,
      [page.afterPosition, page.limit + 1, search, companyId, ...scopeParams(scope)],
    ),
  listLicenses: (q: Queryable, page: Page, f: LicenseFilter, companyId: string | null, scope: Scope) =>
    rows<LicenseRow>(
      q,
      `SELECT ${LICENSE} FROM licenses l WHERE position > $1 ${LICENSE_FILTER.replaceAll('$2', '$5')}
         AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM profile_companies pc WHERE pc.profile_id = l.profile_id AND pc.company_id = $6 AND pc.status = 'ACTIVE'))
         AND ${visible('license', 'l', 7)}
       ORDER BY position LIMIT $2`,
      [page.afterPosition, page.limit + 1, f.today, f.expiringUntil, f.status, companyId, ...scopeParams(scope)],
    ),
  listSubscriptions: (q: Queryable, companyId: string | null) =>
    rows<SubscriptionRow>(q, `SELECT ${SUBSCRIPTION} FROM subscriptions WHERE ($1::uuid IS NULL OR company_id = $1) ORDER BY position`, [companyId]),

  profileCompany: async (q: Queryable, profileId: string, companyId: string) =>
    (await rows<ProfileCompanyRow>(q, `SELECT ${PROFILE_COMPANY} FROM profile_companies WHERE profile_id = $1 AND company_id = $2`, [profileId, companyId]))[0] ?? null,
  profileAssignment: async (q: Queryable, assignmentId: string, profileId: string) =>
    (await rows<ProfileAssignmentRow>(q, `SELECT ${PROFILE_ASSIGNMENT} FROM profile_assignments WHERE assignment_id = $1 AND profile_id = $2`, [assignmentId, profileId]))[0] ?? null,

  /** Facts commands read inside their transaction. */
  exists: async (q: Queryable, table: 'companies' | 'offerings' | 'profiles', id: string) =>
    (await run(q, `SELECT 1 FROM ${table} WHERE id = $1`, [id])).rowCount === 1,
  /** A profile's RUT, or null when there is no such profile. */
  rutOf: async (q: Queryable, profileId: string): Promise<string | null> =>
    (await run<{ rut: string }>(q, `SELECT rut FROM profiles WHERE id = $1`, [profileId])).rows[0]?.rut ?? null,
  worksFor: async (q: Queryable, profileId: string, companyId: string) =>
    (await run(q, `SELECT 1 FROM profile_companies WHERE profile_id = $1 AND company_id = $2 AND status = 'ACTIVE'`, [profileId, companyId]))
      .rowCount === 1,
  ownerOf: async (q: Queryable, table: 'subscriptions' | 'assignments' | 'licenses', id: string): Promise<string | null> => {
    const column = { subscriptions: 'company_id', assignments: 'project_id', licenses: 'profile_id' }[table];
    const { rows: r } = await run<{ owner: string }>(q, `SELECT ${column} AS owner FROM ${table} WHERE id = $1`, [id]);
    return r[0]?.owner ?? null;
  },
};
