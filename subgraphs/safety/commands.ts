import { randomUUID } from 'node:crypto';
import type { CommandHandler } from '../../platform/event-store/command-handler.ts';
import { domainCommandRunner, type ActingContext } from '../../platform/event-store/domain-commands.ts';
import { safetyEvents, type SafetyEvent } from '../../schema/events/safety.ts';
import { anomaly, anomalyStream, decideAnomaly } from './domain/anomaly.ts';
import { decideForm, form, formStream } from './domain/form.ts';
import { decideTemplate, template, templateStream } from './domain/template.ts';
import type { TemplateDoc } from './store/documents.ts';
import type { SafetyStore } from './store/port.ts';
import { BadUserInputError } from '../../platform/errors.ts';

export type CommandContext = ActingContext & { now?: Date };

/**
 * Safety's commands on the event store port (PostgreSQL or MongoDB): each decides on its
 * aggregate's state, checks the decided events against their contracts, and commits them
 * with the documents they change (the store's projection) in one unit of work.
 */
export class SafetyCommands<Tx> {
  /** Metadata, events checked against Safety's contracts, the store's projection: the platform's runner. */
  private readonly run: ReturnType<typeof domainCommandRunner<SafetyEvent, Tx>>;

  readonly store: SafetyStore<Tx>;

  constructor(
    handler: CommandHandler<Tx>,
    store: SafetyStore<Tx>,
  ) {
    this.store = store;
    this.run = domainCommandRunner<SafetyEvent, Tx>(handler, { contracts: safetyEvents, project: (tx, events) => store.project(tx, events) });
  }

  private now(ctx: CommandContext): Date {
    return ctx.now ?? new Date();
  }

  /** Version 1 of a new template, or the next version of `templateId`. */
  async publishTemplate(
    ctx: CommandContext,
    args: { templateId: string | null; companyId: string; name: unknown; mandatory?: unknown; fields: unknown },
    expectedVersion?: number | null,
  ): Promise<string> {
    const templateId = args.templateId ?? randomUUID();
    await this.run(
      ctx,
      templateStream(templateId),
      template,
      (s) => decideTemplate.publish(s, { ...args, templateId, isNew: args.templateId === null, now: this.now(ctx) }),
      { subjects: [templateId, args.companyId], companyId: args.companyId, expectedVersion: args.templateId === null ? 0 : expectedVersion },
    );
    return templateId;
  }

  /** A form for `project`, its answers checked against `templateVersion` of `tpl` (versions never change, so reading it before the command is safe). */
  async submitForm(
    ctx: CommandContext,
    args: { tpl: TemplateDoc; templateVersion: number; project: { id: string; companyId: string }; profileId: string; answers: unknown },
  ): Promise<string> {
    const version = args.tpl.versions.find((v) => v.templateVersion === args.templateVersion);
    if (!version) throw new BadUserInputError(`form template ${args.tpl.id} has no version ${args.templateVersion} (latest: ${args.tpl.latestVersion})`, 'templateVersion');
    const formId = randomUUID();
    await this.run(
      ctx,
      formStream(formId),
      form,
      (s) =>
        decideForm.submit(s, {
          formId,
          template: { templateId: args.tpl.id, templateVersion: version.templateVersion, companyId: args.tpl.companyId, fields: version.fields },
          projectId: args.project.id,
          projectCompanyId: args.project.companyId,
          profileId: args.profileId,
          answers: args.answers,
          now: this.now(ctx),
        }),
      { subjects: [formId, args.project.id, args.profileId, args.tpl.id], companyId: args.project.companyId, expectedVersion: 0 },
    );
    return formId;
  }

  async reportAnomaly(
    ctx: CommandContext,
    args: { project: { id: string; companyId: string }; reporterProfileId: string | null; severity: unknown; description: unknown; occurredAt?: unknown },
  ): Promise<string> {
    const anomalyId = randomUUID();
    await this.run(
      ctx,
      anomalyStream(anomalyId),
      anomaly,
      (s) =>
        decideAnomaly.report(s, {
          anomalyId,
          projectId: args.project.id,
          companyId: args.project.companyId,
          reportedBy: ctx.actor.id,
          reporterProfileId: args.reporterProfileId,
          severity: args.severity,
          description: args.description,
          occurredAt: args.occurredAt,
          now: this.now(ctx),
        }),
      { subjects: [anomalyId, args.project.id], companyId: args.project.companyId, expectedVersion: 0 },
    );
    return anomalyId;
  }

  async changeAnomalyStatus(ctx: CommandContext, args: { anomalyId: string; projectId: string; to: unknown; note: unknown }, expectedVersion?: number | null): Promise<void> {
    await this.run(
      ctx,
      anomalyStream(args.anomalyId),
      anomaly,
      (s) => decideAnomaly.changeStatus(s, { anomalyId: args.anomalyId, to: args.to, note: args.note, changedBy: ctx.actor.id, now: this.now(ctx) }),
      { subjects: [args.anomalyId, args.projectId], companyId: (s) => s.companyId, expectedVersion },
    );
  }
}
