import type DataLoader from 'dataloader';
import type { Identity } from '../auth/identity.ts';
import { ForbiddenError, SourceUnavailableError } from '../errors.ts';
import { normalizeRut } from '../domain/rut.ts';
import { requireIdentity, type RequestContext } from '../graphql/context.ts';
import { requireAuthentication } from '../graphql/guard.ts';
import { groupedBy, perArgs } from '../graphql/loaders.ts';
import { toConnection } from '../graphql/pagination.ts';
import { DateScalar, DateTimeScalar } from '../graphql/scalars.ts';
import type { TestResultSource } from './adapter.ts';
import { resultFilter, type ResultArgs, type ResultFilter, type TestResult } from './results.ts';

/**
 * The graph side of a test-result source, shared by every source subgraph: `Profile.<field>`
 * (by RUT) and `Project.<field>` (by faena code), each filterable and paged, batched (every
 * profile or project of a response asking with the same arguments costs one statement),
 * under the platform's role rules, decided from the identity the gateway signs and the
 * fields the subgraph @requires of Workforce:
 * - ADMIN: any; MANAGER: a profile working for their company (`companies(status: ACTIVE)`
 *   as Workforce shows it to them), a project of their company (`company { id }`);
 * - WORKER: their own profile (`id`); on a project, only their own results (their RUT,
 *   asked of Workforce as them).
 */

/** The Profile representation the gateway sends (key and required fields). */
export interface ProfileRef {
  rut: string;
  id?: string;
  companies?: { company: { id: string } | null }[] | null;
}

/** The Project representation the gateway sends. */
export interface ProjectRef {
  faenaCode: string;
  company?: { id: string } | null;
}

/** A worker's own RUT, as Workforce shows it to them; null when they have no profile there. */
export type OwnRutLookup = (identity: Identity, correlationId: string) => Promise<string | null>;

export interface SourceContext extends RequestContext {
  results: SourceLoaders;
}

export interface SourceLoaders {
  byRut(filter: ResultFilter): DataLoader<string, TestResult[]>;
  byFaena(filter: ResultFilter, onlyRut: string | null): DataLoader<string, TestResult[]>;
  ownRut(): Promise<string | null>;
}

/** Per-request loaders over a source. */
export function sourceLoaders(source: TestResultSource, ownRut: OwnRutLookup, base: RequestContext): SourceLoaders {
  let own: Promise<string | null> | null = null;
  const byRut = perArgs((f: ResultFilter) => groupedBy<string, TestResult>((ruts) => source.byRuts(ruts, f), (r) => r.rut));
  const byFaena = perArgs(({ f, onlyRut }: { f: ResultFilter; onlyRut: string | null }) =>
    groupedBy<string, TestResult>((faenas) => source.byFaenas(faenas, f, onlyRut ?? undefined), (r) => r.faenaCode),
  );
  return {
    byRut,
    byFaena: (f, onlyRut) => byFaena({ f, onlyRut }),
    ownRut: () => (own ??= ownRut(requireIdentity(base.identity), base.correlationId)),
  };
}

function mayReadProfile(identity: Identity, profile: ProfileRef): boolean {
  if (identity.role === 'ADMIN') return true;
  if (identity.role === 'MANAGER') return !!identity.companyId && (profile.companies ?? []).some((c) => c.company?.id === identity.companyId);
  return !!identity.profileId && profile.id === identity.profileId;
}

/** The resolvers of a source subgraph whose results fields are named `field` on Profile and Project. */
export function testResultResolvers<F extends string>(field: F, sourceName: string) {
  const profileResults = async (profile: ProfileRef, args: ResultArgs, ctx: SourceContext) => {
    const identity = requireIdentity(ctx.identity);
    const filter = resultFilter(args);
    if (!mayReadProfile(identity, profile)) throw new ForbiddenError(`You may not see this worker's ${sourceName} results`);
    const rut = normalizeRut(profile.rut);
    return toConnection(await ctx.results.byRut(filter).load(rut), filter.page);
  };
  const projectResults = async (project: ProjectRef, args: ResultArgs, ctx: SourceContext) => {
    const identity = requireIdentity(ctx.identity);
    const filter = resultFilter(args);
    let onlyRut: string | null = null;
    if (identity.role === 'MANAGER' && (!identity.companyId || project.company?.id !== identity.companyId)) {
      throw new ForbiddenError(`You may not see this faena's ${sourceName} results`);
    }
    if (identity.role === 'WORKER') {
      onlyRut = await ctx.results.ownRut();
      if (!onlyRut) throw new ForbiddenError(`You may not see this faena's ${sourceName} results`);
    }
    return toConnection(await ctx.results.byFaena(filter, onlyRut).load(project.faenaCode), filter.page);
  };
  return requireAuthentication({
    Date: DateScalar,
    DateTime: DateTimeScalar,
    Profile: {
      __resolveReference: (ref: ProfileRef) => ref,
      ...({ [field]: profileResults } as Record<F, typeof profileResults>),
    },
    Project: {
      __resolveReference: (ref: ProjectRef) => ref,
      ...({ [field]: projectResults } as Record<F, typeof projectResults>),
    },
    TestResult: {
      profile: (r: TestResult) => ({ __typename: 'Profile', rut: r.rut }),
      project: (r: TestResult) => ({ __typename: 'Project', faenaCode: r.faenaCode }),
    },
  });
}

/** Workforce asked, as the worker, for their own RUT. */
export function ownRutFromWorkforce(ask: ((caller: Identity, document: string, variables: Record<string, unknown>, correlationId: string) => Promise<{ status: number; data?: { profile: { rut: string } | null } | null; errors?: unknown[] }>) | null): OwnRutLookup {
  return async (identity, correlationId) => {
    if (!identity.profileId) return null;
    if (!ask) throw new SourceUnavailableError('workforce', 'Workforce is not configured: a worker\'s own results cannot be told apart');
    const answer = await ask(identity, 'query($id: ID!) { profile(id: $id) { rut } }', { id: identity.profileId }, correlationId);
    if (answer.status !== 200 || answer.data === undefined) throw new SourceUnavailableError('workforce');
    return answer.data?.profile?.rut ?? null;
  };
}
