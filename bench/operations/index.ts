import { readFileSync } from 'node:fs';
import { nestedReadCheck, type NestedShape } from '../support/nested.ts';

/**
 * The operations of bench:gateway (the .graphql files beside this one) and their variable
 * generators. Bodies come from a list of distinct variable sets walked in a shuffled
 * order, so no gateway can answer many clients with one identical in-flight request.
 */
const read = (file: string) => readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');

export interface BenchData {
  /** Companies with the nested read's projects, assignments and (all the) profiles. */
  nestedCompanyIds: string[];
  profileIds: string[];
  /** CIAM internal users, each the MANAGER of one company (of many, so that the entity fetches behind them differ too). */
  userIds: string[];
}

export interface Operation {
  name: string;
  /** Whether a subgraph alone can answer it (so it is also timed straight to Workforce). */
  workforceOnly: boolean;
  /** Writes: not compared between gateways (each write changes the data). */
  writes: boolean;
  /** The next request body (with what check needs to judge its response). */
  body(): string | { text: string; meta: unknown };
  check(text: string, meta?: unknown): string | undefined;
  /** Bodies whose `data` must be identical from every gateway before anything is timed. */
  samples(): string[];
  /** Reads that saw a version older than one already acknowledged (the mix only); reset per phase. */
  stale?: { count: number };
}

const shuffled = <T>(xs: readonly T[]): T[] => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};

/** Cycles over the distinct bodies of `variables`, reshuffled on each pass. */
function cycle(query: string, variables: Record<string, unknown>[]): () => string {
  const bodies = variables.map((v) => JSON.stringify({ query, variables: v }));
  let order = shuffled(bodies);
  let i = 0;
  return () => {
    if (i === order.length) {
      order = shuffled(bodies);
      i = 0;
    }
    return order[i++];
  };
}

const noErrors = (text: string) => (text.includes('"errors"') ? text.slice(0, 300) : undefined);
const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });

export function operations(data: BenchData, shape: NestedShape, o: { mixWorkingSet: number }): Operation[] {
  const nested = read('nested-read.graphql');
  const byId = read('by-id.graphql');
  const twoSubgraph = read('two-subgraph.graphql');
  const list = read('list.graphql');
  const mutation = read('mutation.graphql');
  const mixRead = read('mix-read.graphql');
  // 10..100 x 10..100 page sizes: all above what a company has, so the same data.
  const pageSizes = Array.from({ length: 91 * 91 }, (_, i) => [10 + (i % 91), 10 + Math.floor(i / 91)]);
  // Every part of "Worker Number" of 3+ characters, in three cases: each matches every seeded name.
  const words = ['Worker', 'Number', 'Worker Number'];
  const parts = [...new Set(words.flatMap((w) => Array.from({ length: w.length }, (_, a) => Array.from({ length: w.length - a - 2 }, (_, l) => w.slice(a, a + l + 3))).flat()))];
  const searches = parts.flatMap((p) => [p, p.toLowerCase(), p.toUpperCase()]);
  let phone = 0;
  const nextPhone = () => `+56 9 ${String(10_000_000 + (phone++ % 89_999_999)).padStart(8, '0')}`;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)];

  const listCheck = (text: string) => {
    const problem = noErrors(text);
    if (problem) return problem;
    const n = (JSON.parse(text) as { data: { profiles: { nodes: unknown[] } } }).data.profiles.nodes.length;
    return n === Math.min(100, shape.profiles) ? undefined : `listed ${n} profiles`;
  };

  // The 80/20 mix: the highest version each profile of the working set was acknowledged at.
  const workingSet = data.profileIds.slice(0, o.mixWorkingSet);
  const acked = new Map<string, number>();
  const stale = { count: 0 };
  type MixMeta = { write: boolean; id: string; atLeast: number };

  return [
    {
      name: 'nested read',
      workforceOnly: true,
      writes: false,
      body: cycle(nested, data.nestedCompanyIds.flatMap((id) => pageSizes.map(([projects, assignments]) => ({ id, projects, assignments })))),
      check: nestedReadCheck(shape),
      samples: () => data.nestedCompanyIds.slice(0, 2).map((id, i) => body(nested, { id, projects: 10 + i, assignments: 100 - i })),
    },
    {
      name: 'by-id lookup',
      workforceOnly: true,
      writes: false,
      body: cycle(byId, data.profileIds.map((id) => ({ id }))),
      check: (text) => noErrors(text) ?? (text.includes('"profile":null') ? 'profile not found' : undefined),
      samples: () => data.profileIds.slice(0, 3).map((id) => body(byId, { id })),
    },
    {
      name: 'two subgraphs',
      workforceOnly: false,
      writes: false,
      body: cycle(twoSubgraph, data.userIds.map((id) => ({ id }))),
      check: (text) => noErrors(text) ?? (text.includes('"company":null') || text.includes('"internalUser":null') ? text.slice(0, 300) : undefined),
      samples: () => data.userIds.slice(0, 3).map((id) => body(twoSubgraph, { id })),
    },
    {
      name: '100-entity list',
      workforceOnly: true,
      writes: false,
      body: cycle(list, data.nestedCompanyIds.flatMap((companyId) => searches.map((search) => ({ companyId, search })))),
      check: listCheck,
      samples: () => data.nestedCompanyIds.slice(0, 2).map((companyId, i) => body(list, { companyId, search: searches[i * 7] })),
    },
    {
      name: 'mutation',
      workforceOnly: true,
      writes: true,
      body: () => body(mutation, { id: pick(data.profileIds), phone: nextPhone() }),
      check: noErrors,
      samples: () => [],
    },
    {
      name: '80/20 read/write mix',
      workforceOnly: true,
      writes: true,
      stale,
      body: () => {
        const id = pick(workingSet);
        const write = Math.random() < 0.2;
        const meta: MixMeta = { write, id, atLeast: acked.get(id) ?? 0 };
        return { text: write ? body(mutation, { id, phone: nextPhone() }) : body(mixRead, { id }), meta };
      },
      check: (text, meta) => {
        const problem = noErrors(text);
        if (problem) return problem;
        const m = meta as MixMeta;
        const parsed = JSON.parse(text) as { data: { profile?: { version: number }; updateProfile?: { version: number } } };
        if (m.write) {
          const version = parsed.data.updateProfile!.version;
          if (version > (acked.get(m.id) ?? 0)) acked.set(m.id, version);
          return undefined;
        }
        const version = parsed.data.profile?.version ?? -1;
        if (version >= m.atLeast) return undefined;
        stale.count++;
        return `stale: read version ${version} of ${m.id} after version ${m.atLeast} was acknowledged`;
      },
      samples: () => workingSet.slice(0, 3).map((id) => body(mixRead, { id })),
    },
  ];
}
