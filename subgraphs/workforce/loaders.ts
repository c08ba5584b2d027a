import DataLoader from 'dataloader';
import { byKey, groupedBy, perArgs } from '../../platform/graphql/loaders.ts';
import type { Page } from '../../platform/graphql/pagination.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import { postgresEventStore } from '../../platform/event-store/postgres.ts';
import type { RecordedEvent } from '../../platform/event-store/types.ts';
import type { Identity } from '../../platform/auth/identity.ts';
import { Visibility } from './authorization.ts';
import { readModel, type LicenseFilter, type ProfileCompanyRow } from './store/read-model.ts';

/** The request's loaders without row filtering (what visibility checks themselves read). */
export function createRawLoaders(db: Db) {
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
    reports: new DataLoader<string, ProfileCompanyRow[]>(async (keys) => {
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

export type RawLoaders = ReturnType<typeof createRawLoaders>;

type Check<T> = (row: T) => Promise<boolean>;

/** A by-key loader that answers null for rows the caller may not see; clearing reaches the raw cache. */
function visibleByKey<T>(raw: DataLoader<string, T | null>, visible: Check<T>): DataLoader<string, T | null> {
  const loader = new DataLoader<string, T | null>(async (keys) => {
    const rows = await raw.loadMany(keys);
    return Promise.all(
      rows.map(async (r) => {
        if (r instanceof Error) return r;
        return r && (await visible(r)) ? r : null;
      }),
    );
  });
  const clear = loader.clear.bind(loader);
  loader.clear = (key: string) => {
    raw.clear(key);
    return clear(key);
  };
  return loader;
}

/** A list loader without the rows the caller may not see. */
function visibleGroups<T>(raw: DataLoader<string, T[]>, visible: Check<T>): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(async (keys) => {
    const groups = await raw.loadMany(keys);
    return Promise.all(
      groups.map(async (g) => {
        if (g instanceof Error) return g;
        const keep = await Promise.all(g.map(visible));
        return g.filter((_, i) => keep[i]);
      }),
    );
  });
}

/** Anonymous requests are refused before any read; should one slip through, it sees nothing. */
const NOBODY: Identity = { userId: 'anonymous', kind: 'profile', role: 'WORKER', companyId: null, profileId: null, sessionId: 'none' };

const visibleFamily = <A, T>(family: (a: A) => DataLoader<string, T[]>, visible: Check<T>) =>
  perArgs((a: A) => visibleGroups(family(a), visible));

/**
 * Every Workforce read goes through these, created once per request and filtered by what
 * the caller may see (schema/subgraphs/workforce.policy.ts): an entity reference, a nested
 * list and a lookup by id all pass the same rules.
 */
export function createLoaders(db: Db, identity: Identity | null) {
  const raw = createRawLoaders(db);
  const visibility = new Visibility(identity ?? NOBODY, raw);
  if (visibility.all) return { ...raw, raw, visibility };
  const v = visibility;
  return {
    ...raw,
    raw,
    visibility,
    company: visibleByKey(raw.company, (r) => v.company(r)),
    project: visibleByKey(raw.project, (r) => v.project(r)),
    projectByFaenaCode: visibleByKey(raw.projectByFaenaCode, (r) => v.project(r)),
    assignment: visibleByKey(raw.assignment, (r) => v.assignment(r)),
    profile: visibleByKey(raw.profile, (r) => v.profile(r)),
    profileByRut: visibleByKey(raw.profileByRut, (r) => v.profile(r)),
    license: visibleByKey(raw.license, (r) => v.license(r)),
    offering: visibleByKey(raw.offering, async () => visibility.identity.role !== 'WORKER'),
    subscription: visibleByKey(raw.subscription, (r) => v.subscription(r)),
    profileCompanies: visibleFamily(raw.profileCompanies, (r) => v.profileCompany(r)),
    reports: visibleGroups(raw.reports, (r) => v.profileCompany(r)),
    profileAssignmentsByProfile: visibleFamily(raw.profileAssignmentsByProfile, (r) => v.profileAssignment(r)),
    profileAssignmentsByAssignment: visibleFamily(raw.profileAssignmentsByAssignment, (r) => v.profileAssignment(r)),
    licensesByProfile: visibleFamily(raw.licensesByProfile, (r) => v.license(r)),
    subscriptionsByCompany: visibleGroups(raw.subscriptionsByCompany, (r) => v.subscription(r)),
    projectsByCompany: visibleFamily(raw.projectsByCompany, (r) => v.project(r)),
    employeesByCompany: visibleFamily(raw.employeesByCompany, (r) => v.profileCompany(r)),
    assignmentsByProject: visibleFamily(raw.assignmentsByProject, (r) => v.assignment(r)),
  };
}

export type WorkforceLoaders = ReturnType<typeof createLoaders>;
