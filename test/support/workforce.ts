import { expect } from 'vitest';
import { addDays, todayUtc } from '../../platform/domain/input.ts';
import { checkDigit, formatRut } from '../../platform/domain/rut.ts';
import { identitySecret, serviceIdentity } from '../../platform/auth/identity.ts';
import { subgraphClient } from '../../platform/graphql/subgraph-client.ts';
import { createLogger } from '../../platform/logger.ts';
import type { GraphQLResponse, TestStack } from './stack.ts';

/** A valid RUT for `body` (its check digit is covered by the RUT unit tests), normalised. */
export function rut(body: number): string {
  return `${body}-${checkDigit(String(body))}`;
}

/** The same RUT in the three spellings people use. */
export function rutSpellings(normalised: string): { dotted: string; dashed: string; plain: string } {
  return { dotted: formatRut(normalised), dashed: normalised, plain: normalised.replace('-', '') };
}

/** Today in UTC, and days from it: the day the subgraph judges statuses on. */
export const today = () => todayUtc();
export const daysFromToday = (n: number) => addDays(todayUtc(), n);

export interface GraphQLErrorShape {
  message: string;
  path?: string[];
  extensions?: Record<string, unknown>;
}

/** Operations through the gateway with assertions that print the response when they fail. */
export function client(stack: TestStack, defaultUser = 'tester@angelis.test') {
  const describeRes = (res: GraphQLResponse) => JSON.stringify(res, null, 1).slice(0, 2000);
  return {
    /** Runs an operation that must succeed; returns its data. */
    async ok<T = any>(query: string, variables: Record<string, unknown> = {}, user: string = defaultUser): Promise<T> {
      const res = await stack.gql<T>(query, variables, user);
      expect(res.errors, describeRes(res)).toBeUndefined();
      expect(res.status).toBe(200);
      return res.data as T;
    },
    /** Runs an operation that must fail; returns its first error and the raw response. */
    async fail(query: string, variables: Record<string, unknown> = {}, user: string | null = defaultUser) {
      const res = await stack.gql(query, variables, user);
      expect(res.errors?.length, describeRes(res)).toBeGreaterThan(0);
      return { error: res.errors![0] as GraphQLErrorShape, res };
    },
  };
}

/** Rows in the event log: a refused command must leave it unchanged. */
export async function eventCount(stack: TestStack): Promise<number> {
  const { rows } = await stack.database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
  return rows[0].n;
}

/** Development identity headers for each role; the gateway turns them into the signed identity a CIAM token gives. */
export const role = {
  admin: (user = 'admin@angelis.test'): Record<string, string> => ({ 'x-angelis-dev-user': user }),
  manager: (companyId: string, user = `manager@${companyId}`): Record<string, string> => ({
    'x-angelis-dev-user': user,
    'x-angelis-dev-role': 'MANAGER',
    'x-angelis-dev-company': companyId,
  }),
  worker: (profileId: string): Record<string, string> => ({
    'x-angelis-dev-user': profileId,
    'x-angelis-dev-role': 'WORKER',
    'x-angelis-dev-profile': profileId,
  }),
  /**
   * A service (`system:<name>`): not a header anyone can send through the gateway (it refuses
   * them), so gqlAs runs such a call on Workforce directly, signed as that service.
   */
  service: (name: string): Record<string, string> => ({ [SERVICE_MARK]: name }),
};

const SERVICE_MARK = 'x-test-service';

/** Runs an operation through the gateway with these identity headers ({} = anonymous). */
export async function gqlAs<T = any>(stack: TestStack, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
  if (headers[SERVICE_MARK]) return asService<T>(stack, headers[SERVICE_MARK], query, variables);
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

/** Like gqlAs, for an operation that must succeed: its data (the response is printed when it fails). */
export async function okAs<T = any>(stack: TestStack, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await gqlAs<T>(stack, headers, query, variables);
  expect(res.errors, JSON.stringify(res, null, 1).slice(0, 2000)).toBeUndefined();
  return res.data as T;
}

const READ_TABLES = [
  'companies', 'offerings', 'subscriptions', 'projects', 'assignments', 'profiles', 'profile_companies', 'profile_assignments', 'licenses',
  'profile_personal_data',
];

/**
 * What is stored: the number of events and a fingerprint of every Workforce read table's
 * contents, in one statement. A refused command must leave it exactly as it was.
 */
export async function storedState(stack: TestStack): Promise<Record<string, string | number>> {
  const fingerprints = READ_TABLES.map((t) => `(SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${t} x) AS ${t}`);
  const { rows } = await stack.database.db.query(`SELECT (SELECT count(*)::int FROM events) AS events, ${fingerprints.join(', ')}`);
  return rows[0] as Record<string, string | number>;
}

/**
 * Runs an operation on Workforce as the service `name` (`system:<name>`), signed the way a
 * service signs its calls: no header through the gateway can claim a service identity.
 */
export async function asService<T = any>(stack: TestStack, name: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
  const call = subgraphClient({ name: 'workforce', url: stack.workforce.server.url, identitySecret: identitySecret(stack.config), log: createLogger('test', 'silent') });
  const answer = await call<T>(serviceIdentity(name), query, variables, `test-${name}`);
  return answer as GraphQLResponse<T>;
}

/** asService, expecting no error: the data. */
export async function okAsService<T = any>(stack: TestStack, name: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await asService<T>(stack, name, query, variables);
  expect(res.errors, JSON.stringify(res, null, 1).slice(0, 2000)).toBeUndefined();
  return res.data as T;
}
