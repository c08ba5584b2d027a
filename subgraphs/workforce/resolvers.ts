import type DataLoader from 'dataloader';
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
  readModel,
  type ReadTable,
  type AssignmentRow,
  type CompanyRow,
  type LicenseFilter,
  type LicenseRow,
  type ProfileAssignmentRow,
  type ProfileCompanyRow,
  type ProfileRow,
  type ProjectRow,
  type SubscriptionRow,
} from './store/read-model.ts';

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

// Arguments arrive shaped by the schema and are checked again by the domain (input.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Args = any;
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

function licenseFilter(args: Args, today: string): LicenseFilter {
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
async function fresh(ctx: Ctx, name: keyof typeof WRITTEN_TABLE, id: string, entity: string, unfiltered = false): Promise<unknown> {
  const loader = (unfiltered ? ctx.loaders.raw : ctx.loaders)[name] as DataLoader<string, unknown>;
  loader.clear(id);
  const row = ctx.written.get(`${WRITTEN_TABLE[name]}:${id}`);
  if (row !== undefined) (ctx.loaders.raw[name] as DataLoader<string, unknown>).clear(id).prime(id, row);
  const found = await loader.load(id);
  if (!found) throw new NotFoundError(entity, id);
  return found;
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
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
    company: (_: unknown, a: Args, ctx: Ctx) => ctx.loaders.company.load(input.id(a.id, 'id')),
    companies: async (_: unknown, a: Args, ctx: Ctx) => {
      const page = toPage(a);
      return toConnection(await readModel.listCompanies(ctx.db.pool, page, optionalSearch(a.search), ctx.loaders.visibility.scope), page);
    },
    project: (_: unknown, a: Args, ctx: Ctx) => {
      if ((a.id == null) === (a.faenaCode == null)) throw new BadUserInputError('Give exactly one of id or faenaCode');
      if (a.id != null) return ctx.loaders.project.load(input.id(a.id, 'id'));
      return ctx.loaders.projectByFaenaCode.load(input.text(a.faenaCode, 'faenaCode', 32).toUpperCase());
    },
    projects: async (_: unknown, a: Args, ctx: Ctx) => {
      const page = toPage(a);
      const v = ctx.loaders.visibility;
      const companyId = v.confineToCompany(optionalId(a.companyId, 'companyId'));
      const rows = await readModel.listProjects(ctx.db.pool, page, (a.status as string) ?? null, companyId, v.scope);
      return toConnection(rows, page);
    },
    assignment: (_: unknown, a: Args, ctx: Ctx) => ctx.loaders.assignment.load(input.id(a.id, 'id')),
    profile: (_: unknown, a: Args, ctx: Ctx) => {
      if ((a.id == null) === (a.rut == null)) throw new BadUserInputError('Give exactly one of id or rut');
      if (a.id != null) return ctx.loaders.profile.load(input.id(a.id, 'id'));
      return ctx.loaders.profileByRut.load(normalizeRut(a.rut));
    },
    profiles: async (_: unknown, a: Args, ctx: Ctx) => {
      const page = toPage(a);
      const v = ctx.loaders.visibility;
      const companyId = v.confineToCompany(optionalId(a.companyId, 'companyId'));
      const rows = await readModel.listProfiles(ctx.db.pool, page, optionalSearch(a.search), companyId, v.scope);
      return toConnection(rows, page);
    },
    licenses: async (_: unknown, a: Args, ctx: Ctx) => {
      const page = toPage(a);
      const v = ctx.loaders.visibility;
      const companyId = v.confineToCompany(optionalId(a.companyId, 'companyId'));
      const rows = await readModel.listLicenses(ctx.db.pool, page, licenseFilter(a, ctx.today), companyId, v.scope);
      return toConnection(rows, page);
    },
    offerings: (_: unknown, _a: Args, ctx: Ctx) => {
      ctx.loaders.visibility.requireQuery('offerings');
      return readModel.allOfferings(ctx.db.pool);
    },
    subscriptions: async (_: unknown, a: Args, ctx: Ctx) => {
      ctx.loaders.visibility.requireQuery('subscriptions');
      const companyId = ctx.loaders.visibility.confineToCompany(optionalId(a.companyId, 'companyId'));
      const rows = await readModel.listSubscriptions(ctx.db.pool, companyId);
      return a.status ? rows.filter((r) => subscriptionStatus(r, ctx.today) === a.status) : rows;
    },
    auditTrail: async (_: unknown, a: Args, ctx: Ctx) => {
      const id = input.id(a.entityId, 'entityId');
      const entity = await auditedEntity(id, ctx);
      if (entity) return auditTrail(entity, a, ctx);
      // Other streams (offerings) and ids nothing happened to: only ADMINs read those.
      if (!ctx.loaders.visibility.all) throw new ForbiddenError(`You may not read the audit trail of ${id}`);
      return auditTrailPage(ctx.loaders.auditTrail, id, a, null);
    },
  },

  Company: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => (input.isId(ref.id) ? ctx.loaders.company.load(ref.id) : null),
    projects: async (c: CompanyRow, a: Args, ctx: Ctx) => {
      const page = toPage(a);
      return toConnection(await ctx.loaders.projectsByCompany({ page, status: (a.status as string) ?? null }).load(c.id), page);
    },
    employees: async (c: CompanyRow, a: Args, ctx: Ctx) => {
      const page = toPage(a);
      return toConnection(await ctx.loaders.employeesByCompany({ page, status: (a.status as string) ?? null }).load(c.id), page);
    },
    subscriptions: async (c: CompanyRow, a: Args, ctx: Ctx) => {
      const rows = await ctx.loaders.subscriptionsByCompany.load(c.id);
      return a.status ? rows.filter((r) => subscriptionStatus(r, ctx.today) === a.status) : rows;
    },
    seats: async (c: CompanyRow, _a: Args, ctx: Ctx) =>
      (await ctx.loaders.subscriptionsByCompany.load(c.id))
        .filter((s) => inForce({ ...s, cancelled: s.status === 'CANCELLED' }, ctx.today))
        .reduce((sum, s) => sum + s.seats, 0),
    activeProfileCount: (c: CompanyRow, _a: Args, ctx: Ctx) => ctx.loaders.activeCount.load(c.id),
    auditTrail: (c: CompanyRow, a: Args, ctx: Ctx) => auditTrail({ type: 'Company', row: c }, a, ctx),
  },

  Project: {
    __resolveReference: (ref: { id?: string; faenaCode?: string }, ctx: Ctx) => {
      if (ref.id !== undefined) return input.isId(ref.id) ? ctx.loaders.project.load(ref.id) : null;
      return ctx.loaders.projectByFaenaCode.load(String(ref.faenaCode).toUpperCase());
    },
    company: (p: ProjectRow, _a: Args, ctx: Ctx) => ctx.loaders.company.load(p.companyId),
    assignments: async (p: ProjectRow, a: Args, ctx: Ctx) => {
      const page = toPage(a);
      return toConnection(await ctx.loaders.assignmentsByProject(page).load(p.id), page);
    },
    auditTrail: (p: ProjectRow, a: Args, ctx: Ctx) => auditTrail({ type: 'Project', row: p }, a, ctx),
  },

  Assignment: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => (input.isId(ref.id) ? ctx.loaders.assignment.load(ref.id) : null),
    project: (a: AssignmentRow, _a: Args, ctx: Ctx) => ctx.loaders.project.load(a.projectId),
    status: async (a: AssignmentRow, _a: Args, ctx: Ctx) => {
      const p = await ctx.loaders.project.load(a.projectId);
      return p?.status === 'ACTIVE' && (a.endsOn === null || a.endsOn >= ctx.today) ? 'ACTIVE' : 'ENDED';
    },
    profiles: (a: AssignmentRow, args: Args, ctx: Ctx) => ctx.loaders.profileAssignmentsByAssignment(args.status as string).load(a.id),
    auditTrail: (a: AssignmentRow, args: Args, ctx: Ctx) => auditTrail({ type: 'Assignment', row: a }, args, ctx),
  },

  ProfileAssignment: {
    profile: (pa: ProfileAssignmentRow, _a: Args, ctx: Ctx) => ctx.loaders.profile.load(pa.profileId),
    assignment: (pa: ProfileAssignmentRow, _a: Args, ctx: Ctx) => ctx.loaders.assignment.load(pa.assignmentId),
  },

  Profile: {
    __resolveReference: (ref: { id?: string; rut?: string }, ctx: Ctx) => {
      if (ref.id !== undefined) return input.isId(ref.id) ? ctx.loaders.profile.load(ref.id) : null;
      try {
        return ctx.loaders.profileByRut.load(normalizeRut(ref.rut));
      } catch {
        return null;
      }
    },
    createdBy: (p: ProfileRow, _a: Args, ctx: Ctx) => (ctx.loaders.visibility.creator(p) ? { id: p.createdBy } : null),
    ...personalFields('Profile'),
    companies: (p: ProfileRow, a: Args, ctx: Ctx) => ctx.loaders.profileCompanies((a.status as string) ?? null).load(p.id),
    assignments: (p: ProfileRow, a: Args, ctx: Ctx) => ctx.loaders.profileAssignmentsByProfile(a.status as string).load(p.id),
    licenses: (p: ProfileRow, a: Args, ctx: Ctx) => ctx.loaders.licensesByProfile(licenseFilter(a, ctx.today)).load(p.id),
    auditTrail: (p: ProfileRow, a: Args, ctx: Ctx) => auditTrail({ type: 'Profile', row: p }, a, ctx),
  },

  ProfileCompany: {
    profile: (pc: ProfileCompanyRow, _a: Args, ctx: Ctx) => ctx.loaders.profile.load(pc.profileId),
    company: (pc: ProfileCompanyRow, _a: Args, ctx: Ctx) => ctx.loaders.company.load(pc.companyId),
    position: (pc: ProfileCompanyRow) => pc.jobTitle,
    supervisor: (pc: ProfileCompanyRow, _a: Args, ctx: Ctx) => (pc.supervisorId ? ctx.loaders.profile.load(pc.supervisorId) : null),
    reports: async (pc: ProfileCompanyRow, _a: Args, ctx: Ctx) => {
      const rows = await ctx.loaders.reports.load(`${pc.companyId}:${pc.profileId}`);
      return (await ctx.loaders.profile.loadMany(rows.map((r) => r.profileId))).filter((p) => p && !(p instanceof Error));
    },
  },

  License: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => (input.isId(ref.id) ? ctx.loaders.license.load(ref.id) : null),
    profile: (l: LicenseRow, _a: Args, ctx: Ctx) => ctx.loaders.profile.load(l.profileId),
    status: (l: LicenseRow, _a: Args, ctx: Ctx) => (l.revoked ? 'REVOKED' : l.expiresOn < ctx.today ? 'EXPIRED' : 'VALID'),
    expiresInDays: (l: LicenseRow, _a: Args, ctx: Ctx) => daysBetween(ctx.today, l.expiresOn),
  },

  Offering: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => (input.isId(ref.id) ? ctx.loaders.offering.load(ref.id) : null),
  },

  Subscription: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => (input.isId(ref.id) ? ctx.loaders.subscription.load(ref.id) : null),
    company: (s: SubscriptionRow, _a: Args, ctx: Ctx) => ctx.loaders.company.load(s.companyId),
    offering: (s: SubscriptionRow, _a: Args, ctx: Ctx) => ctx.loaders.offering.load(s.offeringId),
    status: (s: SubscriptionRow, _a: Args, ctx: Ctx) => subscriptionStatus(s, ctx.today),
  },

  AuditEntry: auditEntryResolvers(),

  Mutation: {
    registerCompany: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'registerCompany');
      const id = await ctx.commands.registerCompany(commandContext(ctx), a.input);
      return fresh(ctx, 'company', id, 'Company');
    },
    createOffering: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'createOffering');
      const id = await ctx.commands.createOffering(commandContext(ctx), a.input);
      return fresh(ctx, 'offering', id, 'Offering');
    },
    subscribe: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'subscribe');
      const id = await ctx.commands.subscribe(commandContext(ctx), a.input, a.expectedVersion);
      return fresh(ctx, 'subscription', id, 'Subscription');
    },
    cancelSubscription: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'cancelSubscription');
      const id = await ctx.commands.cancelSubscription(commandContext(ctx), a, a.expectedVersion);
      return fresh(ctx, 'subscription', id, 'Subscription');
    },
    createProject: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'createProject', input.id(a.input.companyId, 'companyId'));
      const id = await ctx.commands.createProject(commandContext(ctx), a.input);
      return fresh(ctx, 'project', id, 'Project');
    },
    closeProject: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'closeProject', await companyOf(ctx, 'project', input.id(a.id, 'id')));
      const id = await ctx.commands.closeProject(commandContext(ctx), a, a.expectedVersion);
      return fresh(ctx, 'project', id, 'Project');
    },
    createAssignment: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'createAssignment', await companyOf(ctx, 'project', input.id(a.input.projectId, 'projectId')));
      const id = await ctx.commands.createAssignment(commandContext(ctx), a.input, a.expectedVersion);
      return fresh(ctx, 'assignment', id, 'Assignment');
    },
    createProfile: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'createProfile');
      const id = await ctx.commands.createProfile(commandContext(ctx), a.input);
      ctx.loaders.personalData.clear(id);
      // Nobody employs it yet: read it unfiltered, so the manager who created it gets it back.
      return fresh(ctx, 'profile', id, 'Profile', true);
    },
    updateProfile: async (_: unknown, a: Args, ctx: Ctx) => {
      await mayChangePerson(ctx, 'updateProfile', input.id(a.id, 'id'));
      const id = await ctx.commands.updateProfile(commandContext(ctx), { id: a.id, changes: a.input }, a.expectedVersion);
      ctx.loaders.personalData.clear(id);
      return fresh(ctx, 'profile', id, 'Profile');
    },
    hireProfile: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'hireProfile', input.id(a.input.companyId, 'companyId'));
      const strangerNeedsRut = ctx.loaders.visibility.managerOf !== null;
      return profileCompany(ctx, await ctx.commands.hireProfile(commandContext(ctx), a.input, a.expectedVersion, strangerNeedsRut));
    },
    endEmployment: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'endEmployment', input.id(a.companyId, 'companyId'));
      return profileCompany(ctx, await ctx.commands.endEmployment(commandContext(ctx), a, a.expectedVersion));
    },
    setSupervisor: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'setSupervisor', input.id(a.companyId, 'companyId'));
      return profileCompany(ctx, await ctx.commands.setSupervisor(commandContext(ctx), a, a.expectedVersion));
    },
    assignProfile: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'assignProfile', await companyOf(ctx, 'assignment', input.id(a.assignmentId, 'assignmentId')));
      return profileAssignment(ctx, await ctx.commands.assignProfile(commandContext(ctx), a, a.expectedVersion));
    },
    unassignProfile: async (_: unknown, a: Args, ctx: Ctx) => {
      may(ctx, 'unassignProfile', await companyOf(ctx, 'assignment', input.id(a.assignmentId, 'assignmentId')));
      return profileAssignment(ctx, await ctx.commands.unassignProfile(commandContext(ctx), a, a.expectedVersion));
    },
    grantLicense: async (_: unknown, a: Args, ctx: Ctx) => {
      await mayChangePerson(ctx, 'grantLicense', input.id(a.input.profileId, 'profileId'));
      const id = await ctx.commands.grantLicense(commandContext(ctx), a.input, a.expectedVersion);
      return fresh(ctx, 'license', id, 'License');
    },
    renewLicense: async (_: unknown, a: Args, ctx: Ctx) => {
      await mayChangePerson(ctx, 'renewLicense', await licenseHolder(ctx, input.id(a.id, 'id')));
      const id = await ctx.commands.renewLicense(commandContext(ctx), a, a.expectedVersion);
      return fresh(ctx, 'license', id, 'License');
    },
    revokeLicense: async (_: unknown, a: Args, ctx: Ctx) => {
      await mayChangePerson(ctx, 'revokeLicense', await licenseHolder(ctx, input.id(a.id, 'id')));
      const id = await ctx.commands.revokeLicense(commandContext(ctx), a, a.expectedVersion);
      return fresh(ctx, 'license', id, 'License');
    },
  },
});

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
      async (row: ProfileRow, _a: Args, ctx: Ctx) => {
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
