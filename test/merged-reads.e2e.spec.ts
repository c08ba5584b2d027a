import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.ts';
import { seedWorkforce } from '../subgraphs/workforce/seed.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { gqlAs, role } from './support/workforce.ts';

/**
 * Workforce sends the reads by key of concurrent requests as one statement (Db.merged in
 * platform/postgres/pool.ts). Through the gateway, as every role of two companies, with
 * hostile ids among them: each concurrent answer must be exactly the one that request gets
 * alone, and the merging must have happened.
 */
let stack: TestStack;
const ids: string[] = [];
const companies: string[] = [];
const callers: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  // Neither cache: every request must reach Workforce.
  stack = await startTestStack('merged_reads', {
    env: { ANGELIS_GATEWAY_RESPONSE_CACHE: 'off', ANGELIS_GATEWAY_ENTITY_CACHE: 'off', ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: '100000', ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: '100000' },
  });
  const seeded = await seedWorkforce(stack.workforce.commands, createLogger('test', 'silent'), { companies: 2, projectsPerCompany: [2, 2], profiles: 30 });
  const [a, b] = seeded.companyIds;
  companies.push(a, b);
  const employees = async (companyId: string) =>
    (await gqlAs(stack, role.admin(), `query($c: ID!) { company(id: $c) { employees(first: 50) { nodes { profile { id } } } } }`, { c: companyId }))
      .data.company.employees.nodes.map((n: { profile: { id: string } }) => n.profile.id) as string[];
  const [ofA, ofB] = [await employees(a), await employees(b)];
  expect(ofA.length).toBeGreaterThan(2);
  expect(ofB.length).toBeGreaterThan(2);
  const unemployed = seeded.profileIds.filter((p) => !ofA.includes(p) && !ofB.includes(p));
  ids.push(...ofA.slice(0, 4), ...ofB.slice(0, 4), ...unemployed.slice(0, 2));
  Object.assign(callers, {
    admin: role.admin(),
    'manager of A': role.manager(a),
    'manager of B': role.manager(b),
    'worker of A': role.worker(ofA[0]),
    'worker of B': role.worker(ofB[0]),
  });
}, 120_000);
afterAll(async () => stack?.stop());

const BY_ID = `query($id: ID!) { profile(id: $id) { id rut fullName email phone version companies { company { id name } } } }`;
const HOSTILE = ['not-a-uuid', "' OR 1=1 --", '\u202eabc', '00000000-0000-0000-0000-000000000000'];

type Ask = { who: string; headers: Record<string, string>; query: string; variables: Record<string, unknown> };
type Answer = { data?: any; errors?: unknown };

/** Each request's answer alone (one at a time): what the concurrent rounds must give. */
async function answersAlone(asks: Ask[]): Promise<Answer[]> {
  const alone: Answer[] = [];
  for (const a of asks) alone.push(await gqlAs(stack, a.headers, a.query, a.variables));
  return alone;
}

/** Three rounds of every request at once: each answer equal to its answer alone, and reads merged. */
async function expectSameTogether(asks: Ask[], alone: Answer[]): Promise<void> {
  const db = stack.database.db;
  const merged = db.merging.statements;
  for (let round = 0; round < 3; round++) {
    const together = await Promise.all(asks.map((a) => gqlAs(stack, a.headers, a.query, a.variables)));
    together.forEach((r, n) => expect(r, `${asks[n].who}: ${JSON.stringify(asks[n].variables)}`).toEqual(alone[n]));
  }
  expect(db.merging.statements).toBeGreaterThan(merged);
}

describe('reads merged across concurrent requests', () => {
  it('every role gets, concurrently, exactly what it gets alone, hostile ids included', async () => {
    const asks = Object.entries(callers).flatMap(([who, headers]) => [...ids, ...HOSTILE].map((id) => ({ who, headers, query: BY_ID, variables: { id } })));
    const alone = await answersAlone(asks);
    // Some are refused or null (another company's profile, a malformed id): not all alike.
    expect(alone.filter((r) => r.data?.profile).length).toBeGreaterThan(asks.length / 5);
    expect(alone.filter((r) => !r.data?.profile).length).toBeGreaterThan(asks.length / 5);
    await expectSameTogether(asks, alone);
  }, 60_000);
});

describe('reads merged across concurrent requests, across subgraphs and pages', () => {
  // Internal users (CIAM) refer to their company (Workforce): its non-key fields are read by
  // Workforce's merged key reads; both lists are read a page at a time.
  const USERS = `query($c: ID!, $after: String) { internalUsers(first: 2, companyId: $c, after: $after) {
    nodes { name email company { name taxRut activeProfileCount } } pageInfo { hasNextPage endCursor } } }`;
  const PROFILES = `query($c: ID!, $after: String) { profiles(first: 3, companyId: $c, after: $after) {
    nodes { fullName companies { company { name taxRut } } } pageInfo { hasNextPage endCursor } } }`;
  const NAMES = ['<b>O\'Brien</b>', 'Ana "Quote" \\ Back', '\u202eRTL \u05e9\u05dc\u05d5\u05dd'];

  beforeAll(async () => {
    for (const [n, c] of companies.entries()) {
      for (const [i, name] of NAMES.entries()) {
        await gqlAs(stack, role.admin(), `mutation($e: String!, $n: String!, $c: ID!) { inviteUser(input: {email: $e, name: $n, role: MANAGER, companyId: $c}) { user { id } } }`, {
          e: `merged.${n}.${i}@example.com`, n: name, c,
        }).then((r) => expect(r.errors, JSON.stringify(r.errors)).toBeUndefined());
      }
    }
  });

  it('every role gets, concurrently, the first and second pages it gets alone, with the referenced companies', async () => {
    // The second pages' cursors, from the first pages read alone (as an admin, who sees every page).
    const second = async (query: string, c: string) => {
      const r = await gqlAs(stack, role.admin(), query, { c });
      const page = Object.values(r.data)[0] as { pageInfo: { hasNextPage: boolean; endCursor: string } };
      expect(page.pageInfo.hasNextPage).toBe(true);
      return page.pageInfo.endCursor;
    };
    const asks: Ask[] = [];
    for (const [who, headers] of Object.entries(callers)) {
      for (const c of companies) {
        for (const query of [USERS, PROFILES]) {
          asks.push({ who, headers, query, variables: { c } });
          asks.push({ who, headers, query, variables: { c, after: await second(query, c) } });
        }
      }
    }
    const alone = await answersAlone(asks);
    // The hostile names came back whole where the caller may see them, and some callers see nothing.
    const seen = JSON.stringify(alone);
    for (const name of NAMES) expect(seen).toContain(JSON.stringify(name).slice(1, -1));
    expect(alone.some((r) => JSON.stringify(r.data).includes('"nodes":[]') || r.errors)).toBe(true);
    await expectSameTogether(asks, alone);
  }, 60_000);
});
