import { readFileSync } from 'node:fs';
import { Kind, parse, type ConstDirectiveNode, type ObjectTypeDefinitionNode, type TypeNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startTestStack, type TestStack } from './support/stack.ts';
import { daysFromToday, rut } from './support/workforce.ts';
import { InMemoryResultSource } from '../platform/sources/memory.ts';
import type { TestResult } from '../platform/sources/results.ts';

/**
 * Every field one subgraph serves whose type is an entity another subgraph resolves,
 * reached through the gateway with a NON-key field of that entity selected, so the other
 * subgraph's `__resolveReference` really runs. Key fields alone are answered by the first
 * subgraph and never test the hop. The list comes from the supergraph: a new reference
 * fails here until REACH says how to reach it.
 */

interface Reference {
  /** The subgraph that serves the field. */
  subgraph: string;
  parent: string;
  field: string;
  entity: string;
  /** The subgraph whose `__resolveReference` answers the entity's other fields. */
  resolvedBy: string;
}

const directives = (node: { directives?: readonly ConstDirectiveNode[] }, name: string) => (node.directives ?? []).filter((d) => d.name.value === name);
const argument = (d: ConstDirectiveNode, name: string) => {
  const v = d.arguments?.find((a) => a.name.value === name)?.value;
  return v && (v.kind === Kind.ENUM || v.kind === Kind.STRING || v.kind === Kind.BOOLEAN) ? v.value : undefined;
};
const namedType = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type));

/** The cross-subgraph entity references of a supergraph, from its join__type / join__field directives. */
function crossSubgraphReferences(supergraphSdl: string): Reference[] {
  const types = parse(supergraphSdl).definitions.filter((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION);
  const graphs = new Map<string, string>();
  for (const d of parse(supergraphSdl).definitions) {
    if (d.kind !== Kind.ENUM_TYPE_DEFINITION || d.name.value !== 'join__Graph') continue;
    for (const v of d.values ?? []) graphs.set(v.name.value, String(argument(directives(v, 'join__graph')[0], 'name')));
  }
  const graphOf = (d: ConstDirectiveNode) => graphs.get(String(argument(d, 'graph')))!;
  const byName = new Map(types.map((t) => [t.name.value, t]));
  // Which subgraphs serve a field: its join__field graphs (not external), else every graph of its type.
  const owners = (type: ObjectTypeDefinitionNode, field: NonNullable<ObjectTypeDefinitionNode['fields']>[number]) => {
    const joins = directives(field, 'join__field');
    if (joins.length === 0) return new Set(directives(type, 'join__type').map(graphOf));
    return new Set(joins.filter((j) => argument(j, 'external') !== true && argument(j, 'graph') !== undefined).map(graphOf));
  };
  const references: Reference[] = [];
  for (const parent of types) {
    for (const field of parent.fields ?? []) {
      const entity = byName.get(namedType(field.type));
      if (!entity) continue;
      // A set: an entity with several keys has one join__type per key.
      const resolvers = new Set(directives(entity, 'join__type').filter((j) => argument(j, 'key') !== undefined && argument(j, 'resolvable') !== false).map(graphOf));
      for (const subgraph of owners(parent, field)) {
        for (const resolvedBy of resolvers) {
          if (resolvedBy === subgraph) continue;
          // A reference matters only if the other subgraph has fields this one cannot answer.
          const theirs = (entity.fields ?? []).some((f) => owners(entity, f).has(resolvedBy) && !owners(entity, f).has(subgraph));
          if (theirs) references.push({ subgraph, parent: parent.name.value, field: field.name.value, entity: entity.name.value, resolvedBy });
        }
      }
    }
  }
  return references;
}

const keyOf = (r: Reference) => `${r.subgraph}:${r.parent}.${r.field} -> ${r.resolvedBy}:${r.entity}`;

type Role = 'ADMIN' | 'MANAGER' | 'WORKER';
const ROLES: Role[] = ['ADMIN', 'MANAGER', 'WORKER'];
/** Callers from another company: its MANAGER, and a WORKER of it (not the fixture's worker). */
type Outsider = 'MANAGER of another company' | 'WORKER of another company';
const OUTSIDERS: Outsider[] = ['MANAGER of another company', 'WORKER of another company'];
type Caller = Role | Outsider;
const CALLERS: Caller[] = [...ROLES, ...OUTSIDERS];
const VIAS = ['development headers', 'CIAM token'] as const;
type Via = (typeof VIAS)[number];

/** What the test set up: a company, its MANAGER (a real internal user), a worker they created and enabled. */
interface Fixture {
  companyId: string;
  companyName: string;
  managerName: string;
  workerId: string;
  workerName: string;
  /** The faena (FAENA): the worker is assigned to it (with a licence), filled in a form and reported an anomaly on it. */
  projectId: string;
  projectName: string;
  templateId: string;
  anomalyId: string;
  supervisorId: string;
  /** Another company, with a MANAGER (a real internal user) and a WORKER (signed in with a code) of its own. */
  otherCompanyName: string;
  otherWorkerName: string;
}

/**
 * How to reach each reference: a query selecting a non-key field of the entity, and the
 * data each role must get (MANAGER of the fixture's company, WORKER seeing their own data).
 * Every caller runs every query: the outsiders (another company's MANAGER and WORKER) get,
 * unless the entry says otherwise, the query's root field null and no error (the fixture's
 * worker, project, anomaly, template and account are hidden from them). Variables of each call: $worker, $company, $project,
 * $template, $anomaly, $supervisor, $closable (a project of the company created for this
 * reference, sign-in and role alone, so each call may close one), $unique (a fresh string),
 * $rut (a fresh valid RUT), then the entry's own `variables`.
 */
type Expected = (f: Fixture) => unknown;
interface Reach {
  query: string;
  expect: Record<Role, Expected> & Partial<Record<Outsider, Expected>>;
  /** Callers the operation refuses (e.g. a WORKER creating a profile): the one error code they get; `expect` then says what data comes with it. */
  refused?: Partial<Record<Caller, string>>;
  /** Variables of one call, on top of the common ones. */
  variables?: (caller: Caller, via: Via) => Record<string, unknown>;
}

const everyRole = (value: (f: Fixture) => unknown) => Object.fromEntries(ROLES.map((r) => [r, value])) as Record<Role, (f: Fixture) => unknown>;
/** A mutation on the fixture's company only its MANAGERs and ADMINs may run: anyone else gets FORBIDDEN and a null field. */
const managersOnly = (field: string, value: Expected): Pick<Reach, 'expect' | 'refused'> => {
  const refusedTo = ['WORKER', ...OUTSIDERS] as const;
  return {
    expect: { ADMIN: value, MANAGER: value, ...Object.fromEntries(refusedTo.map((c) => [c, () => ({ [field]: null })])) } as Reach['expect'],
    refused: Object.fromEntries(refusedTo.map((c) => [c, 'FORBIDDEN'])),
  };
};
/** By default an outsider gets the query's root field null, and no error. */
const hidden = (query: string) => {
  const operation = parse(query).definitions[0];
  const root = operation.kind === Kind.OPERATION_DEFINITION ? operation.selectionSet.selections[0] : undefined;
  if (root?.kind !== Kind.FIELD) throw new Error(`no root field in ${query}`);
  return { [(root.alias ?? root.name).value]: null };
};
const OTHER_MANAGER: Outsider = 'MANAGER of another company';
const OTHER_WORKER: Outsider = 'WORKER of another company';

/** The faena the fixture's project has, and the sources' results name. */
const FAENA = 'FEDREF-1';
/** A Safety field of Profile: the worker's one form (visible to the ADMIN, their company's MANAGER and themselves). */
const SAFETY_PROFILE = 'safetyForms(first: 1) { nodes { templateVersion } }';
const WORKER_FORMS = { nodes: [{ templateVersion: 1 }] };
/** A Safety field of Project: its anomaly. */
const SAFETY_PROJECT = 'anomalies(first: 1) { nodes { description } }';
const PROJECT_ANOMALIES = { nodes: [{ description: 'Reference anomaly' }] };

const REACH: Record<string, Reach> = {
  'safety:Anomaly.project -> workforce:Project': {
    query: `query($anomaly: ID!) { anomaly(id: $anomaly) { project { name } } }`,
    expect: everyRole((f) => ({ anomaly: { project: { name: f.projectName } } })),
  },
  'safety:Anomaly.reporter -> workforce:Profile': {
    query: `query($anomaly: ID!) { anomaly(id: $anomaly) { reporter { fullName } } }`,
    expect: everyRole((f) => ({ anomaly: { reporter: { fullName: f.workerName } } })),
  },
  'safety:Compliance.profile -> workforce:Profile': {
    query: `query($worker: ID!, $project: ID!) { profile(id: $worker) { compliance(projectId: $project) { profile { fullName } } } }`,
    expect: everyRole((f) => ({ profile: { compliance: { profile: { fullName: f.workerName } } } })),
  },
  'safety:Compliance.project -> workforce:Project': {
    query: `query($worker: ID!, $project: ID!) { profile(id: $worker) { compliance(projectId: $project) { project { name } } } }`,
    expect: everyRole((f) => ({ profile: { compliance: { project: { name: f.projectName } } } })),
  },
  'safety:ComplianceLicense.license -> workforce:License': {
    query: `query($worker: ID!, $project: ID!) { profile(id: $worker) { compliance(projectId: $project) { licenses { license { type } } } } }`,
    expect: everyRole(() => ({ profile: { compliance: { licenses: [{ license: { type: 'RIGGING' } }] } } })),
  },
  'safety:FormTemplate.company -> workforce:Company': {
    query: `query($template: ID!) { formTemplate(id: $template) { company { name } } }`,
    expect: everyRole((f) => ({ formTemplate: { company: { name: f.companyName } } })),
  },
  // Safety's merged test results (both sources, SAFERAPP first at the same taken-at): each row's worker and faena.
  'safety:TestResult.profile -> workforce:Profile': {
    query: `query($project: ID!) { project(id: $project) { testResults(first: 5) { nodes { provider profile { fullName } } } } }`,
    expect: everyRole((f) => ({ project: { testResults: { nodes: ['SAFERAPP', 'FIT2000'].map((provider) => ({ provider, profile: { fullName: f.workerName } })) } } })),
  },
  'safety:TestResult.project -> workforce:Project': {
    query: `query($worker: ID!) { profile(id: $worker) { testResults(first: 5) { nodes { provider project { name } } } } }`,
    expect: everyRole((f) => ({ profile: { testResults: { nodes: ['SAFERAPP', 'FIT2000'].map((provider) => ({ provider, project: { name: f.projectName } })) } } })),
  },
  'safety:SafetyForm.project -> workforce:Project': {
    query: `query($worker: ID!) { profile(id: $worker) { safetyForms(first: 1) { nodes { project { name } } } } }`,
    expect: everyRole((f) => ({ profile: { safetyForms: { nodes: [{ project: { name: f.projectName } }] } } })),
  },
  'safety:SafetyForm.profile -> workforce:Profile': {
    query: `query($project: ID!) { project(id: $project) { safetyForms(first: 1) { nodes { profile { fullName } } } } }`,
    expect: everyRole((f) => ({ project: { safetyForms: { nodes: [{ profile: { fullName: f.workerName } }] } } })),
  },
  'workforce:Assignment.project -> safety:Project': {
    query: `query($worker: ID!) { profile(id: $worker) { assignments { assignment { project { ${SAFETY_PROJECT} } } } } }`,
    expect: everyRole(() => ({ profile: { assignments: [{ assignment: { project: { anomalies: PROJECT_ANOMALIES } } }] } })),
  },
  'workforce:License.profile -> safety:Profile': {
    query: `query($worker: ID!) { profile(id: $worker) { licenses { profile { ${SAFETY_PROFILE} } } } }`,
    expect: everyRole(() => ({ profile: { licenses: [{ profile: { safetyForms: WORKER_FORMS } }] } })),
  },
  'ciam:Me.profile -> safety:Profile': {
    query: `{ me { profile { ${SAFETY_PROFILE} } } }`,
    expect: {
      ADMIN: () => ({ me: { profile: null } }),
      MANAGER: () => ({ me: { profile: null } }),
      WORKER: () => ({ me: { profile: { safetyForms: WORKER_FORMS } } }),
      [OTHER_MANAGER]: () => ({ me: { profile: null } }),
      // Their own profile: they submitted no form.
      [OTHER_WORKER]: () => ({ me: { profile: { safetyForms: { nodes: [] } } } }),
    },
  },
  'ciam:WorkerAccount.profile -> safety:Profile': {
    query: `query($worker: ID!) { workerAccount(profileId: $worker) { profile { ${SAFETY_PROFILE} } } }`,
    expect: everyRole(() => ({ workerAccount: { profile: { safetyForms: WORKER_FORMS } } })),
  },
  'workforce:Mutation.createProject -> safety:Project': {
    query: `mutation($company: ID!, $unique: String!) { createProject(input: {companyId: $company, name: "Nueva", faenaCode: $unique, startsOn: "2026-01-01"}) { ${SAFETY_PROJECT} } }`,
    ...managersOnly('createProject', () => ({ createProject: { anomalies: { nodes: [] } } })),
  },
  'workforce:Mutation.closeProject -> safety:Project': {
    query: `mutation($closable: ID!) { closeProject(id: $closable) { ${SAFETY_PROJECT} } }`,
    ...managersOnly('closeProject', () => ({ closeProject: { anomalies: { nodes: [] } } })),
  },
  'workforce:Mutation.createProfile -> safety:Profile': {
    query: `mutation($rut: String!) { createProfile(input: {rut: $rut, firstName: "Nuevo", lastName: "Perfil"}) { ${SAFETY_PROFILE} } }`,
    // Any MANAGER may create a profile (it belongs to no company yet); it has no forms.
    expect: {
      ...everyRole(() => ({ createProfile: { safetyForms: { nodes: [] } } })),
      WORKER: () => ({ createProfile: null }),
      [OTHER_MANAGER]: () => ({ createProfile: { safetyForms: { nodes: [] } } }),
      [OTHER_WORKER]: () => ({ createProfile: null }),
    },
    refused: { WORKER: 'FORBIDDEN', [OTHER_WORKER]: 'FORBIDDEN' },
  },
  'workforce:Mutation.updateProfile -> safety:Profile': {
    query: `mutation($worker: ID!) { updateProfile(id: $worker, input: {lastName: "Worker"}) { ${SAFETY_PROFILE} } }`,
    ...managersOnly('updateProfile', () => ({ updateProfile: { safetyForms: WORKER_FORMS } })),
  },
  'workforce:ProfileAssignment.profile -> safety:Profile': {
    query: `query($worker: ID!) { profile(id: $worker) { assignments { profile { ${SAFETY_PROFILE} } } } }`,
    expect: everyRole(() => ({ profile: { assignments: [{ profile: { safetyForms: WORKER_FORMS } }] } })),
  },
  'workforce:ProfileCompany.profile -> safety:Profile': {
    query: `query($worker: ID!) { profile(id: $worker) { companies { profile { ${SAFETY_PROFILE} } } } }`,
    expect: everyRole(() => ({ profile: { companies: [{ profile: { safetyForms: WORKER_FORMS } }] } })),
  },
  'workforce:ProfileCompany.supervisor -> safety:Profile': {
    query: `query($worker: ID!) { profile(id: $worker) { companies { supervisor { ${SAFETY_PROFILE} } } } }`,
    // The supervisor submitted no form: an empty list, from Safety. A worker sees only their own profile (Workforce's rule).
    expect: {
      ...everyRole(() => ({ profile: { companies: [{ supervisor: { safetyForms: { nodes: [] } } }] } })),
      WORKER: () => ({ profile: { companies: [{ supervisor: null }] } }),
    },
  },
  'workforce:ProfileCompany.reports -> safety:Profile': {
    query: `query($worker: ID!) { profile(id: $worker) { companies { supervisor { companies { reports { ${SAFETY_PROFILE} } } } } } }`,
    expect: {
      ...everyRole(() => ({ profile: { companies: [{ supervisor: { companies: [{ reports: [{ safetyForms: WORKER_FORMS }] }] } }] } })),
      WORKER: () => ({ profile: { companies: [{ supervisor: null }] } }),
    },
  },
  'workforce:ProfileConnection.nodes -> safety:Profile': {
    query: `query($company: ID!) { profiles(first: 1, companyId: $company, search: "wilma") { nodes { ${SAFETY_PROFILE} } } }`,
    // Another company's MANAGER may not list this company's profiles; a WORKER lists only themselves.
    expect: { ...everyRole(() => ({ profiles: { nodes: [{ safetyForms: WORKER_FORMS }] } })), [OTHER_MANAGER]: () => ({ profiles: null }), [OTHER_WORKER]: () => ({ profiles: { nodes: [] } }) },
    refused: { [OTHER_MANAGER]: 'FORBIDDEN' },
  },
  'workforce:ProjectConnection.nodes -> safety:Project': {
    query: `query($company: ID!) { projects(first: 1, companyId: $company, status: ACTIVE) { nodes { ${SAFETY_PROJECT} } } }`,
    // Another company's MANAGER may not list this company's projects; a WORKER lists only theirs.
    expect: { ...everyRole(() => ({ projects: { nodes: [{ anomalies: PROJECT_ANOMALIES }] } })), [OTHER_MANAGER]: () => ({ projects: null }), [OTHER_WORKER]: () => ({ projects: { nodes: [] } }) },
    refused: { [OTHER_MANAGER]: 'FORBIDDEN' },
  },
  'workforce:Query.project -> safety:Project': {
    query: `query($project: ID!) { project(id: $project) { ${SAFETY_PROJECT} } }`,
    expect: everyRole(() => ({ project: { anomalies: PROJECT_ANOMALIES } })),
  },
  'workforce:Query.profile -> safety:Profile': {
    query: `query($worker: ID!) { profile(id: $worker) { ${SAFETY_PROFILE} } }`,
    expect: everyRole(() => ({ profile: { safetyForms: WORKER_FORMS } })),
  },
  'ciam:Me.company -> workforce:Company': {
    query: `{ me { company { name } } }`,
    expect: {
      // An ADMIN belongs to no company.
      ADMIN: () => ({ me: { company: null } }),
      MANAGER: (f) => ({ me: { company: { name: f.companyName } } }),
      WORKER: (f) => ({ me: { company: { name: f.companyName } } }),
      [OTHER_MANAGER]: (f) => ({ me: { company: { name: f.otherCompanyName } } }),
      [OTHER_WORKER]: (f) => ({ me: { company: { name: f.otherCompanyName } } }),
    },
  },
  'ciam:Me.profile -> workforce:Profile': {
    query: `{ me { profile { fullName } } }`,
    expect: {
      ADMIN: () => ({ me: { profile: null } }),
      MANAGER: () => ({ me: { profile: null } }),
      WORKER: (f) => ({ me: { profile: { fullName: f.workerName } } }),
      [OTHER_MANAGER]: () => ({ me: { profile: null } }),
      [OTHER_WORKER]: (f) => ({ me: { profile: { fullName: f.otherWorkerName } } }),
    },
  },
  'ciam:InternalUser.company -> workforce:Company': {
    // Through createdBy so a WORKER reaches an internal user too (they may not list users).
    query: `query($worker: ID!) { profile(id: $worker) { createdBy { name company { name } } } }`,
    expect: everyRole((f) => ({ profile: { createdBy: { name: f.managerName, company: { name: f.companyName } } } })),
  },
  'ciam:WorkerAccount.profile -> workforce:Profile': {
    query: `query($worker: ID!) { workerAccount(profileId: $worker) { profile { fullName } } }`,
    expect: everyRole((f) => ({ workerAccount: { profile: { fullName: f.workerName } } })),
  },
  'ciam:WorkerAccount.company -> workforce:Company': {
    query: `query($worker: ID!) { workerAccount(profileId: $worker) { company { name } } }`,
    expect: everyRole((f) => ({ workerAccount: { company: { name: f.companyName } } })),
  },
  'workforce:Profile.createdBy -> ciam:InternalUser': {
    query: `query($worker: ID!) { profile(id: $worker) { createdBy { name } } }`,
    expect: everyRole((f) => ({ profile: { createdBy: { name: f.managerName } } })),
  },
};

/**
 * The read-only sources (SaferApp, Fit2000) add their results field to Profile and Project:
 * every path to a Profile or Project reaches them, Safety's included. Each source holds one
 * result of the fixture's worker at the fixture's faena (in-memory doubles), so the hop
 * returns a row; a path to someone else's results is FORBIDDEN for a WORKER (only their own).
 */
const SOURCE_FIELDS = { saferapp: 'saferAppResults', fit2000: 'fit2000Results' } as const;
const one = { nodes: [{ sourceId: '1' }] };
const none = { nodes: [] };
for (const [source, F] of Object.entries(SOURCE_FIELDS)) {
  const R = `${F}(first: 5) { nodes { sourceId } }`;
  const entries: Record<string, Reach> = {
    [`ciam:Me.profile -> ${source}:Profile`]: {
      query: `{ me { profile { ${R} } } }`,
      expect: {
        ADMIN: () => ({ me: { profile: null } }),
        MANAGER: () => ({ me: { profile: null } }),
        WORKER: () => ({ me: { profile: { [F]: one } } }),
        [OTHER_MANAGER]: () => ({ me: { profile: null } }),
        // Their own profile: the source holds no result of theirs.
        [OTHER_WORKER]: () => ({ me: { profile: { [F]: none } } }),
      },
    },
    [`ciam:WorkerAccount.profile -> ${source}:Profile`]: {
      query: `query($worker: ID!) { workerAccount(profileId: $worker) { profile { ${R} } } }`,
      expect: everyRole(() => ({ workerAccount: { profile: { [F]: one } } })),
    },
    [`workforce:Query.profile -> ${source}:Profile`]: { query: `query($worker: ID!) { profile(id: $worker) { ${R} } }`, expect: everyRole(() => ({ profile: { [F]: one } })) },
    [`workforce:License.profile -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { licenses { profile { ${R} } } } }`,
      expect: everyRole(() => ({ profile: { licenses: [{ profile: { [F]: one } }] } })),
    },
    [`workforce:ProfileAssignment.profile -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { assignments { profile { ${R} } } } }`,
      expect: everyRole(() => ({ profile: { assignments: [{ profile: { [F]: one } }] } })),
    },
    [`workforce:ProfileCompany.profile -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { companies { profile { ${R} } } } }`,
      expect: everyRole(() => ({ profile: { companies: [{ profile: { [F]: one } }] } })),
    },
    // The worker's supervisor is another person: Workforce shows a WORKER no supervisor at all.
    [`workforce:ProfileCompany.supervisor -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { companies { supervisor { ${R} } } } }`,
      expect: { ADMIN: () => ({ profile: { companies: [{ supervisor: { [F]: none } }] } }), MANAGER: () => ({ profile: { companies: [{ supervisor: { [F]: none } }] } }), WORKER: () => ({ profile: { companies: [{ supervisor: null }] } }) },
    },
    [`workforce:ProfileCompany.reports -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { companies { supervisor { companies { reports { ${R} } } } } } }`,
      expect: {
        ADMIN: () => ({ profile: { companies: [{ supervisor: { companies: [{ reports: [{ [F]: one }] }] } }] } }),
        MANAGER: () => ({ profile: { companies: [{ supervisor: { companies: [{ reports: [{ [F]: one }] }] } }] } }),
        WORKER: () => ({ profile: { companies: [{ supervisor: null }] } }),
      },
    },
    [`workforce:ProfileConnection.nodes -> ${source}:Profile`]: {
      query: `{ profiles(first: 5, search: "Wilma") { nodes { ${R} } } }`,
      // Outsiders list only their company's profiles (or themselves): Wilma is not among them.
      expect: { ...everyRole(() => ({ profiles: { nodes: [{ [F]: one }] } })), [OTHER_MANAGER]: () => ({ profiles: { nodes: [] } }), [OTHER_WORKER]: () => ({ profiles: { nodes: [] } }) },
    },
    [`workforce:Mutation.updateProfile -> ${source}:Profile`]: {
      query: `mutation($worker: ID!) { updateProfile(id: $worker, input: {firstName: "Wilma"}) { ${R} } }`,
      ...managersOnly('updateProfile', () => ({ updateProfile: { [F]: one } })),
    },
    [`workforce:Mutation.createProfile -> ${source}:Profile`]: {
      query: `mutation($rut: String!) { createProfile(input: {rut: $rut, firstName: "Nuevo", lastName: "Perfil"}) { ${R} } }`,
      // A manager's new profile is not yet employed by their company: its results are not theirs to see.
      expect: {
        ADMIN: () => ({ createProfile: { [F]: none } }),
        MANAGER: () => ({ createProfile: { [F]: null } }),
        WORKER: () => ({ createProfile: null }),
        [OTHER_MANAGER]: () => ({ createProfile: { [F]: null } }),
        [OTHER_WORKER]: () => ({ createProfile: null }),
      },
      refused: { MANAGER: 'FORBIDDEN', WORKER: 'FORBIDDEN', [OTHER_MANAGER]: 'FORBIDDEN', [OTHER_WORKER]: 'FORBIDDEN' },
    },
    [`workforce:Query.project -> ${source}:Project`]: { query: `{ project(faenaCode: "${FAENA}") { ${R} } }`, expect: everyRole(() => ({ project: { [F]: one } })) },
    [`workforce:Assignment.project -> ${source}:Project`]: {
      query: `query($worker: ID!) { profile(id: $worker) { assignments { assignment { project { ${R} } } } } }`,
      expect: everyRole(() => ({ profile: { assignments: [{ assignment: { project: { [F]: one } } }] } })),
    },
    [`workforce:ProjectConnection.nodes -> ${source}:Project`]: {
      // The first project is the faena (the others were created after it). Outsiders list none of them.
      query: `{ projects(first: 1) { nodes { faenaCode ${R} } } }`,
      expect: { ...everyRole(() => ({ projects: { nodes: [{ faenaCode: FAENA, [F]: one }] } })), [OTHER_MANAGER]: () => ({ projects: { nodes: [] } }), [OTHER_WORKER]: () => ({ projects: { nodes: [] } }) },
    },
    [`workforce:Mutation.createProject -> ${source}:Project`]: {
      query: `mutation($company: ID!, $unique: String!) { createProject(input: {companyId: $company, name: "Nueva", faenaCode: $unique, startsOn: "2026-01-01"}) { ${R} } }`,
      ...managersOnly('createProject', () => ({ createProject: { [F]: none } })),
    },
    [`workforce:Mutation.closeProject -> ${source}:Project`]: {
      query: `mutation($closable: ID!) { closeProject(id: $closable) { ${R} } }`,
      ...managersOnly('closeProject', () => ({ closeProject: { [F]: none } })),
    },
    // Safety's entities lead to the worker and the faena: the sources' results of both.
    [`safety:Anomaly.reporter -> ${source}:Profile`]: {
      query: `query($anomaly: ID!) { anomaly(id: $anomaly) { reporter { ${R} } } }`,
      expect: everyRole(() => ({ anomaly: { reporter: { [F]: one } } })),
    },
    [`safety:Anomaly.project -> ${source}:Project`]: {
      query: `query($anomaly: ID!) { anomaly(id: $anomaly) { project { ${R} } } }`,
      expect: everyRole(() => ({ anomaly: { project: { [F]: one } } })),
    },
    [`safety:Compliance.profile -> ${source}:Profile`]: {
      query: `query($worker: ID!, $project: ID!) { profile(id: $worker) { compliance(projectId: $project) { profile { ${R} } } } }`,
      expect: everyRole(() => ({ profile: { compliance: { profile: { [F]: one } } } })),
    },
    [`safety:Compliance.project -> ${source}:Project`]: {
      query: `query($worker: ID!, $project: ID!) { profile(id: $worker) { compliance(projectId: $project) { project { ${R} } } } }`,
      expect: everyRole(() => ({ profile: { compliance: { project: { [F]: one } } } })),
    },
    [`safety:SafetyForm.profile -> ${source}:Profile`]: {
      query: `query($project: ID!) { project(id: $project) { safetyForms(first: 1) { nodes { profile { ${R} } } } } }`,
      expect: everyRole(() => ({ project: { safetyForms: { nodes: [{ profile: { [F]: one } }] } } })),
    },
    [`safety:SafetyForm.project -> ${source}:Project`]: {
      query: `query($worker: ID!) { profile(id: $worker) { safetyForms(first: 1) { nodes { project { ${R} } } } } }`,
      expect: everyRole(() => ({ profile: { safetyForms: { nodes: [{ project: { [F]: one } }] } } })),
    },
    // Safety's merged rows, and compliance's latest row per source, lead to the sources' results of the worker and the faena.
    [`safety:TestResult.profile -> ${source}:Profile`]: {
      query: `query($project: ID!) { project(id: $project) { testResults(first: 1) { nodes { profile { ${R} } } } } }`,
      expect: everyRole(() => ({ project: { testResults: { nodes: [{ profile: { [F]: one } }] } } })),
    },
    [`safety:TestResult.project -> ${source}:Project`]: {
      query: `query($worker: ID!, $project: ID!) { profile(id: $worker) { compliance(projectId: $project) { testResults { sources { provider latest { project { ${R} } } } } } } }`,
      expect: everyRole(() => ({
        profile: { compliance: { testResults: { sources: ['SAFERAPP', 'FIT2000'].map((provider) => ({ provider, latest: { project: { [F]: one } } })) } } },
      })),
    },
    // A source's results link the Profile/Project that Workforce, Safety and the other source resolve.
    [`${source}:TestResult.profile -> workforce:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { profile { fullName } } } } }`,
      expect: everyRole((f) => ({ profile: { [F]: { nodes: [{ profile: { fullName: f.workerName } }] } } })),
    },
    [`${source}:TestResult.project -> workforce:Project`]: {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { project { name } } } } }`,
      expect: everyRole((f) => ({ profile: { [F]: { nodes: [{ project: { name: f.projectName } }] } } })),
    },
    [`${source}:TestResult.profile -> safety:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { profile { ${SAFETY_PROFILE} } } } } }`,
      expect: everyRole(() => ({ profile: { [F]: { nodes: [{ profile: { safetyForms: WORKER_FORMS } }] } } })),
    },
    [`${source}:TestResult.project -> safety:Project`]: {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { project { ${SAFETY_PROJECT} } } } } }`,
      expect: everyRole(() => ({ profile: { [F]: { nodes: [{ project: { anomalies: PROJECT_ANOMALIES } }] } } })),
    },
  };
  for (const other of Object.keys(SOURCE_FIELDS).filter((o) => o !== source)) {
    const G = SOURCE_FIELDS[other as keyof typeof SOURCE_FIELDS];
    entries[`${source}:TestResult.profile -> ${other}:Profile`] = {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { profile { ${G} { nodes { sourceId } } } } } } }`,
      expect: everyRole(() => ({ profile: { [F]: { nodes: [{ profile: { [G]: one } }] } } })),
    };
    entries[`${source}:TestResult.project -> ${other}:Project`] = {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { project { ${G} { nodes { sourceId } } } } } } }`,
      expect: everyRole(() => ({ profile: { [F]: { nodes: [{ project: { [G]: one } }] } } })),
    };
  }
  Object.assign(REACH, entries);
}

const REFERENCES = crossSubgraphReferences(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));

/** Fresh RUT bodies for profiles the mutations create. */
let freshRuts = 0;
/** Per reference, sign-in and role: a project of the company that call may close (closeProject). */
const closable = new Map<string, string>();
const callKey = (r: Reference, via: Via, caller: Caller) => `${keyOf(r)} | ${via} | ${caller}`;

let stack: TestStack;
const fixture = {} as Fixture;
/** Per role, the headers of each way to sign in: the development headers and a real CIAM access token. */
const credentials = {} as Record<Via, Record<Caller, Record<string, string>>>;
const PASSWORD = 'correct horse battery staple';

async function gql(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[] }) };
}

async function ok(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const res = await gql(query, variables, headers);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data;
}

const DEV_ADMIN = { 'x-angelis-dev-user': 'admin@references.test' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const lastCode = () => [...stack.inbox.values()].at(-1)!;

async function verify(challengeId: string): Promise<string> {
  const data = await ok(`mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { accessToken } }`, { c: challengeId, code: lastCode() }, {});
  return data.verifyLoginCode.accessToken;
}

/** An invited internal user who set a password and signed in: their access token. */
async function internalUser(email: string, name: string, role: 'ADMIN' | 'MANAGER', companyId: string | null): Promise<string> {
  const invite = await ok(
    `mutation($i: InviteUserInput!) { inviteUser(input: $i) { inviteToken } }`,
    { i: { email, name, role, companyId } },
    DEV_ADMIN,
  );
  await ok(`mutation($t: String!, $p: String!) { setPassword(inviteToken: $t, password: $p) { id } }`, { t: invite.inviteUser.inviteToken, p: PASSWORD }, {});
  const challenge = await ok(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { challengeId } }`, { e: email, p: PASSWORD }, {});
  return verify(challenge.login.challengeId);
}

beforeAll(async () => {
  // Each source holds one result: the worker's, at the faena.
  const workerRut = rut(17_300_001);
  const resultOf = (provider: string): TestResult => {
    const takenAt = new Date('2026-11-01T08:00:00Z');
    return { provider, sourceId: '1', position: 1, rut: workerRut, faenaCode: FAENA, takenAt, result: 'APPROVED', score: 90, updatedAt: takenAt };
  };
  stack = await startTestStack('fedrefs', {
    sources: { saferapp: new InMemoryResultSource('SAFERAPP', 'sql', 'SaferApp', [resultOf('SAFERAPP')]), fit2000: new InMemoryResultSource('FIT2000', 'sql', 'Fit2000', [resultOf('FIT2000')]) },
  });
  fixture.companyName = 'Referencias Federadas SpA';
  fixture.managerName = 'Marta Manager';
  const offering = (await ok(`mutation { createOffering(input: {code: "FEDREF", name: "References"}) { id } }`, {}, DEV_ADMIN)).createOffering.id;
  fixture.companyId = (await ok(`mutation($n: String!, $r: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { n: fixture.companyName, r: rut(76_300_001) }, DEV_ADMIN)).registerCompany.id;
  await ok(`mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 5}) { id } }`, { c: fixture.companyId, o: offering }, DEV_ADMIN);

  const managerToken = await internalUser('marta@references.test', fixture.managerName, 'MANAGER', fixture.companyId);
  const adminToken = await internalUser('ada@references.test', 'Ada Admin', 'ADMIN', null);

  // The manager, signed in for real, creates the worker: so Profile.createdBy is a real internal user.
  const created = await ok(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Wilma", lastName: "Worker"}) { id fullName } }`, { r: workerRut }, bearer(managerToken));
  fixture.workerId = created.createProfile.id;
  fixture.workerName = created.createProfile.fullName;
  await ok(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: fixture.companyId, p: fixture.workerId }, DEV_ADMIN);
  await ok(`mutation($p: ID!, $r: String!, $c: ID!) { enableWorkerLogin(profileId: $p, rut: $r, companyId: $c) { rut } }`, { p: fixture.workerId, r: workerRut, c: fixture.companyId }, bearer(managerToken));
  const challenge = await ok(`mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: workerRut }, {});
  const workerToken = await verify(challenge.requestWorkerCode.challengeId);

  // The faena the sources' results name (the company's first project), the worker assigned
  // to it with a licence and a supervisor, one form and one anomaly of theirs on it.
  fixture.projectName = 'Faena Referencias';
  fixture.projectId = (await ok(`mutation($c: ID!, $n: String!, $f: String!) { createProject(input: {companyId: $c, name: $n, faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, { c: fixture.companyId, n: fixture.projectName, f: FAENA }, DEV_ADMIN)).createProject.id;
  const assignment = (await ok(`mutation($p: ID!) { createAssignment(input: {projectId: $p, name: "Rigger", startsOn: "2026-01-01"}) { id } }`, { p: fixture.projectId }, DEV_ADMIN)).createAssignment.id;
  await ok(`mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`, { a: assignment, p: fixture.workerId }, DEV_ADMIN);
  await ok(`mutation($p: ID!, $i: Date!, $e: Date!) { grantLicense(input: {profileId: $p, type: "RIGGING", number: "R-1", issuedOn: $i, expiresOn: $e}) { id } }`, { p: fixture.workerId, i: daysFromToday(-10), e: daysFromToday(100) }, DEV_ADMIN);
  fixture.supervisorId = (await ok(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Sara", lastName: "Supervisor"}) { id } }`, { r: rut(17_300_002) }, DEV_ADMIN)).createProfile.id;
  await ok(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: fixture.companyId, p: fixture.supervisorId }, DEV_ADMIN);
  await ok(`mutation($c: ID!, $p: ID!, $s: ID!) { setSupervisor(companyId: $c, profileId: $p, supervisorId: $s) { status } }`, { c: fixture.companyId, p: fixture.workerId, s: fixture.supervisorId }, DEV_ADMIN);
  fixture.templateId = (await ok(`mutation($c: ID!) { publishFormTemplate(input: {companyId: $c, name: "Check", mandatory: true, fields: [{key: "ok", label: "OK", type: BOOLEAN, required: true}]}) { id } }`, { c: fixture.companyId }, DEV_ADMIN)).publishFormTemplate.id;
  const devWorker = { 'x-angelis-dev-user': 'w', 'x-angelis-dev-role': 'WORKER', 'x-angelis-dev-profile': fixture.workerId };
  await ok(`mutation($t: ID!, $p: ID!) { submitSafetyForm(input: {templateId: $t, templateVersion: 1, projectId: $p, answers: [{key: "ok", value: true}]}) { id } }`, { t: fixture.templateId, p: fixture.projectId }, devWorker);
  fixture.anomalyId = (await ok(`mutation($p: ID!) { reportAnomaly(input: {projectId: $p, severity: LOW, description: "Reference anomaly"}) { id } }`, { p: fixture.projectId }, devWorker)).reportAnomaly.id;
  // One project per closeProject call (a refused WORKER's stays open).
  for (const reference of REFERENCES.filter((r) => r.parent === 'Mutation' && r.field === 'closeProject')) {
    for (const via of VIAS) {
      for (const role of CALLERS) {
        const code = `CLOSE-${randomBytes(4).toString('hex')}`;
        const project = await ok(`mutation($c: ID!, $f: String!) { createProject(input: {companyId: $c, name: "To close", faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, { c: fixture.companyId, f: code }, DEV_ADMIN);
        closable.set(callKey(reference, via, role), project.createProject.id);
      }
    }
  }

  // Another company, its manager, and a worker of its own who signs in.
  fixture.otherCompanyName = 'Otra Empresa SpA';
  const otherCompanyId = (await ok(`mutation($n: String!, $r: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { n: fixture.otherCompanyName, r: rut(76_300_002) }, DEV_ADMIN)).registerCompany.id;
  await ok(`mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 5}) { id } }`, { c: otherCompanyId, o: offering }, DEV_ADMIN);
  const otherManagerToken = await internalUser('otto@references.test', 'Otto Otro', 'MANAGER', otherCompanyId);
  const otherRut = rut(17_300_003);
  const other = (await ok(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Olga", lastName: "Otra"}) { id fullName } }`, { r: otherRut }, DEV_ADMIN)).createProfile;
  fixture.otherWorkerName = other.fullName;
  await ok(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: otherCompanyId, p: other.id }, DEV_ADMIN);
  await ok(`mutation($p: ID!, $r: String!, $c: ID!) { enableWorkerLogin(profileId: $p, rut: $r, companyId: $c) { rut } }`, { p: other.id, r: otherRut, c: otherCompanyId }, bearer(otherManagerToken));
  const otherChallenge = await ok(`mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: otherRut }, {});
  const otherWorkerToken = await verify(otherChallenge.requestWorkerCode.challengeId);

  credentials['development headers'] = {
    ADMIN: DEV_ADMIN,
    MANAGER: { 'x-angelis-dev-user': 'manager@references.test', 'x-angelis-dev-role': 'MANAGER', 'x-angelis-dev-company': fixture.companyId },
    WORKER: { 'x-angelis-dev-user': 'w', 'x-angelis-dev-role': 'WORKER', 'x-angelis-dev-profile': fixture.workerId, 'x-angelis-dev-company': fixture.companyId },
    [OTHER_MANAGER]: { 'x-angelis-dev-user': 'other-manager@references.test', 'x-angelis-dev-role': 'MANAGER', 'x-angelis-dev-company': otherCompanyId },
    [OTHER_WORKER]: { 'x-angelis-dev-user': 'o', 'x-angelis-dev-role': 'WORKER', 'x-angelis-dev-profile': other.id, 'x-angelis-dev-company': otherCompanyId },
  };
  credentials['CIAM token'] = {
    ADMIN: bearer(adminToken),
    MANAGER: bearer(managerToken),
    WORKER: bearer(workerToken),
    [OTHER_MANAGER]: bearer(otherManagerToken),
    [OTHER_WORKER]: bearer(otherWorkerToken),
  };
});
afterAll(async () => stack?.stop());

describe('entity references across subgraphs', () => {
  it('the supergraph has references, and REACH covers exactly them', () => {
    expect(REFERENCES.length).toBeGreaterThan(0);
    const found = REFERENCES.map(keyOf).sort();
    const missing = found.filter((k) => !(k in REACH));
    expect(missing, `add to REACH how to reach: ${missing.join(', ')}`).toEqual([]);
    expect(Object.keys(REACH).sort(), 'REACH names references the supergraph no longer has').toEqual(found);
  });

  for (const via of VIAS) {
    describe(`signed in with ${via}`, () => {
      for (const reference of REFERENCES) {
        for (const role of CALLERS) {
          it(`${keyOf(reference)} as ${role}`, async () => {
            const reach = REACH[keyOf(reference)];
            expect(reach, `no way to reach ${keyOf(reference)} in REACH`).toBeDefined();
            const variables = {
              worker: fixture.workerId,
              company: fixture.companyId,
              project: fixture.projectId,
              template: fixture.templateId,
              anomaly: fixture.anomalyId,
              supervisor: fixture.supervisorId,
              closable: closable.get(callKey(reference, via, role)),
              unique: `REF-${randomBytes(4).toString('hex')}`,
              rut: rut(18_000_000 + freshRuts++),
              ...reach.variables?.(role, via),
            };
            const res = await gql(reach.query, variables, credentials[via][role]);
            const refused = reach.refused?.[role];
            if (refused) expect(res.errors?.map((e) => e.extensions?.code), JSON.stringify(res)).toEqual([refused]);
            else expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
            const expected = reach.expect[role];
            expect(res.data, JSON.stringify(res.data)).toEqual(expected ? expected(fixture) : hidden(reach.query));
          });
        }
      }
    });
  }
});
