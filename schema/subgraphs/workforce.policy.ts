import type { Role } from '../../platform/auth/identity.ts';

/**
 * Who may do what in the Workforce subgraph, declared beside its SDL.
 *
 * Rows: ADMIN sees every company's data; a MANAGER sees their own company's (its
 * projects and assignments, the profiles it employs or employed, their licences); a WORKER
 * sees their own profile, employments, assignments (and those projects), licences.
 * Anything else is absent from lists and null (or FORBIDDEN) when asked for by id. Lists
 * apply these rules in SQL before a page is cut (subgraphs/workforce/store/visible-rows.ts),
 * lookups by id on the row in hand (subgraphs/workforce/authorization.ts).
 *
 * A worker may work for several companies, so a profile is shared, and what each company
 * records about the person is not:
 * - Identity (id, RUT, first/last/full name, version) is shared by every company that
 *   employs or employed the person, and so are their licences (qualifications a hiring
 *   company needs to see).
 * - Personal data (PERSONAL_FIELDS) is held per company. Profile commands a MANAGER runs
 *   are recorded under their company (the events' metadata.companyId); an ADMIN's under
 *   none. A MANAGER's `updateProfile` changes their company's record (fields left out keep
 *   that record's values, never another company's); `createProfile` starts it.
 * - A MANAGER sees their company's record, while the person works for the company (a former
 *   employer sees the profile, not these). A company never sees what another recorded, nor
 *   what an ADMIN recorded (an ADMIN's change starts from values companies recorded).
 * - ADMINs and the person see each field as most recently recorded by anyone: a company's
 *   change of that field, or an ADMIN's change (which records every field). An ADMIN's
 *   `updateProfile` starts from those values; `createProfile` by an ADMIN records under none.
 * - `createdBy` is seen by ADMINs, the person, and managers of the company it was created under.
 * - Audit trails: ADMINs read every entry; the person every entry about their profile and
 *   licences; a MANAGER the entries recorded under their company, plus those under no
 *   company that carry no personal data (an ADMIN's licence change, say). Never another
 *   company's: a hire shares no history.
 * - Hiring: a MANAGER hiring someone their company never employed must give the person's
 *   RUT (`HireProfileInput.rut`, any spelling): knowing an id is no proof of knowing the
 *   person. Without it, or with a RUT that is not the profile's, the answer is the same
 *   NOT_FOUND as for an unknown id, and nothing is written. A RUT given by anyone must match.
 */

/** Mutations and the roles that may call them; MANAGERs only within their own company. */
export const MUTATION_ROLES: Record<string, readonly Role[]> = {
  registerCompany: ['ADMIN'],
  createOffering: ['ADMIN'],
  subscribe: ['ADMIN'],
  cancelSubscription: ['ADMIN'],
  createProject: ['ADMIN', 'MANAGER'],
  closeProject: ['ADMIN', 'MANAGER'],
  createAssignment: ['ADMIN', 'MANAGER'],
  createProfile: ['ADMIN', 'MANAGER'],
  updateProfile: ['ADMIN', 'MANAGER'],
  hireProfile: ['ADMIN', 'MANAGER'],
  endEmployment: ['ADMIN', 'MANAGER'],
  setSupervisor: ['ADMIN', 'MANAGER'],
  assignProfile: ['ADMIN', 'MANAGER'],
  unassignProfile: ['ADMIN', 'MANAGER'],
  grantLicense: ['ADMIN', 'MANAGER'],
  renewLicense: ['ADMIN', 'MANAGER'],
  revokeLicense: ['ADMIN', 'MANAGER'],
  // Notifications: each reader marks only their own (someone else's is NOT_FOUND).
  markNotificationRead: ['ADMIN', 'MANAGER', 'WORKER'],
  markAllNotificationsRead: ['ADMIN', 'MANAGER', 'WORKER'],
  // Service identities only: an ADMIN whose userId starts with `system:` (another domain's relay).
  raiseNotification: ['ADMIN'],
};

/** Query fields some roles may not call at all (others are filtered by row visibility). */
export const QUERY_ROLES: Record<string, readonly Role[]> = {
  offerings: ['ADMIN', 'MANAGER'],
  subscriptions: ['ADMIN', 'MANAGER'],
};

/**
 * Personal fields, held per recording company (above): ADMINs and the person see the
 * latest values, a MANAGER of a company the person works for now that company's record.
 */
export const PERSONAL_FIELDS = {
  Profile: ['email', 'phone', 'birthDate'],
} as const satisfies Record<string, readonly string[]>;
