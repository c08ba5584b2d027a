import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.ts';
import { seedWorkforce } from '../subgraphs/workforce/seed.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { gqlAs, role } from './support/workforce.ts';

/**
 * A query's database round trips must not grow with the rows it returns: every entity
 * reference and list field goes through a per-request DataLoader.
 */
let stack: TestStack;
let companyId: string;

beforeAll(async () => {
  // The gateway's notification feed reader polls Workforce on its own timer: hourly here, so
  // its statements never land inside a measured request.
  // The entity cache is off: it would split these queries into a skeleton and entity fetches
  // and serve entities already read, so a request's statements would depend on the ones before.
  stack = await startTestStack('batching', { env: { ANGELIS_GATEWAY_SSE_POLL_MS: '3600000', ANGELIS_GATEWAY_ENTITY_CACHE: 'off' } });
  const seeded = await seedWorkforce(stack.workforce.commands, createLogger('test', 'silent'), { companies: 1, projectsPerCompany: [3], profiles: 100 });
  companyId = seeded.companyIds[0];
  // Let the seed's background work settle (the post-commit NOTIFY uses the same pool): until
  // the pool's statement counter stops moving (a loaded machine may take longer than a fixed wait).
  let last = -1;
  for (let i = 0; i < 50 && stack.database.db.statements !== last; i++) {
    last = stack.database.db.statements;
    await new Promise((r) => setTimeout(r, 200));
  }
});
afterAll(async () => stack?.stop());

async function statementsFor(query: string, variables: Record<string, unknown>, headers: Record<string, string> = role.admin()) {
  const before = stack.database.db.statements;
  const res = await gqlAs(stack, headers, query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return { statements: stack.database.db.statements - before, data: res.data };
}

const PROFILES = `query($first: Int!, $companyId: ID!) {
  profiles(first: $first, companyId: $companyId) {
    nodes {
      rut fullName phone
      companies { position company { name seats activeProfileCount } supervisor { fullName licenses { type } } reports { rut } }
      licenses { type status expiresInDays }
      assignments { assignment { name status project { faenaCode company { name } } } }
      auditTrail(first: 5) { nodes { action actorId } }
    }
  }
}`;

const NESTED = `query($companyId: ID!, $first: Int!) {
  company(id: $companyId) {
    name
    projects(first: 10) { nodes { faenaCode assignments(first: 10) { nodes { name profiles { profile { fullName licenses { type expiresOn } } } } } } }
    employees(first: $first) { nodes { profile { rut } supervisor { rut } } }
  }
}`;

describe('batching', () => {
  it('fetching 10 or 100 profiles with companies, supervisors, licences and assignments costs the same statements', async () => {
    const ten = await statementsFor(PROFILES, { first: 10, companyId });
    const hundred = await statementsFor(PROFILES, { first: 100, companyId });
    expect(ten.data.profiles.nodes).toHaveLength(10);
    expect(hundred.data.profiles.nodes).toHaveLength(100);
    // Real data came back, not empty lists that would trivially batch.
    expect(hundred.data.profiles.nodes.filter((p: any) => p.companies[0].supervisor).length).toBe(99);
    expect(hundred.data.profiles.nodes.every((p: any) => p.licenses.length > 0 && p.assignments.length === 1)).toBe(true);
    expect(hundred.statements).toBe(ten.statements);
    expect(hundred.statements).toBeLessThanOrEqual(16);
  });

  it('the nested read company → projects → assignments → profiles → licences does not grow with rows either', async () => {
    const small = await statementsFor(NESTED, { companyId, first: 5 });
    const large = await statementsFor(NESTED, { companyId, first: 100 });
    expect(large.data.company.employees.nodes).toHaveLength(100);
    const assigned = large.data.company.projects.nodes.flatMap((p: any) => p.assignments.nodes.flatMap((a: any) => a.profiles));
    expect(assigned).toHaveLength(100);
    // Fewer rows can even cost a batch more (profiles then miss the loader's cache), never fewer.
    expect(large.statements).toBeLessThanOrEqual(small.statements);
    expect(large.statements).toBeLessThanOrEqual(12);
  });

  it('as the company’s manager (lists filtered in SQL, personal data from the company’s record) neither', async () => {
    const manager = role.manager(companyId);
    const ten = await statementsFor(PROFILES, { first: 10, companyId }, manager);
    const hundred = await statementsFor(PROFILES, { first: 100, companyId }, manager);
    expect(hundred.data.profiles.nodes).toHaveLength(100);
    // The seed records each person under the company that hires them: its manager sees it.
    expect(hundred.data.profiles.nodes.every((p: any) => p.phone && p.licenses.length > 0 && p.assignments.length === 1)).toBe(true);
    // As above, fewer rows may cost a batch more, never fewer.
    expect(hundred.statements).toBeLessThanOrEqual(ten.statements);
    expect(hundred.statements).toBeLessThanOrEqual(20);
    const small = await statementsFor(NESTED, { companyId, first: 5 }, manager);
    const large = await statementsFor(NESTED, { companyId, first: 100 }, manager);
    expect(large.data.company.employees.nodes).toHaveLength(100);
    expect(large.statements).toBeLessThanOrEqual(small.statements);
  });
});
