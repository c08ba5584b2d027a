import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { NotFoundError } from '../../platform/errors.ts';
import * as input from '../../platform/domain/input.ts';
import type { CommandHandler } from '../../platform/event-store/command-handler.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import { domainCommandRunner, type ActingContext } from '../../platform/event-store/domain-commands.ts';
import type { Actor } from '../../platform/graphql/context.ts';
import { workforceEvents, type WorkforceEvent } from '../../schema/events/workforce.ts';
import { company, companyStream, decideCompany, type CompanyState } from './domain/company.ts';
import { decideOffering, offering, offeringStream } from './domain/offering.ts';
import { decideProfile, profile, profileStream, type PersonalData } from './domain/profile.ts';
import { decideProject, project, projectStream, type ProjectState } from './domain/project.ts';
import { normalizeRut } from '../../platform/domain/rut.ts';
import { fusedWorkforceProjection, projectWorkforce } from './store/projection.ts';
import {
  decideNotification,
  licenseExpiryKey,
  notification,
  notificationIdFor,
  notificationStream,
  reads,
  readsStream,
} from './domain/notification.ts';
import type { DueLicense } from './store/notifications.ts';
import { readModel } from './store/read-model.ts';

/** Unique read-table constraints, as the conflict a person would understand. */
const UNIQUE_MESSAGES: Record<string, string> = {
  companies_tax_rut_key: 'A company with this tax RUT is already registered',
  projects_faena_code_key: 'A project with this faena code already exists',
  profiles_rut_key: 'A profile with this RUT already exists',
  offerings_code_key: 'An offering with this code already exists',
};

export interface CommandContext extends ActingContext {
  actor: Actor;
  /** The day rules are judged on (UTC); injectable for tests. */
  today?: string;
  /**
   * The company the actor acts for (a MANAGER's); null or absent for an ADMIN. Profile
   * commands record it as their events' metadata.companyId: personal data and history
   * recorded under a company are that company's (schema/subgraphs/workforce.policy.ts).
   */
  companyId?: string | null;
}

/** The tenant a profile change is recorded under. */
const recordedFor = (ctx: CommandContext) => ctx.companyId ?? null;

/**
 * The Workforce write side: each mutation becomes one command on one aggregate.
 * Facts from other aggregates are read in the same transaction; the decision is pure.
 */
export class WorkforceCommands {
  /** Runs one command on one aggregate (platform/event-store/domain-commands.ts). */
  private readonly run: ReturnType<typeof domainCommandRunner<WorkforceEvent>>;

  /** Workforce's database, where commands read facts about other aggregates. */
  readonly db: Db;

  constructor(
    handler: CommandHandler,
    db: Db,
  ) {
    this.db = db;
    this.run = domainCommandRunner<WorkforceEvent>(handler, {
      contracts: workforceEvents,
      project: projectWorkforce,
      fused: fusedWorkforceProjection,
      uniqueMessages: UNIQUE_MESSAGES,
    });
  }

  private today(ctx: CommandContext): string {
    return ctx.today ?? input.todayUtc();
  }

  async registerCompany(ctx: CommandContext, args: { name: unknown; taxRut: unknown }): Promise<string> {
    const companyId = randomUUID();
    await this.run(ctx, companyStream(companyId), company, (s) => decideCompany.register(s, { companyId, ...args }), {
      subjects: [companyId],
      companyId,
      expectedVersion: 0,
    });
    return companyId;
  }

  async createOffering(ctx: CommandContext, args: { code: unknown; name: unknown; description?: unknown }): Promise<string> {
    const offeringId = randomUUID();
    await this.run(ctx, offeringStream(offeringId), offering, (s) => decideOffering.create(s, { offeringId, ...args }), {
      subjects: [offeringId],
      companyId: null,
      expectedVersion: 0,
    });
    return offeringId;
  }

  async subscribe(
    ctx: CommandContext,
    args: { companyId: unknown; offeringId: unknown; seats: unknown; startsOn?: unknown; endsOn?: unknown },
    expectedVersion?: number | null,
  ): Promise<string> {
    const companyId = input.id(args.companyId, 'companyId');
    const offeringId = input.id(args.offeringId, 'offeringId');
    const subscriptionId = randomUUID();
    await this.run(
      ctx,
      companyStream(companyId),
      company,
      async (s, tx) =>
        decideCompany.subscribe(s, { ...args, companyId, offeringId, subscriptionId, today: this.today(ctx) }, {
          offeringExists: await readModel.exists(tx, 'offerings', offeringId),
        }),
      { subjects: [companyId], companyId, expectedVersion },
    );
    return subscriptionId;
  }

  async cancelSubscription(ctx: CommandContext, args: { id: unknown; reason?: unknown }, expectedVersion?: number | null): Promise<string> {
    const subscriptionId = input.id(args.id, 'id');
    const companyId = await this.owner('subscriptions', subscriptionId, 'Subscription');
    await this.run(
      ctx,
      companyStream(companyId),
      company,
      (s) => decideCompany.cancelSubscription(s, { companyId, subscriptionId, reason: args.reason, today: this.today(ctx) }),
      { subjects: [companyId], companyId, expectedVersion },
    );
    return subscriptionId;
  }

  async createProject(
    ctx: CommandContext,
    args: { companyId: unknown; name: unknown; faenaCode: unknown; location?: unknown; startsOn: unknown; endsOn?: unknown },
  ): Promise<string> {
    const companyId = input.id(args.companyId, 'companyId');
    const projectId = randomUUID();
    await this.run(
      ctx,
      projectStream(projectId),
      project,
      async (s, tx) =>
        decideProject.create(s, { ...args, companyId, projectId }, { companyExists: await readModel.exists(tx, 'companies', companyId) }),
      { subjects: [projectId], companyId, expectedVersion: 0 },
    );
    return projectId;
  }

  async closeProject(ctx: CommandContext, args: { id: unknown }, expectedVersion?: number | null): Promise<string> {
    const projectId = input.id(args.id, 'id');
    await this.run(ctx, projectStream(projectId), project, (s) => decideProject.close(s, { projectId, today: this.today(ctx) }), {
      subjects: [projectId],
      companyId: projectCompany,
      expectedVersion,
    });
    return projectId;
  }

  async createAssignment(
    ctx: CommandContext,
    args: { projectId: unknown; name: unknown; startsOn: unknown; endsOn?: unknown },
    expectedVersion?: number | null,
  ): Promise<string> {
    const projectId = input.id(args.projectId, 'projectId');
    const assignmentId = randomUUID();
    await this.run(ctx, projectStream(projectId), project, (s) => decideProject.createAssignment(s, { ...args, projectId, assignmentId }), {
      subjects: [projectId],
      companyId: projectCompany,
      expectedVersion,
    });
    return assignmentId;
  }

  async assignProfile(ctx: CommandContext, args: { assignmentId: unknown; profileId: unknown }, expectedVersion?: number | null) {
    return this.onAssignment(ctx, args, expectedVersion, 'assign');
  }

  async unassignProfile(ctx: CommandContext, args: { assignmentId: unknown; profileId: unknown }, expectedVersion?: number | null) {
    return this.onAssignment(ctx, args, expectedVersion, 'unassign');
  }

  private async onAssignment(
    ctx: CommandContext,
    args: { assignmentId: unknown; profileId: unknown },
    expectedVersion: number | null | undefined,
    action: 'assign' | 'unassign',
  ): Promise<{ assignmentId: string; profileId: string }> {
    const assignmentId = input.id(args.assignmentId, 'assignmentId');
    const profileId = input.id(args.profileId, 'profileId');
    const projectId = await this.owner('assignments', assignmentId, 'Assignment');
    await this.run(
      ctx,
      projectStream(projectId),
      project,
      async (s, tx) => {
        const cmd = { projectId, assignmentId, profileId };
        if (action === 'unassign') return decideProject.unassign(s, cmd);
        // Its PROFILE_ASSIGNED notification is derived by the projection (store/projection.ts).
        return decideProject.assign(s, cmd, {
          profileExists: await readModel.exists(tx, 'profiles', profileId),
          worksForCompany: s.companyId !== null && (await readModel.worksFor(tx, profileId, s.companyId)),
        });
      },
      { subjects: [projectId], companyId: projectCompany, expectedVersion },
    );
    return { assignmentId, profileId };
  }

  async createProfile(ctx: CommandContext, args: PersonalData & { rut: unknown }): Promise<string> {
    const profileId = randomUUID();
    await this.run(
      ctx,
      profileStream(profileId),
      profile,
      (s) => decideProfile.create(s, { ...args, profileId, createdBy: ctx.actor.id, today: this.today(ctx) }),
      { subjects: [profileId], companyId: recordedFor(ctx), expectedVersion: 0 },
    );
    return profileId;
  }

  async updateProfile(ctx: CommandContext, args: { id: unknown; changes: PersonalData }, expectedVersion?: number | null): Promise<string> {
    const profileId = input.id(args.id, 'id');
    const companyId = recordedFor(ctx);
    await this.run(ctx, profileStream(profileId), profile, (s) => decideProfile.update(s, { ...args.changes, profileId, companyId, today: this.today(ctx) }), {
      subjects: [profileId],
      companyId,
      expectedVersion,
    });
    return profileId;
  }

  /**
   * Hires a profile. `rut`, when given, must be the profile's. With `strangerNeedsRut` (a
   * MANAGER hiring) a profile the company never employed needs it: knowing an id is no
   * proof of knowing the person. A missing or wrong RUT is the same NOT_FOUND as an
   * unknown id, so the answer tells nothing about the id.
   */
  async hireProfile(
    ctx: CommandContext,
    args: { companyId: unknown; profileId: unknown; position?: unknown; startedOn?: unknown; rut?: unknown },
    expectedVersion?: number | null,
    strangerNeedsRut = false,
  ) {
    const companyId = input.id(args.companyId, 'companyId');
    const profileId = input.id(args.profileId, 'profileId');
    const rut = args.rut == null ? null : normalizeRut(args.rut);
    await this.onCompany(ctx, companyId, expectedVersion, async (s, tx) => {
      const actual = await readModel.rutOf(tx, profileId);
      const known = rut === null ? !strangerNeedsRut || s.employments.has(profileId) : rut === actual;
      const { position, startedOn } = args;
      // A hire that brings the seats in use to 90% raises SEATS_RUNNING_OUT in its projection (store/projection.ts).
      return decideCompany.hire(s, { companyId, profileId, position, startedOn, today: this.today(ctx) }, { profileExists: actual !== null && known });
    });
    return { companyId, profileId };
  }

  async setSupervisor(
    ctx: CommandContext,
    args: { companyId: unknown; profileId: unknown; supervisorId?: unknown },
    expectedVersion?: number | null,
  ) {
    const companyId = input.id(args.companyId, 'companyId');
    const profileId = input.id(args.profileId, 'profileId');
    const supervisorId = args.supervisorId == null ? null : input.id(args.supervisorId, 'supervisorId');
    await this.onCompany(ctx, companyId, expectedVersion, (s) => decideCompany.setSupervisor(s, { companyId, profileId, supervisorId }));
    return { companyId, profileId };
  }

  async endEmployment(ctx: CommandContext, args: { companyId: unknown; profileId: unknown; endedOn?: unknown }, expectedVersion?: number | null) {
    const companyId = input.id(args.companyId, 'companyId');
    const profileId = input.id(args.profileId, 'profileId');
    await this.onCompany(ctx, companyId, expectedVersion, (s) =>
      decideCompany.endEmployment(s, { companyId, profileId, endedOn: args.endedOn, today: this.today(ctx) }),
    );
    return { companyId, profileId };
  }

  private onCompany(
    ctx: CommandContext,
    companyId: string,
    expectedVersion: number | null | undefined,
    decide: (s: CompanyState, tx: pg.PoolClient) => WorkforceEvent[] | Promise<WorkforceEvent[]>,
  ) {
    return this.run(ctx, companyStream(companyId), company, decide, { subjects: [companyId], companyId, expectedVersion });
  }

  async grantLicense(
    ctx: CommandContext,
    args: { profileId: unknown; type: unknown; number: unknown; issuedOn?: unknown; expiresOn: unknown },
    expectedVersion?: number | null,
  ): Promise<string> {
    const profileId = input.id(args.profileId, 'profileId');
    const licenseId = randomUUID();
    await this.run(
      ctx,
      profileStream(profileId),
      profile,
      (s) => decideProfile.grantLicense(s, { ...args, profileId, licenseId, today: this.today(ctx) }),
      { subjects: [profileId], companyId: recordedFor(ctx), expectedVersion },
    );
    return licenseId;
  }

  async renewLicense(ctx: CommandContext, args: { id: unknown; expiresOn: unknown }, expectedVersion?: number | null): Promise<string> {
    const licenseId = input.id(args.id, 'id');
    const profileId = await this.owner('licenses', licenseId, 'License');
    await this.run(ctx, profileStream(profileId), profile, (s) => decideProfile.renewLicense(s, { profileId, licenseId, expiresOn: args.expiresOn }), {
      subjects: [profileId],
      companyId: recordedFor(ctx),
      expectedVersion,
    });
    return licenseId;
  }

  async revokeLicense(ctx: CommandContext, args: { id: unknown; reason?: unknown }, expectedVersion?: number | null): Promise<string> {
    const licenseId = input.id(args.id, 'id');
    const profileId = await this.owner('licenses', licenseId, 'License');
    await this.run(
      ctx,
      profileStream(profileId),
      profile,
      (s) => decideProfile.revokeLicense(s, { profileId, licenseId, reason: args.reason, today: this.today(ctx) }),
      { subjects: [profileId], companyId: recordedFor(ctx), expectedVersion },
    );
    return licenseId;
  }

  /**
   * Raises a notification for another domain (Safety's relay): idempotent on `sourceEventId`
   * (its id is derived from it, see domain/notification.ts). Returns the notification's id.
   */
  async raiseNotification(
    ctx: CommandContext,
    args: { sourceEventId: unknown; kind: unknown; title: unknown; body: unknown; subjectType: unknown; subjectId: unknown },
    audience: string[],
  ): Promise<string> {
    const sourceEventId = input.text(args.sourceEventId, 'sourceEventId', 200);
    const notificationId = notificationIdFor(`source:${sourceEventId}`);
    await this.run(ctx, notificationStream(notificationId), notification, (s) => decideNotification.raise(s, { ...args, notificationId, audience, sourceEventId }), {
      subjects: [notificationId],
      companyId: null,
    });
    return notificationId;
  }

  /** Raises a licence's expiry notice; true when this call raised it (false: it was already raised, by this or another instance). */
  async raiseLicenseExpiring(ctx: CommandContext, due: DueLicense): Promise<boolean> {
    const notificationId = notificationIdFor(licenseExpiryKey(due.id, due.expiresOn, due.threshold));
    const result = await this.run(
      ctx,
      notificationStream(notificationId),
      notification,
      (s) => decideNotification.licenseExpiring(s, { ...due, notificationId, licenseId: due.id, thresholdDays: due.threshold }),
      { subjects: [notificationId], companyId: null },
    );
    return result.events.length > 0;
  }

  /** Marks notifications read for a reader; returns how many were newly marked. */
  async markNotificationsRead(ctx: CommandContext, readerId: string, notificationIds: string[]): Promise<number> {
    if (notificationIds.length === 0) return 0;
    const result = await this.run(ctx, readsStream(readerId), reads, (s) => decideNotification.markRead(s, { readerId, notificationIds }), {
      subjects: [readerId],
      companyId: null,
    });
    return result.events.reduce((n, e) => n + (e.type === 'NotificationsRead' ? (e.data as { notificationIds: string[] }).notificationIds.length : 0), 0);
  }

  /** The aggregate a child entity lives in (a subscription's company, ...), or NOT_FOUND. */
  private async owner(table: 'subscriptions' | 'assignments' | 'licenses', id: string, entity: string): Promise<string> {
    const owner = await readModel.ownerOf(this.db.pool, table, id);
    if (!owner) throw new NotFoundError(entity, id);
    return owner;
  }
}

const projectCompany = (s: ProjectState) => s.companyId;

