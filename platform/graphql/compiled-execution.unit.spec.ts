import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import fc from 'fast-check';
import { parse, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError } from '../errors.ts';
import { graphqlCommonJs } from './commonjs.ts';
import { CompiledExecution } from './compiled-execution.ts';
import { DateScalar } from './scalars.ts';

// A subgraph schema with what Workforce's and the others' have: entities, an interface and a
// union, a custom scalar, enums, arguments with defaults, non-null fields that can fail, sync
// and async resolvers, errors with codes, and a mutation.
const sdl = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  scalar Date
  enum Status { OPEN CLOSED }
  interface Node { id: ID! }
  type Company implements Node @key(fields: "id") {
    id: ID!
    name: String!
    founded: Date
    projects(first: Int = 2, status: Status): [Project!]!
    secret: String
    strict: String!
    tags: [String]
  }
  type Project implements Node @key(fields: "id") { id: ID! name: String! status: Status! company: Company! }
  union Thing = Company | Project
  type Query {
    company(id: ID!): Company
    companies: [Company!]!
    node(id: ID!): Node
    things: [Thing!]!
    missing: Company!
  }
  type Mutation { rename(id: ID!, name: String!): Company! }
`);

interface CompanyRow { id: string; name: string; founded: string | null; tags: (string | null)[] }
interface ProjectRow { id: string; name: string; status: 'OPEN' | 'CLOSED'; companyId: string }

function fixture() {
  const companies: CompanyRow[] = [
    { id: 'c1', name: 'Alfa <script>"\u0000', founded: '2020-02-29', tags: ['a', null, 'ü'] },
    { id: 'c2', name: 'Beta', founded: null, tags: [] },
  ];
  const projects: ProjectRow[] = [
    { id: 'p1', name: 'One', status: 'OPEN', companyId: 'c1' },
    { id: 'p2', name: 'Two', status: 'CLOSED', companyId: 'c1' },
    { id: 'p3', name: 'Three', status: 'OPEN', companyId: 'c1' },
    { id: 'p4', name: 'Four', status: 'OPEN', companyId: 'c2' },
  ];
  const byId = (id: string) => companies.find((c) => c.id === id) ?? null;
  const resolvers = {
    Date: DateScalar,
    Query: {
      company: async (_: unknown, { id }: { id: string }) => byId(id),
      companies: () => companies,
      node: (_: unknown, { id }: { id: string }) => byId(id) ?? projects.find((p) => p.id === id) ?? null,
      things: async () => [companies[0], projects[1], companies[1]],
      missing: async () => {
        throw new NotFoundError('Company', 'c0');
      },
    },
    Mutation: {
      rename: async (_: unknown, { id, name }: { id: string; name: string }) => {
        const c = byId(id);
        if (!c) throw new NotFoundError('Company', id);
        c.name = name;
        return c;
      },
    },
    Node: { __resolveType: (o: object) => ('companyId' in o ? 'Project' : 'Company') },
    Thing: { __resolveType: (o: object) => ('companyId' in o ? 'Project' : 'Company') },
    Company: {
      __resolveReference: (ref: { id: string }) => byId(ref.id),
      projects: async (c: CompanyRow, { first, status }: { first: number; status?: string }) =>
        projects.filter((p) => p.companyId === c.id && (!status || p.status === status)).slice(0, first),
      secret: (c: CompanyRow) => {
        if (c.id === 'c2') throw new ForbiddenError('Not yours');
        return `s-${c.id}`;
      },
      strict: (c: CompanyRow) => (c.id === 'c2' ? null : 'ok'),
    },
    Project: {
      __resolveReference: (ref: { id: string }) => projects.find((p) => p.id === ref.id) ?? null,
      company: (p: ProjectRow) => byId(p.companyId),
    },
  };
  const schema = buildSubgraphSchema({ typeDefs: sdl, resolvers: resolvers as unknown as GraphQLResolverMap<unknown> });
  return { schema };
}

/** What a client would receive: data, and each error's message, path, locations and extensions. */
const plain = (r: ExecutionResult) => JSON.parse(JSON.stringify({ data: r.data, errors: r.errors?.map((e) => ({ message: e.message, path: e.path, locations: e.locations, code: e.extensions?.code })) }));

const OPERATIONS: { name: string; query: string; variables?: Record<string, unknown> }[] = [
  { name: 'nested lists with argument defaults, enums and a custom scalar', query: `{ companies { id name founded tags projects { id status company { name } } } }` },
  { name: 'arguments from variables, with and without their defaults', query: `query($s: Status, $n: Int) { companies { a: projects(first: $n, status: $s) { id } b: projects { id } } }`, variables: { s: 'OPEN', n: 5 } },
  { name: 'an error with a code inside a list keeps its path', query: `{ companies { id secret } }` },
  { name: 'null in a non-null field nulls its parent, with the error at the field', query: `{ companies { id strict } }` },
  { name: 'a failing non-null root field nulls data', query: `{ missing { id } }` },
  { name: 'interface and union with fragments and __typename', query: `{ node(id: "p2") { __typename id ... on Project { status company { id } } } things { __typename ... on Company { name } ... on Project { name } } }` },
  { name: '@skip and @include from variables', query: `query($yes: Boolean!, $no: Boolean!) { company(id: "c1") { id name @include(if: $yes) founded @skip(if: $yes) tags @include(if: $no) } }`, variables: { yes: true, no: false } },
  { name: 'named fragments and aliases of one field with different arguments', query: `query Q { c: company(id: "c1") { ...F } d: company(id: "nope") { ...F } } fragment F on Company { id one: projects(first: 1) { id } all: projects(first: 10) { id } }` },
  { name: 'federation entities (the gateway\'s _entities fetch)', query: `query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Company { name founded } ... on Project { name status } } }`, variables: { r: [{ __typename: 'Company', id: 'c2' }, { __typename: 'Project', id: 'p3' }, { __typename: 'Company', id: 'zz' }] } },
  { name: 'a missing required variable', query: `query($id: ID!) { company(id: $id) { id } }`, variables: {} },
];

describe('compiled execution (graphql-jit behind Apollo Server)', () => {
  for (const op of OPERATIONS) {
    it(`answers exactly as graphql-js: ${op.name}`, async () => {
      const { schema } = fixture();
      const execution = new CompiledExecution(schema);
      const document = parse(op.query);
      const interpreted = await graphqlCommonJs.execute({ schema, document, variableValues: op.variables });
      const first = await execution.run('k', document, undefined, {}, op.variables);
      const second = await execution.run('k', document, undefined, {}, op.variables);
      // The second run is compiled, unless its variables were refused (then graphql-js words it).
      const refused = interpreted.data === undefined ? 1 : 0;
      expect(execution.counts).toMatchObject({ interpreted: 1 + refused, compiled: 1 - refused, refusedVariables: refused, compilations: 1, refused: 0 });
      expect(plain(first)).toEqual(plain(interpreted));
      expect(plain(second)).toEqual(plain(interpreted));
      // Errors are graphql's own type (Apollo formats and masks them as such).
      for (const e of second.errors ?? []) expect(e).toBeInstanceOf(graphqlCommonJs.GraphQLError);
    });
  }

  it('refuses bad variables with graphql-js\'s words: the scalar\'s reason, located at the variable (Apollo\'s BAD_USER_INPUT)', async () => {
    const { schema } = fixture();
    const execution = new CompiledExecution(schema, { compileAfter: 0 });
    const document = parse(`query($id: ID!, $on: Date, $s: Status) { company(id: $id) { id } }`);
    for (const variables of [{ id: { not: 'an id' } }, { id: 'c1', on: '2026-02-30' }, { id: 'c1', s: 'NOPE' }]) {
      const interpreted = await graphqlCommonJs.execute({ schema, document, variableValues: variables });
      const compiled = await execution.run('v', document, undefined, {}, variables);
      expect(compiled.data).toBeUndefined();
      expect(compiled.errors!.map((e) => [e.message, e.nodes?.map((n) => n.kind)])).toEqual(interpreted.errors!.map((e) => [e.message, e.nodes?.map((n) => n.kind)]));
      expect(compiled.errors![0]!.nodes?.[0]?.kind).toBe('VariableDefinition');
    }
    expect(execution.counts).toMatchObject({ refusedVariables: 3, compiled: 0, interpreted: 3 });
    expect((await execution.run('v', document, undefined, {}, { on: '2026-02-30' })).errors?.map((e) => e.message)).toEqual([
      'Variable "$id" of required type "ID!" was not provided.',
      expect.stringMatching(/^Variable "\$on" got invalid value "2026-02-30"; .*2026-02-30 does not exist$/),
    ]);
  });

  it('runs a mutation compiled, with its effect, as graphql-js would', async () => {
    const { schema } = fixture();
    const execution = new CompiledExecution(schema, { compileAfter: 0 });
    const document = parse(`mutation($id: ID!, $n: String!) { rename(id: $id, name: $n) { id name } }`);
    const renamed = await execution.run('m', document, undefined, {}, { id: 'c2', n: 'Gamma' });
    expect(execution.counts.compiled).toBe(1);
    expect(plain(renamed)).toEqual({ data: { rename: { id: 'c2', name: 'Gamma' } } });
    const missing = await execution.run('m', document, undefined, {}, { id: 'zz', n: 'x' });
    expect(plain(missing)).toEqual({ data: null, errors: [{ message: 'Company zz was not found', path: ['rename'], locations: [{ line: 1, column: 35 }], code: 'NOT_FOUND' }] });
  });

  it('runs the fields of a mutation one after another, as graphql-js does', async () => {
    const { schema } = fixture();
    const execution = new CompiledExecution(schema, { compileAfter: 0 });
    const document = parse(`mutation { a: rename(id: "c1", name: "A") { name } b: rename(id: "c1", name: "B") { name } c: rename(id: "c2", name: "C") { name } }`);
    const log: string[] = [];
    const original = schema.getMutationType()!.getFields().rename!.resolve!;
    schema.getMutationType()!.getFields().rename!.resolve = async (...args) => {
      const name = (args[1] as { name: string }).name;
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, name === 'A' ? 30 : 1));
      const out = await original(...args);
      log.push(`end ${name}`);
      return out;
    };
    const result = await execution.run('serial', document, undefined, {}, {});
    expect(execution.counts.compiled).toBe(1);
    expect(result.data).toEqual({ a: { name: 'A' }, b: { name: 'B' }, c: { name: 'C' } });
    expect(log).toEqual(['start A', 'end A', 'start B', 'end B', 'start C', 'end C']);
  });

  it('answers like graphql-js for any variables (property)', async () => {
    const { schema } = fixture();
    const execution = new CompiledExecution(schema, { compileAfter: 0 });
    const document = parse(`query($id: ID!, $n: Int, $s: Status, $inc: Boolean!) {
      company(id: $id) { id name @include(if: $inc) projects(first: $n, status: $s) { id name status } }
      node(id: $id) { id }
    }`);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          id: fc.oneof(fc.constantFrom('c1', 'c2', 'p1', 'p4'), fc.string(), fc.integer()),
          n: fc.oneof(fc.integer({ min: -3, max: 5 }), fc.constant(null), fc.double(), fc.string()),
          s: fc.oneof(fc.constantFrom('OPEN', 'CLOSED', null), fc.string()),
          inc: fc.oneof(fc.boolean(), fc.constant('yes')),
        }),
        async (variables) => {
          const interpreted = await graphqlCommonJs.execute({ schema, document, variableValues: variables });
          const compiled = await execution.run('p', document, undefined, {}, variables);
          expect(plain(compiled)).toEqual(plain(interpreted));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('compiles an operation the second time it is seen, per operation name, and only once', async () => {
    const { schema } = fixture();
    const execution = new CompiledExecution(schema);
    const document = parse(`query A { companies { id } } query B { companies { name } }`);
    for (let i = 0; i < 5; i++) await execution.run('doc', document, 'A', {}, {});
    expect(execution.counts).toMatchObject({ interpreted: 1, compiled: 4, compilations: 1 });
    const b = await execution.run('doc', document, 'B', {}, {});
    expect(b.data).toEqual({ companies: [{ name: 'Alfa <script>"\u0000' }, { name: 'Beta' }] });
    expect(execution.counts).toMatchObject({ interpreted: 2, compilations: 1 });
  });

  it('never compiles with compileAfter Infinity (ANGELIS_SUBGRAPH_COMPILED_EXECUTION=off)', async () => {
    const { schema } = fixture();
    const execution = new CompiledExecution(schema, { compileAfter: Infinity });
    const document = parse(`{ companies { id } }`);
    for (let i = 0; i < 5; i++) expect((await execution.run('off', document, undefined, {}, {})).data).toEqual({ companies: [{ id: 'c1' }, { id: 'c2' }] });
    expect(execution.counts).toMatchObject({ interpreted: 5, compiled: 0, compilations: 0 });
  });

  it('holds at most maxOperations operations: a flood of one-off queries cannot grow it, and the one in use stays', async () => {
    const { schema } = fixture();
    const execution = new CompiledExecution(schema, { maxOperations: 10 });
    const hot = parse(`{ companies { id } }`);
    await execution.run('hot', hot, undefined, {}, {});
    for (let i = 0; i < 100; i++) {
      await execution.run(`one-off-${i}`, parse(`{ c${i}: companies { id } }`), undefined, {}, {});
      await execution.run('hot', hot, undefined, {}, {});
    }
    expect(execution.size).toBe(10);
    expect(execution.counts.compilations).toBe(1);
    expect(execution.counts.compiled).toBe(100);
  });

  it('runs what graphql-jit will not compile in graphql-js, and does not try again', async () => {
    const { schema } = fixture();
    const execution = new CompiledExecution(schema, { compileAfter: 0 });
    // Two operations and no name: graphql-jit refuses to compile it; graphql-js answers the error.
    const document = parse(`query A { companies { id } } query B { companies { id } }`);
    const first = await execution.run('two', document, undefined, {}, {});
    const second = await execution.run('two', document, undefined, {}, {});
    expect(first.errors?.[0]?.message).toMatch(/operation name/i);
    expect(plain(second)).toEqual(plain(first));
    expect(execution.counts).toMatchObject({ compilations: 1, refused: 1, interpreted: 2, compiled: 0 });
  });
});
