import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { client, rut } from './support/workforce.ts';

/**
 * A document with several mutation fields runs them in order, each its own command: one
 * that fails answers null with its error and writes nothing, and the client still sees
 * what the others committed. Through the gateway.
 */
let stack: TestStack;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  stack = await startTestStack('mutoutcome');
  api = client(stack);
});
afterAll(async () => stack?.stop());

/** Events and profiles stored. */
const count = async () =>
  (await stack.database.db.query<{ events: number; profiles: number }>(
    'SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM profiles) AS profiles',
  )).rows[0];

describe('several mutation fields in one document', () => {
  it('a later field that fails nulls only itself: the earlier result is in data, and stored', async () => {
    const taxRut = rut(76_500_001);
    const res = await stack.gql(
      `mutation($r: String!) {
        first: registerCompany(input: {name: "First SpA", taxRut: $r}) { id name taxRut }
        second: registerCompany(input: {name: "Second SpA", taxRut: $r}) { id }
      }`,
      { r: taxRut },
    );
    expect(res.status).toBe(200);
    expect(res.data?.first).toMatchObject({ name: 'First SpA', taxRut });
    expect(res.data?.second).toBeNull();
    expect(res.errors?.map((e) => ({ code: e.extensions?.code, path: e.path }))).toEqual([{ code: 'CONFLICT', path: ['second'] }]);
    const { company } = await api.ok(`query($id: ID!) { company(id: $id) { name taxRut } }`, { id: res.data.first.id });
    expect(company).toEqual({ name: 'First SpA', taxRut });
  });

  it('a failing field in the middle writes nothing, and the fields after it still run', async () => {
    const before = await count();
    const res = await stack.gql(
      `mutation($a: String!, $b: String!) {
        a: createProfile(input: {rut: $a, firstName: "Ana", lastName: "Orden"}) { id rut }
        bad: createProfile(input: {rut: "12.345.678-0", firstName: "Mal", lastName: "Rut"}) { id }
        b: createProfile(input: {rut: $b, firstName: "Beto", lastName: "Orden"}) { id rut }
      }`,
      { a: rut(17_500_001), b: rut(17_500_002) },
    );
    expect(res.data).toMatchObject({ a: { rut: rut(17_500_001) }, bad: null, b: { rut: rut(17_500_002) } });
    expect(res.errors?.map((e) => ({ code: e.extensions?.code, path: e.path }))).toEqual([{ code: 'BAD_USER_INPUT', path: ['bad'] }]);
    // Two profiles, two events: the refused one left no trace.
    expect(await count()).toEqual({ events: before.events + 2, profiles: before.profiles + 2 });
  });
});
