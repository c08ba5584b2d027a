import type DataLoader from 'dataloader';
import type { Resolvers } from './generated/resolver-types.ts';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../platform/errors.ts';
import { PERSONAL_FIELDS } from '../../schema/subgraphs/workforce.policy.ts';
import * as input from '../../platform/domain/input.ts';
import type { RecordedEvent } from '../../platform/event-store/types.ts';
import type { RequestContext } from '../../platform/graphql/context.ts';
import { requireActor } from '../../platform/graphql/context.ts';
import { escapeLike } from '../../platform/postgres/like.ts';
import { requireAuthentication } from '../../platform/graphql/guard.ts';
import { auditEntryResolvers, auditTrailPage } from '../../platform/graphql/audit-trail.ts';
import { toConnection, toPage, type PageArgs } from '../../platform/graphql/pagination.ts';
import { DateScalar, DateTimeScalar, JSONScalar } from '../../platform/graphql/scalars.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import type { CommandContext, WorkforceCommands } from './commands.ts';
import { inForce } from './domain/company.ts';
import { normalizeRut } from '../../platform/domain/rut.ts';
import type { WorkforceLoaders } from './loaders.ts';
import {
  decodeNotificationCursor,
  encodeNotificationCursor,
  isDeliveryPrincipal,
  isServiceIdentity,
  notificationStore,
  type NotificationRow,
} from './store/notifications.ts';
import {
  readModel,
  type ReadTable,
  type AssignmentRow,
  type OfferingRow,
  type CompanyRow,
  type LicenseFilter,
  type LicenseRow,
  type ProfileAssignmentRow,
  type ProfileCompanyRow,
  type ProfileRow,
  type ProjectRow,
  type SubscriptionRow,
} from './store/read-model.ts';

/** Ids per NotificationsRead event when marking everything read. */
export const MARK_ALL_CHUNK = 500;

/** What Workforce resolvers get: the platform context plus this subgraph's loaders and commands. */
export interface WorkforceContext extends RequestContext {
  db: Db;
  loaders: WorkforceLoaders;
  commands: WorkforceCommands;
  /** The day read-time statuses are judged on (UTC). */
  today: string;
  /** Rows this request's commands wrote, by `writtenKey` (store/read-model.ts). */
  written: Map<string, unknown>;
}

type Ctx = WorkforceContext;

const MAX_EXPIRY_WINDOW_DAYS = 3650;

function commandContext(ctx: Ctx): CommandContext {
  return {
    actor: requireActor(ctx),
    correlationId: ctx.correlationId,
    today: ctx.today,
    companyId: ctx.loaders.visibility.managerOf,
    onWritten: (rows) => {
      for (const [key, row] of rows) ctx.written.set(key, row);
    },
  };
}

function optionalSearch(value: unknown): string | null {
  const s = input.optionalText(value, 'search', 100);
  return s === null ? null : escapeLike(s);
}

function optionalId(value: unknown, field: string): string | null {
  return value == null ? null : input.id(value, field);
}

function licenseFilter(args: { expiringWithinDays?: number | null; status?: string | null }, today: string): LicenseFilter {
  const days = args.expiringWithinDays;
  if (days != null) input.intInRange(days, 'expiringWithinDays', 0, MAX_EXPIRY_WINDOW_DAYS);
  return {
    today,
    status: (args.status as LicenseFilter['status']) ?? null,
    expiringUntil: days == null ? null : input.addDays(today, days as number),
  };
}

/** The raw loader of each entity a mutation answers with, and the read table behind it. */
const WRITTEN_TABLE = {
  company: 'companies',
  offering: 'offerings',
  subscription: 'subscriptions',
  project: 'projects',
  assignment: 'assignments',
  profile: 'profiles',
  license: 'licenses',
} as const satisfies Record<string, ReadTable>;

/**
 * The row a command in this request just wrote: as its projection returned it when it has
 * (no second read), else read again past the loader's cache; through the caller's
 * visibility unless `unfiltered`.
 */
interface WrittenRowTypes {
  company: CompanyRow;
  offering: OfferingRow;
  subscription: SubscriptionRow;
  project: ProjectRow;
  assignment: AssignmentRow;
  profile: ProfileRow;
  license: LicenseRow;
}

async function fresh<N extends keyof typeof WRITTEN_TABLE>(ctx: Ctx, name: N, id: string, entity: string, unfiltered = false): Promise<WrittenRowTypes[N]> {
  const loader = (unfiltered ? ctx.loaders.raw : ctx.loaders)[name] as DataLoader<string, unknown>;
  loader.clear(id);
  const row = ctx.written.get(`${WRITTEN_TABLE[name]}:${id}`);
  if (row !== undefined) (ctx.loaders.raw[name] as DataLoader<string, unknown>).clear(id).prime(id, row);
  const found = await loader.load(id);
  if (!found) throw new NotFoundError(entity, id);
  return found as WrittenRowTypes[N];
}

/**
 * A row a non-null field needs: its parent was visible, but the row it points to may not
 * be (or may be gone); that is NOT_FOUND for this field, not an internal error.
 */
async function present<T>(row: Promise<T | null>, entity: string, id: string): Promise<T> {
  const found = await row;
  if (found === null) throw new NotFoundError(entity, id);
  return found;
}

/** Days from `from` to `to` (ISO dates); remembered per pair: a response asks it of every licence, for one `from` (today). */
const daysApart = new Map<string, number>();
function daysBetween(from: string, to: string): number {
  const key = `${from}/${to}`;
  let days = daysApart.get(key);
  if (days === undefined) {
    days = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
    if (daysApart.size >= 10_000) daysApart.clear();
    daysApart.set(key, days);
  }
  return days;
}

type AuditedType = 'Company' | 'Project' | 'Assignment' | 'Profile' | 'License' | 'Subscription';

/** An entity's audit trail, if the caller may read it, with the entries they may see (a MANAGER: their company's). */
async function auditTrail(entity: { type: AuditedType; row: { id: string } }, args: PageArgs, ctx: Ctx) {
  toPage(args);
  if (!(await ctx.loaders.visibility.auditTrail(entity))) throw new ForbiddenError(`You may not read the audit trail of ${entity.type} ${entity.row.id}`);
  return auditTrailPage(ctx.loaders.auditTrail, entity.row.id, args, ctx.loaders.visibility.auditFilter());
}

/** Finds what kind of entity an id names, for the top-level audit trail. */
async function auditedEntity(id: string, ctx: Ctx): Promise<{ type: AuditedType; row: { id: string } } | null> {
  const raw = ctx.loaders.raw;
  const [company, project, assignment, profile, license, subscription] = await Promise.all([
    raw.company.load(id), raw.project.load(id), raw.assignment.load(id), raw.profile.load(id), raw.license.load(id), raw.subscription.load(id),
  ]);
  const found: [AuditedType, { id: string } | null][] = [
    ['Company', company], ['Project', project], ['Assignment', assignment], ['Profile', profile], ['License', license], ['Subscription', subscription],
  ];
  const hit = found.find(([, row]) => row !== null);
  return hit ? { type: hit[0], row: hit[1]! } : null;
}

export const resolvers = requireAuthentication({
  Date: DateScalar,
  DateTime: DateTimeScalar,
  JSON: JSONScalar,

  Query: {
    company: (_, a, ctx) => ctx.loaders.company.load(input.id(a.id, 'id')),
    companies: async (_, a, ctx) => {
      const page = toPage(a);
      return toConnection(await readModel.listCompanies(ctx.db.pool, page, optionalSearch(a.search), ctx.loaders.visibility.scope), page);
    },
    project: (_, a, ctx) => {
      if ((a.id == null) === (a.faenaCode == null)) throw new BadUserInputError('Give exactly one of id or faenaCode');
      if (a.id != null) return ctx.loaders.project.load(input.id(a.id, 'id'));
      return ctx.loaders.projectByFaenaCode.load(input.text(a.faenaCode, 'faenaCode', 32).toUpperCase());
    },
    projects: async (_, a, ctx) => {
      const page = toPage(a);
      const v = ctx.loaders.visibility;
      const companyId = v.confineToCompany(optionalId(a.companyId, 'companyId'));
      const rows = await readModel.listProjects(ctx.db.pool, page, (a.status as string) ?? null, companyId, v.scope);
      return toConnection(rows, page);
    },
    assignment: (_, a, ctx) => ctx.loaders.assignment.load(input.id(a.id, 'id')),
    profile: (_, a, ctx) => {
      if ((a.id == null) === (a.rut == null)) throw new BadUserInputError('Give exactly one of id or rut');
      if (a.id != null) return ctx.loaders.profile.load(input.id(a.id, 'id'));
      return ctx.loaders.profileByRut.load(normalizeRut(a.rut));
    },
    profiles: async (_, a, ctx) => {
      const page = toPage(a);
      const v = ctx.loaders.visibility;
      const companyId = v.confineToCompany(optionalId(a.companyId, 'companyId'));
      const rows = await readModel.listProfiles(ctx.db.pool, page, optionalSearch(a.search), companyId, v.scope);
      return toConnection(rows, page);
    },
    licenses: async (_, a, ctx) => {
      const page = toPage(a);
      const v = ctx.loaders.visibility;
      const companyId = v.confineToCompany(optionalId(a.companyId, 'companyId'));
      const rows = await readModel.listLicenses(ctx.db.pool, page, licenseFilter(a, ctx.today), companyId, v.scope);
      return toConnection(rows, page);
    },
    offerings: (_, _a, ctx) => {
      ctx.loaders.visibility.requireQuery('offerings');
      return readModel.allOfferings(ctx.db.pool);
    },
    subscriptions: async (_, a, ctx) => {
      ctx.loaders.visibility.requireQuery('subscriptions');
      const companyId = ctx.loaders.visibility.confineToCompany(optionalId(a.companyId, 'companyId'));
      const rows = await readModel.listSubscriptions(ctx.db.pool, companyId);
      return a.status ? rows.filter((r) => subscriptionStatus(r, ctx.today) === a.status) : rows;
    },
    auditTrail: async (_, a, ctx) => {
      const id = input.id(a.entityId, 'entityId');
      const entity = await auditedEntity(id, ctx);
      if (entity) return auditTrail(entity, a, ctx);
      // Other streams (offerings) and ids nothing happened to: only ADMINs read those.
      if (!ctx.loaders.visibility.all) throw new ForbiddenError(`You may not read the audit trail of ${id}`);
      return auditTrailPage(ctx.loaders.auditTrail, id, a, null);
    },
    notifications: async (_, a, ctx) => {
      // Newest first: the page's `after` cursor is the position to continue below.
      const page = toPage(a);
      const { entries, readerId } = ctx.loaders.reader;
      const unreadOnly = a.unreadOnly ?? false;
      const rows = await notificationStore.page(ctx.db.pool, entries, readerId, { beforePosition: page.afterPosition, limit: page.limit + 1, unreadOnly });
      return toConnection(rows, page);
    },
    unreadNotificationCount: (_, _a, ctx) => notificationStore.unreadCount(ctx.db.pool, ctx.loaders.reader.entries, ctx.loaders.reader.readerId),
    notification: (_, a, ctx) => ownNotification(ctx, input.id(a.id, 'id')),
    notificationFeed: async (_, a, ctx) => {
      const first = a.first ?? 100;
      input.intInRange(first, 'first', 1, MAX_FEED_PAGE);
      const after = a.after == null ? null : decodeNotificationCursor(a.after);
      // The delivery principal reads every notification with its whole audience; anyone else their own.
      const entries = isDeliveryPrincipal(requireIdentity(ctx)) ? null : ctx.loaders.reader.entries;
      const rows = await notificationStore.feed(ctx.db.pool, entries, ctx.loaders.reader.readerId, after, first + 1);
      const nodes = rows.slice(0, first);
      return { nodes, endCursor: nodes.length ? nodes[nodes.length - 1].cursor : (a.after ?? null), hasMore: rows.length > first };
    },
    notificationFeedHead: async (_, _a, ctx) => {
      // Only the delivery principal: anyone else's head would have to search their audience
      // over the whole table, and a client resumes from the last cursor it received anyway.
      if (!isDeliveryPrincipal(requireIdentity(ctx))) throw new ForbiddenError('Only the delivery principal reads the head of the notification feed');
      const head = await notificationStore.head(ctx.db.pool);
      return head ? encodeNotificationCursor(head) : null;
    },
  },

  Notification: {
    __resolveReference: (ref, ctx) => (input.isId(ref.id) ? ctx.loaders.notification.load(ref.id) : null),
    // Rows tagged with their type for NotificationSubject.__resolveType (the generated union type has no null in its promise).
    subject: (n, _a, ctx) => subjectOf(n, ctx) as Promise<never>,
  },

  NotificationSubject: {
    __resolveType: (subject) => (subject as unknown as { __typename: 'Profile' | 'Project' | 'License' | 'CompanySubscription' | 'Anomaly' }).__typename,
  },

  Company: {
    __resolveReference: (ref, ctx) => (input.isId(ref.id) ? ctx.loaders.company.load(ref.id) : null),
    projects: async (c, a, ctx) => {
      const page = toPage(a);
      return toConnection(await ctx.loaders.projectsByCompany({ page, status: (a.status as string) ?? null }).load(c.id), page);
    },
    employees: async (c, a, ctx) => {
      const page = toPage(a);
      return toConnection(await ctx.loaders.employeesByCompany({ page, status: (a.status as string) ?? null }).load(c.id), page);
    },
    subscriptions: async (c, a, ctx) => {
      const rows = await ctx.loaders.subscriptionsByCompany.load(c.id);
      return a.status ? rows.filter((r) => subscriptionStatus(r, ctx.today) === a.status) : rows;
    },
    seats: async (c, _a, ctx) =>
      (await ctx.loaders.subscriptionsByCompany.load(c.id))
        .filter((s) => inForce({ ...s, cancelled: s.status === 'CANCELLED' }, ctx.today))
        .reduce((sum, s) => sum + s.seats, 0),
    activeProfileCount: (c, _a, ctx) => ctx.loaders.activeCount.load(c.id),
    auditTrail: (c, a, ctx) => auditTrail({ type: 'Company', row: c }, a, ctx),
  },

  Project: {
    __resolveReference: (ref, ctx) => {
      if ('id' in ref) return input.isId(ref.id) ? ctx.loaders.project.load(ref.id) : null;
      return ctx.loaders.projectByFaenaCode.load(String(ref.faenaCode).toUpperCase());
    },
    company: (p, _a, ctx) => present(ctx.loaders.company.load(p.companyId), 'Company', p.companyId),
    assignments: async (p, a, ctx) => {
      const page = toPage(a);
      return toConnection(await ctx.loaders.assignmentsByProject(page).load(p.id), page);
    },
    auditTrail: (p, a, ctx) => auditTrail({ type: 'Project', row: p }, a, ctx),
  },

  Assignment: {
    __resolveReference: (ref, ctx) => (input.isId(ref.id) ? ctx.loaders.assignment.load(ref.id) : null),
    project: (a, _a, ctx) => present(ctx.loaders.project.load(a.projectId), 'Project', a.projectId),
    status: async (a, _a, ctx) => {
      const p = await ctx.loaders.project.load(a.projectId);
      return p?.status === 'ACTIVE' && (a.endsOn === null || a.endsOn >= ctx.today) ? 'ACTIVE' : 'ENDED';
    },
    profiles: (a, args, ctx) => ctx.loaders.profileAssignmentsByAssignment(args.status as string).load(a.id),
    auditTrail: (a, args, ctx) => auditTrail({ type: 'Assignment', row: a }, args, ctx),
  },

  ProfileAssignment: {
    profile: (pa, _a, ctx) => present(ctx.loaders.profile.load(pa.profileId), 'Profile', pa.profileId),
    assignment: (pa, _a, ctx) => present(ctx.loaders.assignment.load(pa.assignmentId), 'Assignment', pa.assignmentId),
  },

  Profile: {
    __resolveReference: (ref, ctx) => {
      if ('id' in ref) return input.isId(ref.id) ? ctx.loaders.profile.load(ref.id) : null;
      try {
        return ctx.loaders.profileByRut.load(normalizeRut(ref.rut));
      } catch {
        return null;
      }
    },
    createdBy: (p, _a, ctx) => (ctx.loaders.visibility.creator(p) ? { id: p.createdBy } : null),
    ...personalFields('Profile'),
    companies: (p, a, ctx) => ctx.loaders.profileCompanies((a.status as string) ?? null).load(p.id),
    assignments: (p, a, ctx) => ctx.loaders.profileAssignmentsByProfile(a.status as string).load(p.id),
    licenses: (p, a, ctx) => ctx.loaders.licensesByProfile(licenseFilter(a, ctx.today)).load(p.id),
    auditTrail: (p, a, ctx) => auditTrail({ type: 'Profile', row: p }, a, ctx),
  },

  ProfileCompany: {
    profile: (pc, _a, ctx) => present(ctx.loaders.profile.load(pc.profileId), 'Profile', pc.profileId),
    company: (pc, _a, ctx) => present(ctx.loaders.company.load(pc.companyId), 'Company', pc.companyId),
    position: (pc) => pc.jobTitle,
    supervisor: (pc, _a, ctx) => (pc.supervisorId ? ctx.loaders.profile.load(pc.supervisorId) : null),
    reports: async (pc, _a, ctx) => {
      const rows = await ctx.loaders.reports.load(`${pc.companyId}:${pc.profileId}`);
      return (await ctx.loaders.profile.loadMany(rows.map((r) => r.profileId))).filter((p): p is ProfileRow => p !== null && !(p instanceof Error));
    },
  },

  License: {
    __resolveReference: (ref, ctx) => (input.isId(ref.id) ? ctx.loaders.license.load(ref.id) : null),
    profile: (l, _a, ctx) => present(ctx.loaders.profile.load(l.profileId), 'Profile', l.profileId),
    status: (l, _a, ctx) => (l.revoked ? 'REVOKED' : l.expiresOn < ctx.today ? 'EXPIRED' : 'VALID'),
    expiresInDays: (l, _a, ctx) => daysBetween(ctx.today, l.expiresOn),
  },

  Offering: {
    __resolveReference: (ref, ctx) => (input.isId(ref.id) ? ctx.loaders.offering.load(ref.id) : null),
  },

  CompanySubscription: {
    __resolveReference: (ref, ctx) => (input.isId(ref.id) ? ctx.loaders.subscription.load(ref.id) : null),
    company: (s, _a, ctx) => present(ctx.loaders.company.load(s.companyId), 'Company', s.companyId),
    offering: (s, _a, ctx) => present(ctx.loaders.offering.load(s.offeringId), 'Offering', s.offeringId),
    status: (s, _a, ctx) => subscriptionStatus(s, ctx.today),
  },

  AuditEntry: auditEntryResolvers(),

  Mutation: {
    registerCompany: async (_, a, ctx) => {
      may(ctx, 'registerCompany');
      const id = await ctx.commands.registerCompany(commandContext(ctx), a.input);
      return fresh(ctx, 'company', id, 'Company');
    },
    createOffering: async (_, a, ctx) => {
      may(ctx, 'createOffering');
      const id = await ctx.commands.createOffering(commandContext(ctx), a.input);
      return fresh(ctx, 'offering', id, 'Offering');
    },
    subscribe: async (_, a, ctx) => {
      may(ctx, 'subscribe');
      const id = await ctx.commands.subscribe(commandContext(ctx), a.input, a.expectedVersion);
      return fresh(ctx, 'subscription', id, 'CompanySubscription');
    },
    cancelSubscription: async (_, a, ctx) => {
      may(ctx, 'cancelSubscription');
      const id = await ctx.commands.cancelSubscription(commandContext(ctx), a, a.expectedVersion);
      return fresh(ctx, 'subscription', id, 'CompanySubscription');
    },
    createProject: async (_, a, ctx) => {
      may(ctx, 'createProject', input.id(a.input.companyId, 'companyId'));
      const id = await ctx.commands.createProject(commandContext(ctx), a.input);
      return fresh(ctx, 'project', id, 'Project');
    },
    closeProject: async (_, a, ctx) => {
      may(ctx, 'closeProject', await companyOf(ctx, 'project', input.id(a.id, 'id')));
      const id = await ctx.commands.closeProject(commandContext(ctx), a, a.expectedVersion);
      return fresh(ctx, 'project', id, 'Project');
    },
    createAssignment: async (_, a, ctx) => {
      may(ctx, 'createAssignment', await companyOf(ctx, 'project', input.id(a.input.projectId, 'projectId')));
      const id = await ctx.commands.createAssignment(commandContext(ctx), a.input, a.expectedVersion);
      return fresh(ctx, 'assignment', id, 'Assignment');
    },
    createProfile: async (_, a, ctx) => {
      may(ctx, 'createProfile');
      const id = await ctx.commands.createProfile(commandContext(ctx), a.input);
      ctx.loaders.personalData.clear(id);
      // Nobody employs it yet: read it unfiltered, so the manager who created it gets it back.
      return fresh(ctx, 'profile', id, 'Profile', true);
    },
    updateProfile: async (_, a, ctx) => {
      await mayChangePerson(ctx, 'updateProfile', input.id(a.id, 'id'));
      const id = await ctx.commands.updateProfile(commandContext(ctx), { id: a.id, changes: a.input }, a.expectedVersion);
      ctx.loaders.personalData.clear(id);
      return fresh(ctx, 'profile', id, 'Profile');
    },
    hireProfile: async (_, a, ctx) => {
      may(ctx, 'hireProfile', input.id(a.input.companyId, 'companyId'));
      const strangerNeedsRut = ctx.loaders.visibility.managerOf !== null;
      return profileCompany(ctx, await ctx.commands.hireProfile(commandContext(ctx), a.input, a.expectedVersion, strangerNeedsRut));
    },
    endEmployment: async (_, a, ctx) => {
      may(ctx, 'endEmployment', input.id(a.companyId, 'companyId'));
      return profileCompany(ctx, await ctx.commands.endEmployment(commandContext(ctx), a, a.expectedVersion));
    },
    setSupervisor: async (_, a, ctx) => {
      may(ctx, 'setSupervisor', input.id(a.companyId, 'companyId'));
      return profileCompany(ctx, await ctx.commands.setSupervisor(commandContext(ctx), a, a.expectedVersion));
    },
    assignProfile: async (_, a, ctx) => {
      may(ctx, 'assignProfile', await companyOf(ctx, 'assignment', input.id(a.assignmentId, 'assignmentId')));
      return profileAssignment(ctx, await ctx.commands.assignProfile(commandContext(ctx), a, a.expectedVersion));
    },
    unassignProfile: async (_, a, ctx) => {
      may(ctx, 'unassignProfile', await companyOf(ctx, 'assignment', input.id(a.assignmentId, 'assignmentId')));
      return profileAssignment(ctx, await ctx.commands.unassignProfile(commandContext(ctx), a, a.expectedVersion));
    },
    grantLicense: async (_, a, ctx) => {
      await mayChangePerson(ctx, 'grantLicense', input.id(a.input.profileId, 'profileId'));
      const id = await ctx.commands.grantLicense(commandContext(ctx), a.input, a.expectedVersion);
      return fresh(ctx, 'license', id, 'License');
    },
    renewLicense: async (_, a, ctx) => {
      await mayChangePerson(ctx, 'renewLicense', await licenseHolder(ctx, input.id(a.id, 'id')));
      const id = await ctx.commands.renewLicense(commandContext(ctx), a, a.expectedVersion);
      return fresh(ctx, 'license', id, 'License');
    },
    revokeLicense: async (_, a, ctx) => {
      await mayChangePerson(ctx, 'revokeLicense', await licenseHolder(ctx, input.id(a.id, 'id')));
      const id = await ctx.commands.revokeLicense(commandContext(ctx), a, a.expectedVersion);
      return fresh(ctx, 'license', id, 'License');
    },
    markNotificationRead: async (_, a, ctx) => {
      may(ctx, 'markNotificationRead');
      const id = input.id(a.id, 'id');
      // Someone else's is NOT_FOUND, and nothing is written.
      await ownNotification(ctx, id);
      await ctx.commands.markNotificationsRead(commandContext(ctx), ctx.loaders.reader.readerId, [id]);
      ctx.loaders.notification.clear(id);
      return ownNotification(ctx, id);
    },
    markAllNotificationsRead: async (_, _a, ctx) => {
      may(ctx, 'markAllNotificationsRead');
      const { entries, readerId } = ctx.loaders.reader;
      // In chunks, each its own NotificationsRead event: an admin who never reads (everything
      // sent to "admins") must not produce one event of every id ever raised.
      let marked = 0;
      for (;;) {
        const unread = await notificationStore.unreadIds(ctx.db.pool, entries, readerId, MARK_ALL_CHUNK);
        if (unread.length === 0) return marked;
        const now = await ctx.commands.markNotificationsRead(commandContext(ctx), readerId, unread);
        marked += now;
        if (now === 0 || unread.length < MARK_ALL_CHUNK) return marked;
      }
    },
    raiseNotification: async (_, a, ctx) => {
      may(ctx, 'raiseNotification');
      if (!isServiceIdentity(requireIdentity(ctx))) throw new ForbiddenError('Only a service identity may raise notifications');
      const projectId = optionalId(a.input.projectId, 'projectId');
      let audience = ['admins'];
      if (projectId !== null) {
        const project = await ctx.loaders.raw.project.load(projectId);
        if (!project) throw new NotFoundError('Project', projectId);
        audience = [`managers:${project.companyId}`, 'admins'];
      }
      const id = await ctx.commands.raiseNotification(commandContext(ctx), a.input, audience);
      return ownNotification(ctx, id);
    },
  },
} satisfies Resolvers);

const MAX_FEED_PAGE = 1000;

function requireIdentity(ctx: Ctx) {
  requireActor(ctx);
  return ctx.identity!;
}

/** One of the caller's notifications, or NOT_FOUND (another's looks the same as none). */
async function ownNotification(ctx: Ctx, id: string): Promise<NotificationRow> {
  return present(ctx.loaders.notification.load(id), 'Notification', id);
}

/**
 * What a notification is about, through the caller's own visibility: null when they may
 * not see it (or it is gone). Safety's Anomaly is a reference its subgraph resolves.
 */
async function subjectOf(n: NotificationRow, ctx: Ctx) {
  const tagged = <T extends object>(row: T | null, __typename: string) => (row ? { ...row, __typename } : null);
  if (n.subjectType === 'Anomaly') return { id: n.subjectId, __typename: 'Anomaly' };
  if (!input.isId(n.subjectId)) return null;
  switch (n.subjectType) {
    case 'Profile':
      return tagged(await ctx.loaders.profile.load(n.subjectId), 'Profile');
    case 'Project':
      return tagged(await ctx.loaders.project.load(n.subjectId), 'Project');
    case 'License':
      return tagged(await ctx.loaders.license.load(n.subjectId), 'License');
    case 'CompanySubscription':
      return tagged(await ctx.loaders.subscription.load(n.subjectId), 'CompanySubscription');
    default:
      return null;
  }
}

/** Refuses a mutation the caller may not run (for a MANAGER: on another company's data). */
function may(ctx: Ctx, field: string, companyId?: string | null): void {
  ctx.loaders.visibility.requireMutation(field, companyId);
}

/** The company a project or assignment belongs to (null when it does not exist). */
async function companyOf(ctx: Ctx, kind: 'project' | 'assignment', id: string): Promise<string | null> {
  return (await ctx.loaders.raw[kind].load(id))?.companyId ?? null;
}

/** The profile holding a licence (the id itself when none does: the command then says NOT_FOUND). */
async function licenseHolder(ctx: Ctx, licenseId: string): Promise<string> {
  return (await ctx.loaders.raw.license.load(licenseId))?.profileId ?? licenseId;
}

/** Changes to a person: a MANAGER only for someone working for their company now. */
async function mayChangePerson(ctx: Ctx, field: string, profileId: string): Promise<void> {
  may(ctx, field);
  if (!(await ctx.loaders.visibility.activeInManagersCompany(profileId))) {
    throw new ForbiddenError(`A manager may only ${field} for people working for their company`);
  }
}

/**
 * Resolvers for a profile's personal fields (schema/subgraphs/workforce.policy.ts): the
 * latest values for ADMINs and the person, a manager's company's own record for that
 * manager while the person works for them, null for anyone else.
 */
function personalFields(type: 'Profile') {
  return Object.fromEntries(
    PERSONAL_FIELDS[type].map((field) => [
      field,
      async (row: ProfileRow, _a: unknown, ctx: Ctx) => {
        const source = await ctx.loaders.visibility.personalDataSource(row.id);
        if (source === 'latest') return row[field];
        if (source === 'company') return (await ctx.loaders.personalData.load(row.id))?.[field] ?? null;
        return null;
      },
    ]),
  );
}

function subscriptionStatus(s: SubscriptionRow, today: string): 'SCHEDULED' | 'ACTIVE' | 'CANCELLED' | 'EXPIRED' {
  if (s.status === 'CANCELLED') return 'CANCELLED';
  if (s.endsOn !== null && s.endsOn < today) return 'EXPIRED';
  return s.startsOn > today ? 'SCHEDULED' : 'ACTIVE';
}

async function profileCompany(ctx: Ctx, key: { companyId: string; profileId: string }) {
  const written = ctx.written.get(`profile_companies:${key.profileId}@${key.companyId}`) as ProfileCompanyRow | undefined;
  const row = written ?? (await readModel.profileCompany(ctx.db.pool, key.profileId, key.companyId));
  if (!row) throw new NotFoundError('ProfileCompany', `${key.profileId}@${key.companyId}`);
  return row;
}

async function profileAssignment(ctx: Ctx, key: { assignmentId: string; profileId: string }) {
  const written = ctx.written.get(`profile_assignments:${key.profileId}@${key.assignmentId}`) as ProfileAssignmentRow | undefined;
  const row = written ?? (await readModel.profileAssignment(ctx.db.pool, key.assignmentId, key.profileId));
  if (!row) throw new NotFoundError('ProfileAssignment', `${key.profileId}@${key.assignmentId}`);
  return row;
}
