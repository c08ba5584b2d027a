import DataLoader from 'dataloader';
import type { Identity } from '../../platform/auth/identity.ts';
import { BadUserInputError, ForbiddenError } from '../../platform/errors.ts';
import { subgraphClient, type SubgraphAnswer } from '../../platform/graphql/subgraph-client.ts';
import { perArgs } from '../../platform/graphql/loaders.ts';
import { encodeCursor, type Connection } from '../../platform/graphql/pagination.ts';
import type { Logger } from '../../platform/logger.ts';
import { resultFilter, type ResultArgs } from '../../platform/sources/results.ts';

/**
 * Safety's window on the external test-result sources (SaferApp, Fit2000). Like Workforce,
 * they are asked through their GraphQL APIs as the caller (signed as the gateway signs
 * identities), never their databases: each source's own role rules decide what the caller
 * sees. Per request, every profile or faena asking with the same arguments costs one
 * `_entities` call per source (DataLoader), which the source answers with one statement.
 *
 * Two uses: the merged `testResults` lists (both providers, one composite cursor) and the
 * compliance check (the latest result of a person at a faena up to a day).
 */

export const PROVIDERS = ['SAFERAPP', 'FIT2000'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Each source subgraph: its service name (for `endpointOf`), what people call it and its results field. */
export const RESULT_SOURCES: Record<Provider, { service: string; name: string; field: string }> = {
  SAFERAPP: { service: 'saferapp', name: 'SaferApp', field: 'saferAppResults' },
  FIT2000: { service: 'fit2000', name: 'Fit2000', field: 'fit2000Results' },
};

/** A result as a source answers it (the shared TestResult type's own fields). */
export interface ResultRow {
  provider: Provider;
  sourceId: string;
  rut: string;
  faenaCode: string;
  takenAt: string;
  result: 'APPROVED' | 'REJECTED' | 'PENDING';
  score: number | null;
}

/** The representation a source resolves: a Profile by RUT (with what its rules @require), or a Project by faena code. */
export type SourceRef =
  | { __typename: 'Profile'; rut: string; id: string; companies: { company: { id: string } }[] }
  | { __typename: 'Project'; faenaCode: string; company: { id: string } };

export interface SourcePage {
  rows: ResultRow[];
  hasNextPage: boolean;
}

/** One source's answer for one profile or faena: a page, or why there is none. */
export type SourceAnswer = { page: SourcePage } | { failed: 'FORBIDDEN' | 'UNAVAILABLE' };

interface PageQuery {
  from?: string | null;
  to?: string | null;
  result?: string | null;
  first: number;
  after: string | null;
}

export interface TestResultLookups {
  /** One page of one source for one profile or faena (batched per source and arguments). */
  page(provider: Provider, ref: SourceRef, q: PageQuery): Promise<SourceAnswer>;
}

export type TestResultsClient = (caller: Identity, correlationId: string) => TestResultLookups;

const ROW = 'provider sourceId rut faenaCode takenAt result score';
const PAGE_QUERY = (type: 'Profile' | 'Project', field: string) => `query($r: [_Any!]!, $from: Date, $to: Date, $result: TestOutcome, $first: Int, $after: String) {
  _entities(representations: $r) { ... on ${type} { results: ${field}(from: $from, to: $to, result: $result, first: $first, after: $after) { nodes { ${ROW} } pageInfo { hasNextPage } } } }
}`;

type EntitiesAnswer = { _entities: ({ results: { nodes: ResultRow[]; pageInfo: { hasNextPage: boolean } } | null } | null)[] };

export function testResultsClient(o: { urls: Record<Provider, string | null>; identitySecret: string; log: Logger; timeoutMs?: number }): TestResultsClient {
  const ask = Object.fromEntries(
    PROVIDERS.map((p) => {
      const url = o.urls[p];
      if (!url) o.log.warn(`ANGELIS_${RESULT_SOURCES[p].service.toUpperCase()}_URL is unset: Safety answers ${RESULT_SOURCES[p].name}'s test results as NOT_AVAILABLE`);
      return [p, url ? subgraphClient({ name: RESULT_SOURCES[p].service, url, identitySecret: o.identitySecret, log: o.log, timeoutMs: o.timeoutMs }) : null];
    }),
  ) as Record<Provider, ReturnType<typeof subgraphClient> | null>;

  return (caller, correlationId) => {
    const loaders = perArgs(({ provider, type, q }: { provider: Provider; type: 'Profile' | 'Project'; q: PageQuery }) =>
      new DataLoader<SourceRef, SourceAnswer, string>(
        async (refs) => {
          const client = ask[provider];
          const unavailable = refs.map((): SourceAnswer => ({ failed: 'UNAVAILABLE' }));
          if (!client) return unavailable;
          let answer: SubgraphAnswer<EntitiesAnswer>;
          try {
            answer = await client<EntitiesAnswer>(caller, PAGE_QUERY(type, RESULT_SOURCES[provider].field), { r: refs, ...q }, correlationId);
          } catch {
            return unavailable;
          }
          if (answer.status !== 200 || !answer.data?._entities) {
            o.log.warn({ status: answer.status, error: answer.errors?.[0]?.message, correlationId }, `${RESULT_SOURCES[provider].name} did not answer test results`);
            return unavailable;
          }
          const entities = answer.data._entities;
          return refs.map((_, i): SourceAnswer => {
            const results = entities[i]?.results;
            if (results) return { page: { rows: results.nodes, hasNextPage: results.pageInfo.hasNextPage } };
            const error = (answer.errors ?? []).find((e) => e.path?.[1] === i) ?? answer.errors?.[0];
            return { failed: error?.extensions?.code === 'FORBIDDEN' ? 'FORBIDDEN' : 'UNAVAILABLE' };
          });
        },
        { cacheKeyFn: (ref) => JSON.stringify(ref) },
      ),
    );
    return {
      page: (provider, ref, q) => loaders({ provider, type: ref.__typename, q }).load(ref),
    };
  };
}

// ---------------------------------------------------------------------------------------
// The merged list: both providers, one composite cursor.

/** A composite cursor: the source id of the last row taken from each provider (0: none yet). */
export type MergedCursor = Record<Provider, number>;

export function encodeMergedCursor(c: MergedCursor): string {
  return Buffer.from(`m:${PROVIDERS.map((p) => c[p]).join(':')}`).toString('base64url');
}

export function decodeMergedCursor(after: string | null | undefined): MergedCursor {
  const start = Object.fromEntries(PROVIDERS.map((p) => [p, 0])) as MergedCursor;
  if (after == null) return start;
  const m = /^m:(\d{1,15}):(\d{1,15})$/.exec(Buffer.from(after, 'base64url').toString());
  if (!m) throw new BadUserInputError('after is not a cursor this API returned', 'after');
  return { SAFERAPP: Number(m[1]), FIT2000: Number(m[2]) };
}

export interface MergedConnection extends Connection<ResultRow> {
  unavailableProviders: Provider[];
}

/** Merged order: takenAt, then provider (SAFERAPP first), then source id. */
function before(a: ResultRow, b: ResultRow): boolean {
  if (a.takenAt !== b.takenAt) return new Date(a.takenAt) < new Date(b.takenAt);
  if (a.provider !== b.provider) return PROVIDERS.indexOf(a.provider) < PROVIDERS.indexOf(b.provider);
  return Number(a.sourceId) < Number(b.sourceId);
}

/**
 * Both providers' results for one profile or faena, merged. Each provider is read in its
 * own page order (its source id) from where the cursor left it, `first` rows each; the two
 * runs are merged by comparing their heads (takenAt, provider, id) and the first `first`
 * rows returned. The cursor keeps, per provider, the id of the last row taken, so the
 * pages together are exactly the merge of the two full lists, each row once. A provider
 * that cannot answer is named in `unavailableProviders` (its position stays where it was);
 * one that refuses the caller makes the whole field FORBIDDEN (both apply the same rules).
 */
export async function mergedResults(lookups: TestResultLookups, ref: SourceRef, args: ResultArgs): Promise<MergedConnection> {
  const { page } = resultFilter({ ...args, after: null });
  const cursor = decodeMergedCursor(args.after);
  const q = (p: Provider): PageQuery => ({ from: args.from ?? null, to: args.to ?? null, result: args.result ?? null, first: page.limit, after: cursor[p] > 0 ? encodeCursor(cursor[p]) : null });
  const answers = await Promise.all(PROVIDERS.map(async (p) => [p, await lookups.page(p, ref, q(p))] as const));
  if (answers.some(([, a]) => 'failed' in a && a.failed === 'FORBIDDEN')) throw new ForbiddenError('You may not see these test results');
  const unavailableProviders = answers.filter(([, a]) => 'failed' in a).map(([p]) => p);
  const runs = answers.flatMap(([p, a]) => ('page' in a ? [{ provider: p, rows: a.page.rows, more: a.page.hasNextPage }] : []));
  const heads = runs.map(() => 0);
  const nodes: ResultRow[] = [];
  while (nodes.length < page.limit) {
    let pick = -1;
    runs.forEach((r, i) => {
      const row = r.rows[heads[i]];
      if (row && (pick < 0 || before(row, runs[pick].rows[heads[pick]]))) pick = i;
    });
    if (pick < 0) break;
    nodes.push(runs[pick].rows[heads[pick]++]);
  }
  const next = { ...cursor };
  for (const n of nodes) next[n.provider] = Number(n.sourceId);
  const hasNextPage = runs.some((r, i) => heads[i] < r.rows.length || r.more);
  return { nodes, pageInfo: { hasNextPage, endCursor: nodes.length > 0 ? encodeMergedCursor(next) : null }, unavailableProviders };
}

// ---------------------------------------------------------------------------------------
// Compliance: the latest result of a person at a faena up to a day.

export type TestResultsStatus = 'APPROVED' | 'NOT_APPROVED' | 'NO_RESULTS' | 'NOT_AVAILABLE';

export interface SourceVerdict {
  provider: Provider;
  status: TestResultsStatus;
  /** The latest result at the faena up to the day, when the source holds one. */
  latest: ResultRow | null;
}

/** Results read per call while looking for the latest (the sources' largest page). */
const LATEST_PAGE = 100;
/**
 * Pages read at most per person and source while looking for the latest (1,000 results):
 * a person with more up to the day gets NOT_AVAILABLE for that source rather than an
 * unbounded walk through its history on every compliance check.
 */
export const LATEST_MAX_PAGES = 10;

/**
 * One source's verdict for a person at a faena on a day: the person's results up to the day
 * (`to: on`, read page after page in the source's order; every profile of a response shares
 * each call), those at the faena, the latest by takenAt (then source id). APPROVED when it
 * is APPROVED, NOT_APPROVED when REJECTED or PENDING, NO_RESULTS when none, NOT_AVAILABLE
 * when the source cannot answer or refuses the caller, or holds more than `LATEST_MAX_PAGES`
 * pages of the person's results up to the day.
 */
export async function latestVerdict(lookups: TestResultLookups, provider: Provider, person: SourceRef & { __typename: 'Profile' }, faenaCode: string, on: string): Promise<SourceVerdict> {
  let latest: ResultRow | null = null;
  let after: string | null = null;
  for (let pages = 0; ; pages++) {
    if (pages === LATEST_MAX_PAGES) return { provider, status: 'NOT_AVAILABLE', latest: null };
    const answer = await lookups.page(provider, person, { to: on, first: LATEST_PAGE, after });
    if ('failed' in answer) return { provider, status: 'NOT_AVAILABLE', latest: null };
    for (const row of answer.page.rows) {
      if (row.faenaCode === faenaCode && (latest === null || before(latest, row))) latest = row;
    }
    const last = answer.page.rows[answer.page.rows.length - 1];
    if (!answer.page.hasNextPage || !last) break;
    after = encodeCursor(Number(last.sourceId));
  }
  if (latest === null) return { provider, status: 'NO_RESULTS', latest: null };
  return { provider, status: latest.result === 'APPROVED' ? 'APPROVED' : 'NOT_APPROVED', latest };
}

/**
 * The rule across sources: NOT_APPROVED when any source's latest result is not approved;
 * else APPROVED when at least one source holds a result (each source with results has its
 * latest approved); else NO_RESULTS when a source answered with none; else NOT_AVAILABLE
 * (no source could answer). A source that is down does not fail compliance: it is named
 * NOT_AVAILABLE in the per-source verdicts.
 */
export function combinedStatus(verdicts: SourceVerdict[]): TestResultsStatus {
  const has = (s: TestResultsStatus) => verdicts.some((v) => v.status === s);
  if (has('NOT_APPROVED')) return 'NOT_APPROVED';
  if (has('APPROVED')) return 'APPROVED';
  if (has('NO_RESULTS')) return 'NO_RESULTS';
  return 'NOT_AVAILABLE';
}
