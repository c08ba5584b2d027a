import type { ApolloServerPlugin } from '@apollo/server';
import { responsePathAsArray, type GraphQLFormattedError, type GraphQLResolveInfo } from 'graphql';
import type { Resolvers } from './generated/resolver-types.ts';
import { requireIdentity, type RequestContext } from '../../platform/graphql/context.ts';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../platform/errors.ts';
import * as input from '../../platform/domain/input.ts';
import type { EventStore } from '../../platform/event-store/port.ts';
import { auditEntryResolvers, auditTrailPage } from '../../platform/graphql/audit-trail.ts';
import { requireAuthentication } from '../../platform/graphql/guard.ts';
import { toConnection, toPage, type PageArgs } from '../../platform/graphql/pagination.ts';
import { DateScalar, DateTimeScalar, JSONScalar } from '../../platform/graphql/scalars.ts';
import type { CommandContext, SafetyCommands } from './commands.ts';
import { complianceOf, compliant, formsComplete, licensesValid } from './compliance.ts';
import { combinedStatus, latestVerdict, mergedResults, PROVIDERS, RESULT_SOURCES, type MergedConnection, type SourceRef, type TestResultLookups } from './test-results.ts';
import type { Access, SafetyLoaders } from './loaders.ts';
import type { AnomalyDoc, DocumentKind, DocumentOf, FormDoc, TemplateDoc } from './store/documents.ts';
import type { SafetyStore, Where } from './store/port.ts';
import type { WorkforceLookups } from './workforce.ts';

export interface SafetyContext extends RequestContext {
  store: SafetyStore<unknown>;
  events: EventStore<unknown, unknown>;
  commands: SafetyCommands<unknown>;
  loaders: SafetyLoaders;
  /** Workforce as the caller sees it; null for anonymous requests (refused before use). */
  workforce: WorkforceLookups | null;
  access: Access | null;
  /** The test-result sources as the caller sees them; null for anonymous requests (refused before use). */
  testResults: TestResultLookups | null;
  today: string;
  /** Errors reported beside data (a provider that did not answer a merged list): added to the response by `partialErrorsPlugin`. */
  partialErrors: GraphQLFormattedError[];
}
type Ctx = SafetyContext;

/** Mandatory forms and submissions read for one compliance answer (far above any real template count). */
const COMPLIANCE_LIMIT = 1000;

function access(ctx: Ctx): Access {
  requireIdentity(ctx.identity);
  return ctx.access!;
}
function workforce(ctx: Ctx): WorkforceLookups {
  requireIdentity(ctx.identity);
  return ctx.workforce!;
}
function sources(ctx: Ctx): TestResultLookups {
  requireIdentity(ctx.identity);
  return ctx.testResults!;
}

/** A worker as the sources resolve them (RUT, and what their rules need); null when Workforce hides them from the caller. */
async function personRef(ctx: Ctx, profileId: string): Promise<(SourceRef & { __typename: 'Profile' }) | null> {
  const person = await workforce(ctx).person.load(profileId);
  return person && { __typename: 'Profile', rut: person.rut, id: person.id, companies: person.companies.map((c) => ({ company: { id: c.company.id } })) };
}

/**
 * A merged list with a provider missing keeps its data (the other provider's rows and
 * `unavailableProviders`) and also carries a SOURCE_UNAVAILABLE error at its path naming
 * the provider: graphql-js has no way to report an error without nulling the field, so it
 * is added to the response afterwards (`partialErrorsPlugin`).
 */
function reportUnavailable(ctx: Ctx, info: GraphQLResolveInfo, c: MergedConnection): MergedConnection {
  for (const p of c.unavailableProviders) {
    const source = RESULT_SOURCES[p].name;
    ctx.partialErrors.push({ message: `${source} could not answer: its test results are missing here`, path: responsePathAsArray(info.path), extensions: { code: 'SOURCE_UNAVAILABLE', source } });
  }
  return c;
}

function commandContext(ctx: Ctx): CommandContext {
  return { actor: ctx.actor!, correlationId: ctx.correlationId };
}

/** A document just written by this request's command, read past the loader's cache. */
async function fresh<K extends DocumentKind>(ctx: Ctx, kind: K, id: string): Promise<DocumentOf[K]> {
  const loader = ctx.loaders[kind] as unknown as { clear(id: string): void; load(id: string): Promise<DocumentOf[K] | null> };
  loader.clear(id);
  const doc = await loader.load(id);
  if (!doc) throw new Error(`${kind} ${id} was committed but cannot be read`);
  return doc;
}

/** A connection over a keyed list loader, or an empty one when the caller may see none. */
async function listed<T extends { position: number }>(
  where: Where | null,
  args: PageArgs,
  load: (a: { where: Where; page: { limit: number; afterPosition: number } }) => Promise<T[]>,
) {
  const page = toPage(args);
  if (where === null) return toConnection([], page);
  return toConnection(await load({ where, page: { ...page, limit: page.limit + 1 } }), page);
}

async function visibleAnomaly(ctx: Ctx, id: string): Promise<AnomalyDoc | null> {
  const doc = await ctx.loaders.anomaly.load(id);
  return doc && (await access(ctx).anomaly(doc)) ? doc : null;
}
async function visibleForm(ctx: Ctx, id: string): Promise<FormDoc | null> {
  const doc = await ctx.loaders.form.load(id);
  return doc && access(ctx).form(doc) ? doc : null;
}
async function visibleTemplate(ctx: Ctx, id: string): Promise<TemplateDoc | null> {
  const doc = await ctx.loaders.template.load(id);
  return doc && (await access(ctx).template(doc)) ? doc : null;
}

/** An entity's audit trail: whoever may see the entity reads its trail (tenant-filtered for a MANAGER). */
function auditTrail(id: string, args: PageArgs, ctx: Ctx) {
  const a = access(ctx);
  const filter = a.managerOf ? { tenant: a.managerOf, personalKeys: [] } : null;
  return auditTrailPage(ctx.loaders.auditTrail, id, args, filter);
}

/** A project the caller is on, as Workforce answers: a WORKER must be assigned to it now; others must see it. */
async function projectOnIt(ctx: Ctx, projectId: string) {
  const a = access(ctx);
  if (a.workerProfile) {
    const mine = (await workforce(ctx).workerProjects()).current.find((p) => p.id === projectId);
    if (!mine) throw new ForbiddenError(`You are not assigned to project ${projectId}`);
    return mine;
  }
  const project = await workforce(ctx).project.load(projectId);
  if (!project) throw new NotFoundError('Project', projectId);
  return project;
}

function fieldsOf(t: { fields: TemplateDoc['versions'][number]['fields'] }) {
  return t.fields;
}

/** Adds the errors resolvers reported beside their data (`ctx.partialErrors`) to the response. */
export const partialErrorsPlugin: ApolloServerPlugin<SafetyContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind !== 'single' || !contextValue?.partialErrors?.length) return;
        response.body.singleResult.errors = [...(response.body.singleResult.errors ?? []), ...contextValue.partialErrors];
      },
    };
  },
};

export const resolvers = requireAuthentication({
  DateTime: DateTimeScalar,
  Date: DateScalar,
  JSON: JSONScalar,

  Query: {
    formTemplates: async (_, a, ctx) => {
      const companyId = input.id(a.companyId, 'companyId');
      const where = (await access(ctx).company(companyId)) ? {} : null;
      return listed(where, a, (args) => ctx.loaders.templatesByCompany(args).load(companyId));
    },
    formTemplate: (_, a, ctx) => visibleTemplate(ctx, input.id(a.id, 'id')),
    safetyForm: (_, a, ctx) => visibleForm(ctx, input.id(a.id, 'id')),
    anomaly: (_, a, ctx) => visibleAnomaly(ctx, input.id(a.id, 'id')),
  },

  Project: {
    __resolveReference: (ref) => ({ id: ref.id }),
    anomalies: async (p, a, ctx) => {
      const base = input.isId(p.id) ? await access(ctx).anomaliesOf(p.id) : null;
      const where = base && { ...base, ...(a.status ? { status: a.status } : {}), ...(a.severity ? { severity: a.severity } : {}) };
      return listed(where, a, (args) => ctx.loaders.anomaliesByProject(args).load(p.id));
    },
    safetyForms: (p, a, ctx) => listed(input.isId(p.id) ? access(ctx).formsOf(null) : null, a, (args) => ctx.loaders.formsByProject(args).load(p.id)),
    testResults: async (p, a, ctx, info) => {
      // Hidden from the caller in Workforce (another company's manager) is FORBIDDEN, as on the sources' own fields.
      const project = input.isId(p.id) ? await workforce(ctx).project.load(p.id) : null;
      if (!project) throw new ForbiddenError("You may not see this faena's test results");
      return reportUnavailable(ctx, info, await mergedResults(sources(ctx), { __typename: 'Project', faenaCode: project.faenaCode, company: { id: project.companyId } }, a));
    },
  },

  Profile: {
    __resolveReference: (ref) => ({ id: ref.id }),
    safetyForms: (p, a, ctx) => listed(input.isId(p.id) ? access(ctx).formsOf(p.id) : null, a, (args) => ctx.loaders.formsByProfile(args).load(p.id)),
    compliance: async (p, a, ctx) => {
      const acc = access(ctx);
      const projectId = input.id(a.projectId, 'projectId');
      const on = a.on == null ? ctx.today : input.isoDate(a.on, 'on');
      if (acc.workerProfile && p.id !== acc.workerProfile) throw new ForbiddenError('A worker sees only their own compliance');
      const [project, licenses, person] = await Promise.all([workforce(ctx).project.load(projectId), workforce(ctx).licenses.load(p.id), personRef(ctx, p.id)]);
      if (!project) throw new NotFoundError('Project', projectId);
      if (!licenses) throw new NotFoundError('Profile', p.id);
      const page = { limit: COMPLIANCE_LIMIT, afterPosition: 0 };
      const [mandatory, submitted, verdicts] = await Promise.all([
        ctx.loaders.templatesByCompany({ where: { mandatory: true }, page }).load(project.companyId),
        ctx.loaders.formsByProfile({ where: { projectId }, page }).load(p.id),
        Promise.all(PROVIDERS.map((provider) => (person ? latestVerdict(sources(ctx), provider, person, project.faenaCode, on) : { provider, status: 'NOT_AVAILABLE' as const, latest: null }))),
      ]);
      const testResults = { status: combinedStatus(verdicts), sources: verdicts };
      return complianceOf({ profileId: p.id, projectId, on, mandatory, submitted, licenses, testResults });
    },
    testResults: async (p, a, ctx, info) => {
      const person = input.isId(p.id) ? await personRef(ctx, p.id) : null;
      if (!person) throw new ForbiddenError("You may not see this worker's test results");
      return reportUnavailable(ctx, info, await mergedResults(sources(ctx), person, a));
    },
  },

  Compliance: {
    profile: (c) => ({ id: c.profileId }),
    project: (c) => ({ id: c.projectId }),
    compliant: (c) => compliant(c),
    formsComplete: (c) => formsComplete(c),
    licensesValid: (c) => licensesValid(c),
    requiredForms: (c) => c.requiredForms.map((r) => ({ template: r.template, submitted: r.lastSubmittedAt !== null, lastSubmittedAt: r.lastSubmittedAt })),
    licenses: (c) => c.licenses.map((l) => ({ license: { id: l.id }, validOnDay: l.validOnDay })),
  },

  TestResult: {
    profile: async (r, _a, ctx) => {
      const id = await workforce(ctx).profileIdByRut.load(r.rut);
      return id ? { id } : null;
    },
    project: async (r, _a, ctx) => {
      const id = await workforce(ctx).projectIdByFaena.load(r.faenaCode);
      return id ? { id } : null;
    },
  },

  FormTemplate: {
    __resolveReference: (ref, ctx) => (input.isId(ref.id) ? visibleTemplate(ctx, ref.id) : null),
    company: (t) => ({ id: t.companyId }),
    version: (t) => t.latestVersion,
    fields: (t) => fieldsOf(t.versions[t.versions.length - 1]),
    versions: (t) => t.versions.map((v) => ({ version: v.templateVersion, name: v.name, mandatory: v.mandatory, fields: v.fields, publishedAt: v.publishedAt })),
    auditTrail: (t, a, ctx) => auditTrail(t.id, a, ctx),
  },

  SafetyForm: {
    __resolveReference: (ref, ctx) => (input.isId(ref.id) ? visibleForm(ctx, ref.id) : null),
    template: async (f, _a, ctx) => {
      // The form's viewer sees the template it was filled in, whoever else may list templates.
      const t = await ctx.loaders.template.load(f.templateId);
      if (!t) throw new NotFoundError('FormTemplate', f.templateId);
      return t;
    },
    templateName: async (f, _a, ctx) => {
      const t = await ctx.loaders.template.load(f.templateId);
      return t?.versions.find((v) => v.templateVersion === f.templateVersion)?.name ?? '';
    },
    project: (f) => ({ id: f.projectId }),
    profile: (f) => ({ id: f.profileId }),
    answers: async (f, _a, ctx) => {
      const t = await ctx.loaders.template.load(f.templateId);
      const fields = t?.versions.find((v) => v.templateVersion === f.templateVersion)?.fields ?? [];
      return f.answers.map((ans) => {
        const field = fields.find((x) => x.key === ans.key);
        return { key: ans.key, label: field?.label ?? ans.key, type: field?.type ?? 'TEXT', value: ans.value };
      });
    },
    auditTrail: (f, a, ctx) => auditTrail(f.id, a, ctx),
  },

  Anomaly: {
    __resolveReference: (ref, ctx) => (input.isId(ref.id) ? visibleAnomaly(ctx, ref.id) : null),
    project: (d) => ({ id: d.projectId }),
    reporter: (d) => (d.reporterProfileId ? { id: d.reporterProfileId } : null),
    version: (d) => d.streamVersion,
    auditTrail: (d, a, ctx) => auditTrail(d.id, a, ctx),
  },

  AuditEntry: auditEntryResolvers(),

  Mutation: {
    publishFormTemplate: async (_, a, ctx) => {
      const acc = access(ctx);
      if (!acc.admin && !acc.managerOf) throw new ForbiddenError('Only a MANAGER or an ADMIN publishes form templates');
      const given = a.input.companyId == null ? null : input.id(a.input.companyId, 'companyId');
      let templateId: string | null = null;
      let companyId: string;
      if (a.input.templateId != null) {
        templateId = input.id(a.input.templateId, 'templateId');
        const existing = await ctx.loaders.template.load(templateId);
        if (!existing || (acc.managerOf && existing.companyId !== acc.managerOf)) throw new NotFoundError('FormTemplate', templateId);
        if (given && given !== existing.companyId) throw new BadUserInputError('a new version stays with the company of the template', 'companyId');
        companyId = existing.companyId;
      } else if (acc.managerOf) {
        if (given && given !== acc.managerOf) throw new ForbiddenError('A MANAGER publishes templates for their own company only');
        companyId = acc.managerOf;
      } else {
        if (!given) throw new BadUserInputError('companyId is required', 'companyId');
        if (!(await workforce(ctx).company.load(given))) throw new NotFoundError('Company', given);
        companyId = given;
      }
      const id = await ctx.commands.publishTemplate(commandContext(ctx), { templateId, companyId, name: a.input.name, mandatory: a.input.mandatory, fields: a.input.fields }, a.expectedVersion);
      return fresh(ctx, 'template', id);
    },

    submitSafetyForm: async (_, a, ctx) => {
      const acc = access(ctx);
      if (!acc.workerProfile) throw new ForbiddenError('Only a WORKER submits safety forms, their own');
      const templateId = input.id(a.input.templateId, 'templateId');
      const templateVersion = input.intInRange(a.input.templateVersion, 'templateVersion', 1, 1_000_000);
      const projectId = input.id(a.input.projectId, 'projectId');
      // The project first: a worker not on it learns nothing about templates.
      const project = await projectOnIt(ctx, projectId);
      const tpl = await ctx.loaders.template.load(templateId);
      if (!tpl || !(await acc.template(tpl))) throw new BadUserInputError(`form template ${templateId} does not exist`, 'templateId');
      const id = await ctx.commands.submitForm(commandContext(ctx), { tpl, templateVersion, project, profileId: acc.workerProfile, answers: a.input.answers });
      return fresh(ctx, 'form', id);
    },

    reportAnomaly: async (_, a, ctx) => {
      const acc = access(ctx);
      const project = await projectOnIt(ctx, input.id(a.input.projectId, 'projectId'));
      const id = await ctx.commands.reportAnomaly(commandContext(ctx), {
        project,
        reporterProfileId: acc.workerProfile,
        severity: a.input.severity,
        description: a.input.description,
        occurredAt: a.input.occurredAt == null ? null : a.input.occurredAt instanceof Date ? a.input.occurredAt.toISOString() : a.input.occurredAt,
      });
      return fresh(ctx, 'anomaly', id);
    },

    changeAnomalyStatus: async (_, a, ctx) => {
      const acc = access(ctx);
      if (!acc.admin && !acc.managerOf) throw new ForbiddenError('Only a MANAGER or an ADMIN handles anomalies');
      const id = input.id(a.id, 'id');
      const doc = await ctx.loaders.anomaly.load(id);
      if (!doc || !(await acc.anomaly(doc))) throw new NotFoundError('Anomaly', id);
      await ctx.commands.changeAnomalyStatus(commandContext(ctx), { anomalyId: id, projectId: doc.projectId, to: a.status, note: a.note }, a.expectedVersion);
      return fresh(ctx, 'anomaly', id);
    },
  },
} satisfies Resolvers);
