import type { Role } from '../../platform/auth/identity.ts';

/**
 * Who may do what in the Workforce subgraph, declared beside its SDL.
 *
 * Rows: ADMIN sees every company's data; a MANAGER sees their own company's (its
 * projects and assignments, the profiles it employs or employed, their licences); a WORKER
 * sees their own profile, employments, assignments (and those projects), licences.
 * Anything else is absent from lists and null (or FORBIDDEN) when asked for by id.
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
};

/** Query fields some roles may not call at all (others are filtered by row visibility). */
export const QUERY_ROLES: Record<string, readonly Role[]> = {
  offerings: ['ADMIN', 'MANAGER'],
  subscriptions: ['ADMIN', 'MANAGER'],
};

/**
 * Personal fields shown only to ADMINs, the person themself, and MANAGERs of a company
 * the person works for now (a former employer still sees the profile, not these).
 */
export const PERSONAL_FIELDS: Record<string, readonly string[]> = {
  Profile: ['phone', 'birthDate'],
};
