import DataLoader from 'dataloader';
import { auditTrailLoaders } from '../../platform/graphql/audit-trail.ts';
import { byKey, groupedBy, perArgs } from '../../platform/graphql/loaders.ts';
import type { EventStore } from '../../platform/event-store/port.ts';
import type { Page } from '../../platform/graphql/pagination.ts';
import type { Db, Queryable } from '../../platform/postgres/pool.ts';
import type { RecordedEvent } from '../../platform/event-store/types.ts';
import type { Identity } from '../../platform/auth/identity.ts';
import { Visibility } from './authorization.ts';
import { readModel, type LicenseFilter, type PersonalDataRow, type ProfileCompanyRow } from './store/read-model.ts';
import { EVERYTHING, type Scope } from './store/visible-rows.ts';
import { audienceEntriesOf, notificationStore } from './store/notifications.ts';

/** Entities by key, unfiltered (each statement `keyed`: its rows for a key do not depend on the other keys). */
function keyLoaders(q: Queryable) {
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
    activeCount: new DataLoader<string, number>(async (ids) => {
      const rows = await readModel.activeCounts(q, ids);
      return ids.map((id) => rows.find((r) => r.companyId === id)?.n ?? 0);
    }),
  };
}

type KeyLoaders = ReturnType<typeof keyLoaders>;

/** Rows a list read (a projects or assignments page) also hands to the entity's by-id loader. */
function priming<T extends { id: string }>(loader: DataLoader<string, T | null>, fetch: Promise<T[]>): Promise<T[]> {
  return fetch.then((rows) => {
    for (const r of rows) loader.prime(r.id, r);
    return rows;
  });
}

/**
 * List fields, with only the rows `scope` may see: filtered in SQL, before a page is cut.
 * The project and assignment rows a page reads are primed into the unfiltered by-id loaders
 * (same columns), so e.g. an assignment's `status` (its project's) costs no second read.
 */
function listLoaders(q: Queryable, scope: Scope, keys: KeyLoaders) {
  return {
    profileCompanies: perArgs((status: string | null) =>
      groupedBy((ids) => readModel.profileCompanies(q, ids, status, scope), (r) => r.profileId),
    ),
    /** Reports of a supervisor, keyed `companyId:supervisorId`. */
    reports: new DataLoader<string, ProfileCompanyRow[]>(async (keys) => {
      const rows = await readModel.reports(q, [...new Set(keys.map((k) => k.split(':')[1]))], scope);
      return keys.map((k) => rows.filter((r) => `${r.companyId}:${r.supervisorId}` === k));
    }),
    profileAssignmentsByProfile: perArgs((status: string) =>
      groupedBy((ids) => readModel.profileAssignmentsByProfile(q, ids, status, scope), (r) => r.profileId),
    ),
    profileAssignmentsByAssignment: perArgs((status: string) =>
      groupedBy((ids) => readModel.profileAssignmentsByAssignment(q, ids, status, scope), (r) => r.assignmentId),
    ),
    licensesByProfile: perArgs((f: LicenseFilter) => groupedBy((ids) => readModel.licensesByProfile(q, ids, f, scope), (r) => r.profileId)),
    subscriptionsByCompany: groupedBy((ids) => readModel.subscriptionsByCompany(q, ids, scope), (r) => r.companyId),
    projectsByCompany: perArgs((a: { page: Page; status: string | null }) =>
      groupedBy((ids) => priming(keys.project, readModel.projectsByCompany(q, ids, a.page, a.status, scope)), (r) => r.companyId),
    ),
    employeesByCompany: perArgs((a: { page: Page; status: string | null }) =>
      groupedBy((ids) => readModel.employeesByCompany(q, ids, a.page, a.status, scope), (r) => r.companyId),
    ),
    assignmentsByProject: perArgs((page: Page) =>
      groupedBy((ids) => priming(keys.assignment, readModel.assignmentsByProject(q, ids, page, scope)), (r) => r.projectId),
    ),
  };
}

/** The request's loaders without row filtering (what visibility checks themselves read). */
export function createRawLoaders(db: Db) {
  // Concurrent requests' reads by key go to PostgreSQL together (Db.merged); byKey picks each its own rows.
  const keys = keyLoaders(db.merged);
  return { ...keys, ...listLoaders(db.pool, EVERYTHING, keys) };
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

/** Anonymous requests are refused before any read; should one slip through, it sees nothing. */
const NOBODY: Identity = { userId: 'anonymous', kind: 'profile', role: 'WORKER', companyId: null, profileId: null, sessionId: 'none' };

/** What a MANAGER's company recorded about each profile (null: nothing); for others, never read. */
function personalDataOf(q: Queryable, companyId: string | null): DataLoader<string, PersonalDataRow | null> {
  return byKey((ids) => (companyId ? readModel.personalData(q, ids, companyId) : Promise.resolve([])), (r) => r.profileId);
}

/**
 * Every Workforce read goes through these, created once per request and filtered by what
 * the caller may see (schema/subgraphs/workforce.policy.ts): lists in SQL (store/visible-rows.ts),
 * entity references and lookups by id row by row (authorization.ts).
 */
export function createLoaders(db: Db, identity: Identity | null, events: Pick<EventStore, 'readBySubjects'>) {
  const raw = createRawLoaders(db);
  const visibility = new Visibility(identity ?? NOBODY, raw);
  const personalData = personalDataOf(db.pool, visibility.scope.companyId);
  const auditTrail = auditTrailLoaders(events);
  // The caller's own notifications by id (null for anyone else's), with their read state.
  const reader = { entries: audienceEntriesOf(visibility.identity), readerId: visibility.identity.userId };
  const notification = byKey((ids: readonly string[]) => notificationStore.byIds(db.pool, reader.entries, reader.readerId, ids), (r) => r.id);
  if (visibility.all) return { ...raw, raw, visibility, personalData, auditTrail, reader, notification };
  const v = visibility;
  return {
    ...raw,
    ...listLoaders(db.pool, visibility.scope, raw),
    raw,
    visibility,
    personalData,
    auditTrail,
    reader,
    notification,
    company: visibleByKey(raw.company, (r) => v.company(r)),
    project: visibleByKey(raw.project, (r) => v.project(r)),
    projectByFaenaCode: visibleByKey(raw.projectByFaenaCode, (r) => v.project(r)),
    assignment: visibleByKey(raw.assignment, (r) => v.assignment(r)),
    profile: visibleByKey(raw.profile, (r) => v.profile(r)),
    profileByRut: visibleByKey(raw.profileByRut, (r) => v.profile(r)),
    license: visibleByKey(raw.license, (r) => v.license(r)),
    offering: visibleByKey(raw.offering, async () => visibility.identity.role !== 'WORKER'),
    subscription: visibleByKey(raw.subscription, (r) => v.subscription(r)),
  };
}

export type WorkforceLoaders = ReturnType<typeof createLoaders>;
