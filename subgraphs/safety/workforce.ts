import DataLoader from 'dataloader';
import type { Identity } from '../../platform/auth/identity.ts';
import { SourceUnavailableError } from '../../platform/errors.ts';
import { subgraphClient, type SubgraphAnswer } from '../../platform/graphql/subgraph-client.ts';
import type { Logger } from '../../platform/logger.ts';

/**
 * Safety's window on Workforce, which owns companies, projects, assignments and licences.
 * Domains meet only through the graph: Safety asks Workforce's GraphQL endpoint as the
 * caller (signed as the gateway signs identities), so Workforce's own visibility rules decide
 * what the caller sees; what is hidden from the caller is null here. Lookups go through
 * per-request DataLoaders: one HTTP call (`_entities`) per batch, whatever the number of rows.
 */

export interface VisibleProject {
  id: string;
  companyId: string;
  /** The code the test-result sources (SaferApp, Fit2000) know the faena by. */
  faenaCode: string;
}

/** A worker as the test-result sources need them: their RUT and the companies they work for now. */
export interface WorkforcePerson {
  id: string;
  rut: string;
  companies: { company: { id: string } }[];
}

export interface WorkforceLicense {
  id: string;
  issuedOn: string;
  expiresOn: string;
  revokedOn: string | null;
}

/** Projects a worker is assigned to now, and was assigned to before. */
export interface WorkerProjects {
  current: VisibleProject[];
  past: VisibleProject[];
}

/** Workforce as Safety asks it, for one request's caller. */
export interface WorkforceLookups {
  project: DataLoader<string, VisibleProject | null>;
  licenses: DataLoader<string, WorkforceLicense[] | null>;
  company: DataLoader<string, boolean>;
  /** A worker's RUT and current companies (what the test-result sources' rules need). */
  person: DataLoader<string, WorkforcePerson | null>;
  /** A profile's id by RUT, and a project's by faena code (a test result's references). */
  profileIdByRut: DataLoader<string, string | null>;
  projectIdByFaena: DataLoader<string, string | null>;
  /** The caller's own projects (a WORKER's), asked once per request. */
  workerProjects(): Promise<WorkerProjects>;
}

export type WorkforceClient = (caller: Identity, correlationId: string) => WorkforceLookups;

const HIDDEN = new Set(['NOT_FOUND', 'FORBIDDEN']);

const ENTITIES = (fragment: string) => `query($r: [_Any!]!) { _entities(representations: $r) { ${fragment} } }`;
const PROJECTS = ENTITIES('... on Project { id faenaCode company { id } }');
const PEOPLE = ENTITIES('... on Profile { id rut companies(status: ACTIVE) { company { id } } }');
const IDS = ENTITIES('... on Profile { id } ... on Project { id }');
const COMPANIES = ENTITIES('... on Company { id }');
const LICENSES = ENTITIES('... on Profile { id licenses { id issuedOn expiresOn revokedOn } }');
const WORKER_PROJECTS = `query($id: ID!) { profile(id: $id) {
  current: assignments(status: ASSIGNED) { assignment { project { id faenaCode company { id } } } }
  past: assignments(status: UNASSIGNED) { assignment { project { id faenaCode company { id } } } }
} }`;

type ProjectRef = { id: string; faenaCode: string; company: { id: string } };
type Assigned = { assignment: { project: ProjectRef } }[];

export function workforceClient(o: { url: string | null; identitySecret: string; log: Logger; timeoutMs?: number }): WorkforceClient {
  const unavailable = () => new SourceUnavailableError('Workforce', 'Workforce cannot be asked about projects right now; nothing was changed, try again');
  if (!o.url) o.log.warn('ANGELIS_WORKFORCE_URL is unset: Safety cannot check projects, assignments or licences');
  const ask = o.url ? subgraphClient({ name: 'workforce', url: o.url, identitySecret: o.identitySecret, log: o.log, timeoutMs: o.timeoutMs }) : null;

  /** The answer's data, with errors that only say "hidden from you" read as null entries. */
  async function query<T>(caller: Identity, document: string, variables: Record<string, unknown>, correlationId: string): Promise<T> {
    if (!ask) throw unavailable();
    let answer: SubgraphAnswer<T>;
    try {
      answer = await ask<T>(caller, document, variables, correlationId);
    } catch {
      throw unavailable();
    }
    const errors = (answer.errors ?? []).filter((e) => !HIDDEN.has(e.extensions?.code as string));
    if (answer.status !== 200 || errors.length > 0 || !answer.data) {
      o.log.warn({ status: answer.status, error: errors[0]?.message ?? answer.errors?.[0]?.message, correlationId }, 'workforce lookup failed');
      throw unavailable();
    }
    return answer.data;
  }

  return (caller, correlationId) => {
    const entities = <T>(document: string, typename: string, key = 'id') =>
      new DataLoader<string, T | null>(async (ids) => {
        const data = await query<{ _entities: (T | null)[] }>(caller, document, { r: ids.map((id) => ({ __typename: typename, [key]: id })) }, correlationId);
        return ids.map((_, i) => data._entities[i] ?? null);
      });
    const idOf = (typename: string, key: string) => {
      const found = entities<{ id: string }>(IDS, typename, key);
      return new DataLoader<string, string | null>(async (keys) => (await found.loadMany(keys)).map((e) => (e instanceof Error ? e : (e?.id ?? null))));
    };
    const projects = entities<ProjectRef>(PROJECTS, 'Project');
    const companies = entities<{ id: string }>(COMPANIES, 'Company');
    const profiles = entities<{ id: string; licenses: WorkforceLicense[] }>(LICENSES, 'Profile');
    let mine: Promise<WorkerProjects> | null = null;
    const toProject = (p: ProjectRef): VisibleProject => ({ id: p.id, companyId: p.company.id, faenaCode: p.faenaCode });
    return {
      project: new DataLoader(async (ids) => (await projects.loadMany(ids)).map((p) => (p instanceof Error ? p : p && toProject(p)))),
      company: new DataLoader(async (ids) => (await companies.loadMany(ids)).map((c) => (c instanceof Error ? c : c !== null))),
      licenses: new DataLoader(async (ids) => (await profiles.loadMany(ids)).map((p) => (p instanceof Error ? p : (p?.licenses ?? null)))),
      person: entities<WorkforcePerson>(PEOPLE, 'Profile'),
      profileIdByRut: idOf('Profile', 'rut'),
      projectIdByFaena: idOf('Project', 'faenaCode'),
      workerProjects() {
        if (caller.role !== 'WORKER' || !caller.profileId) return Promise.resolve({ current: [], past: [] });
        mine ??= query<{ profile: { current: Assigned; past: Assigned } | null }>(caller, WORKER_PROJECTS, { id: caller.profileId }, correlationId).then((d) => ({
          current: (d.profile?.current ?? []).map((a) => toProject(a.assignment.project)),
          past: (d.profile?.past ?? []).map((a) => toProject(a.assignment.project)),
        }));
        return mine;
      },
    };
  };
}
