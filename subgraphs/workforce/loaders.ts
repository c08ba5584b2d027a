import DataLoader from 'dataloader';
import { byKey, groupedBy, perArgs } from '../../platform/graphql/loaders.ts';
import type { Page } from '../../platform/graphql/pagination.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import { postgresEventStore } from '../../platform/event-store/postgres.ts';
import type { RecordedEvent } from '../../platform/event-store/types.ts';
import { readModel, type LicenseFilter } from './store/read-model.ts';

/** Every Workforce read goes through these, created once per request. */
export function createLoaders(db: Db) {
  const q = db.pool;
  return {
    company: byKey((ids) => readModel.companies(q, ids), (r) => r.id),
    project: byKey((ids) => readModel.projects(q, ids), (r) => r.id),
    projectByFaenaCode: byKey((codes) => readModel.projectsByFaenaCode(q, codes), (r) => r.faenaCode),
    assignment: byKey((ids) => readModel.assignments(q, ids), (r) => r.id),
    profile: byKey((ids) => readModel.profiles(q, ids), (r) => r.id),
    profileByRut: byKey((ruts) => readModel.profilesByRut(q, ruts), (r) => r.rut),
    license: byKey((ids) => readModel.licenses(q, ids), (r) => r.id),
    offering: byKey((ids) => readModel.offerings(q, ids), (r) => r.id),
    subscription: byKey((ids) => readModel.subscriptions(q, ids), (r) => r.id),

    profileCompanies: perArgs((status: string | null) =>
      groupedBy((ids) => readModel.profileCompanies(q, ids, status), (r) => r.profileId),
    ),
    /** Reports of a supervisor, keyed `companyId:supervisorId`. */
    reports: new DataLoader<string, { profileId: string }[]>(async (keys) => {
      const rows = await readModel.reports(q, [...new Set(keys.map((k) => k.split(':')[1]))]);
      return keys.map((k) => rows.filter((r) => `${r.companyId}:${r.supervisorId}` === k));
    }),
    profileAssignmentsByProfile: perArgs((status: string) =>
      groupedBy((ids) => readModel.profileAssignmentsByProfile(q, ids, status), (r) => r.profileId),
    ),
    profileAssignmentsByAssignment: perArgs((status: string) =>
      groupedBy((ids) => readModel.profileAssignmentsByAssignment(q, ids, status), (r) => r.assignmentId),
    ),
    licensesByProfile: perArgs((f: LicenseFilter) => groupedBy((ids) => readModel.licensesByProfile(q, ids, f), (r) => r.profileId)),
    subscriptionsByCompany: groupedBy((ids) => readModel.subscriptionsByCompany(q, ids), (r) => r.companyId),
    activeCount: new DataLoader<string, number>(async (ids) => {
      const rows = await readModel.activeCounts(q, ids);
      return ids.map((id) => rows.find((r) => r.companyId === id)?.n ?? 0);
    }),
    projectsByCompany: perArgs((a: { page: Page; status: string | null }) =>
      groupedBy((ids) => readModel.projectsByCompany(q, ids, a.page, a.status), (r) => r.companyId),
    ),
    employeesByCompany: perArgs((a: { page: Page; status: string | null }) =>
      groupedBy((ids) => readModel.employeesByCompany(q, ids, a.page, a.status), (r) => r.companyId),
    ),
    assignmentsByProject: perArgs((page: Page) =>
      groupedBy((ids) => readModel.assignmentsByProject(q, ids, page), (r) => r.projectId),
    ),
    auditTrail: perArgs((page: Page) =>
      new DataLoader<string, RecordedEvent[]>(async (ids) => {
        const found = await postgresEventStore.readBySubjects(q, ids, page.afterPosition, page.limit + 1);
        return ids.map((id) => found.get(id) ?? []);
      }),
    ),
  };
}

export type WorkforceLoaders = ReturnType<typeof createLoaders>;
