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
const callers: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  // Neither cache: every request must reach Workforce.
  stack = await startTestStack('merged_reads', {
    env: { ANGELIS_GATEWAY_RESPONSE_CACHE: 'off', ANGELIS_GATEWAY_ENTITY_CACHE: 'off', ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: '100000', ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: '100000' },
  });
  const seeded = await seedWorkforce(stack.workforce.commands, createLogger('test', 'silent'), { companies: 2, projectsPerCompany: [2, 2], profiles: 30 });
  const [a, b] = seeded.companyIds;
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

describe('reads merged across concurrent requests', () => {
  it('every role gets, concurrently, exactly what it gets alone, hostile ids included', async () => {
    const asks = Object.entries(callers).flatMap(([who, headers]) => [...ids, ...HOSTILE].map((id) => ({ who, headers, id })));
    const alone: { data?: any; errors?: unknown }[] = [];
    for (const a of asks) alone.push(await gqlAs(stack, a.headers, BY_ID, { id: a.id }));
    // Some are refused or null (another company's profile, a malformed id): not all alike.
    expect(alone.filter((r) => r.data?.profile).length).toBeGreaterThan(asks.length / 5);
    expect(alone.filter((r) => !r.data?.profile).length).toBeGreaterThan(asks.length / 5);
    const db = stack.database.db;
    const merged = db.merging.statements;
    for (let round = 0; round < 3; round++) {
      const together = await Promise.all(asks.map((a) => gqlAs(stack, a.headers, BY_ID, { id: a.id })));
      together.forEach((r, n) => expect(r, `${asks[n].who} asking ${JSON.stringify(asks[n].id)}`).toEqual(alone[n]));
    }
    expect(db.merging.statements).toBeGreaterThan(merged);
  }, 60_000);
});
