import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import {
  astFromValue,
  buildASTSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  print,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSubgraphSdl } from '../platform/graphql/subgraph.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Text no database here can store (NUL, lone UTF-16 surrogates) is refused at the boundary
 * as BAD_USER_INPUT naming the argument, for every String or ID argument (and input field)
 * of every Query and Mutation field of every subgraph: the cases are derived from the
 * subgraph SDL, so a new field is covered the day it is added. Each goes through the
 * gateway, with otherwise valid dummy values, and must write nothing.
 */

/** NUL at the start, middle and end; a lone high and a lone low surrogate; a pair in the wrong order. */
const HOSTILE: Record<string, string> = {
  'NUL first': '\u0000abc',
  'NUL inside': 'ab\u0000cd',
  'NUL last': 'abc\u0000',
  'lone high surrogate': 'ab\ud800cd',
  'lone low surrogate': '\udc00abc',
  'reversed pair': 'a\udc00\ud800b',
};

interface Case {
  subgraph: string;
  root: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
  /** Argument name, then input field names down to the String or ID that gets the hostile text. */
  target: string[];
}

function stringTargets(type: GraphQLInputType, path: string[], seen: Set<string>): string[][] {
  const named = getNamedType(type);
  if (isScalarType(named) && (named.name === 'String' || named.name === 'ID')) return [path];
  if (!isInputObjectType(named) || seen.has(named.name)) return [];
  const inner = new Set([...seen, named.name]);
  return Object.values(named.getFields()).flatMap((f) => stringTargets(f.type, [...path, f.name], inner));
}

/** Every (field, String/ID argument path) of every subgraph's Query and Mutation. */
function cases(): Case[] {
  const names = readdirSync(new URL('../schema/subgraphs/', import.meta.url)).filter((f) => f.endsWith('.graphql')).map((f) => f.replace(/\.graphql$/, ''));
  return names.flatMap((subgraph) => {
    // graphql's own builder (federation's directives are only carried along): the same module
    // instance as the helpers below, and only the fields the SDL declares.
    const schema = buildASTSchema(loadSubgraphSdl(subgraph), { assumeValidSDL: true });
    return (['query', 'mutation'] as const).flatMap((root) => {
      const type = root === 'query' ? schema.getQueryType() : schema.getMutationType();
      const fields = Object.values(type?.getFields() ?? {});
      return fields.flatMap((field) => field.args.flatMap((a) => stringTargets(a.type, [a.name], new Set())).map((target) => ({ subgraph, root, field, target })));
    });
  });
}

const DUMMY: Record<string, unknown> = { Int: 1, Float: 1, Boolean: true, Date: '2026-01-15', DateTime: '2026-01-15T10:00:00.000Z', JSON: {} };

/** Text the domain would accept for a field of this name, so nothing but the hostile text is wrong. */
function plausibleText(name: string): string {
  if (/rut$/i.test(name)) return '12.345.678-5';
  if (/email/i.test(name)) return 'someone@example.com';
  if (/password/i.test(name)) return 'a-long-enough-password';
  return 'Plain text';
}

/** A valid-looking value for `type` (an argument or input field called `name`); `target`, when not null, is the path inside it that gets `hostile`. */
function dummy(type: GraphQLInputType, name: string, target: string[] | null, hostile: string): unknown {
  if (isNonNullType(type)) return dummy(type.ofType, name, target, hostile);
  if (isListType(type)) return [dummy(type.ofType, name, target, hostile)];
  if (target && target.length === 0) return hostile;
  if (isEnumType(type)) return type.getValues()[0].value;
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) {
      const inside = target?.[0] === f.name ? target.slice(1) : null;
      if (inside || isNonNullType(f.type)) value[f.name] = dummy(f.type, f.name, inside, hostile);
    }
    return value;
  }
  if (type.name === 'ID') return randomUUID();
  if (type.name === 'String') return plausibleText(name);
  return DUMMY[type.name] ?? 'x';
}

/** The arguments an operation passes: every required one, and the target's. */
function argumentsFor(c: Case, hostile: string): { arg: GraphQLArgument; value: unknown }[] {
  return c.field.args
    .filter((a) => a.name === c.target[0] || isNonNullType(a.type))
    .map((arg) => ({ arg, value: dummy(arg.type, arg.name, arg.name === c.target[0] ? c.target.slice(1) : null, hostile) }));
}

const selectionOf = (c: Case) => (isLeafType(getNamedType(c.field.type)) ? '' : ' { __typename }');

/** The operation with every argument sent as a variable. */
function asVariables(c: Case, hostile: string): { query: string; variables: Record<string, unknown> } {
  const args = argumentsFor(c, hostile);
  const defs = args.map(({ arg }) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const uses = args.map(({ arg }) => `${arg.name}: $${arg.name}`).join(', ');
  return {
    query: `${c.root}${defs ? `(${defs})` : ''} { ${c.field.name}${uses ? `(${uses})` : ''}${selectionOf(c)} }`,
    variables: Object.fromEntries(args.map(({ arg, value }) => [arg.name, value])),
  };
}

/** The operation with every argument written inline (GraphQL escapes NUL as \u0000). */
function asLiterals(c: Case, hostile: string): string {
  const uses = argumentsFor(c, hostile).map(({ arg, value }) => `${arg.name}: ${print(astFromValue(value, arg.type)!)}`).join(', ');
  return `${c.root} { ${c.field.name}${uses ? `(${uses})` : ''}${selectionOf(c)} }`;
}

let stack: TestStack;

beforeAll(async () => {
  // Hundreds of requests from one identity: above the default per-minute limit.
  stack = await startTestStack('unsafetext', { env: { ANGELIS_GATEWAY_RATE_LIMIT_PER_IDENTITY: '100000', ANGELIS_GATEWAY_RATE_LIMIT_PER_ADDRESS: '100000' } });
});
afterAll(async () => stack?.stop());

async function eventCounts(): Promise<number[]> {
  const count = async (db: TestStack['database']) => (await db.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n;
  return Promise.all([count(stack.database), count(stack.ciamDatabase), count(stack.safetyDatabase)]);
}

/** Sends the body exactly as serialised here, so a test can see the bytes on the wire. */
async function send(body: string) {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'tester@angelis.test' },
    body,
  });
  return { status: res.status, ...((await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] }) };
}

/** Why a response is not the refusal we want, or null when it is. */
function notRefused(res: Awaited<ReturnType<typeof send>>, field: string): string | null {
  const error = res.errors?.[0];
  if (error?.extensions?.code !== 'BAD_USER_INPUT') return `${res.status} ${JSON.stringify(res.errors ?? res.data).slice(0, 200)}`;
  if (error.extensions.field !== field) return `blames ${String(error.extensions.field)}, not ${field}: ${error.message}`;
  if (res.status >= 500) return `HTTP ${res.status}`;
  if (res.data && Object.values(res.data).some((v) => v !== null)) return `answered data ${JSON.stringify(res.data)}`;
  return null;
}

describe('text a database cannot store', () => {
  const all = cases();

  it('finds the String and ID arguments of every subgraph in its SDL', () => {
    const fields = (subgraph: string) => new Set(all.filter((c) => c.subgraph === subgraph).map((c) => `${c.root}.${c.field.name}(${c.target.join('.')})`));
    expect(fields('workforce')).toContain('mutation.registerCompany(input.taxRut)');
    expect(fields('workforce')).toContain('query.profile(rut)');
    expect(fields('ciam')).toContain('mutation.login(email)');
    expect(fields('ciam')).toContain('mutation.inviteUser(input.companyId)');
    expect(fields('safety')).toContain('mutation.reportAnomaly(input.description)');
    expect(all.length).toBeGreaterThan(60);
  });

  it('a lone surrogate travels as a \\u escape in the JSON body, as a client would send it', () => {
    const { query, variables } = asVariables(all.find((c) => c.field.name === 'login')!, HOSTILE['lone high surrogate']);
    expect(JSON.stringify({ query, variables })).toContain('ab\\ud800cd');
  });

  // Every subgraph with root fields taking text (the read-only sources have none).
  it.each([...new Set(all.map((c) => c.subgraph))])('%s: every String or ID argument refuses it as BAD_USER_INPUT naming the argument, and nothing is written', async (subgraph) => {
    const failures: string[] = [];
    let sent = 0;
    for (const c of all.filter((x) => x.subgraph === subgraph)) {
      const before = await eventCounts();
      const name = `${c.root} ${c.field.name}(${c.target.join('.')})`;
      const leaf = c.target[c.target.length - 1];
      for (const [label, hostile] of Object.entries(HOSTILE)) {
        const res = await send(JSON.stringify(asVariables(c, hostile)));
        sent++;
        const why = notRefused(res, leaf);
        if (why) failures.push(`${name}, ${label} as a variable: ${why}`);
      }
      // Inline, only NUL can be written: GraphQL's own lexer refuses a lone surrogate in a document.
      const res = await send(JSON.stringify({ query: asLiterals(c, HOSTILE['NUL inside']) }));
      sent++;
      const why = notRefused(res, leaf);
      if (why) failures.push(`${name}, NUL inline: ${why}`);
      const after = await eventCounts();
      if (after.join() !== before.join()) failures.push(`${name}: events written (${before} -> ${after})`);
    }
    expect(sent).toBeGreaterThan(0);
    expect(failures, `${failures.length} of ${sent} not refused:\n${failures.join('\n')}`).toEqual([]);
  }, 300_000);

  it('names the whole path in the message and the innermost field in extensions.field', async () => {
    const res = await send(JSON.stringify({
      query: 'mutation($i: RegisterCompanyInput!) { registerCompany(input: $i) { id } }',
      variables: { i: { name: 'Nul\u0000 SpA', taxRut: '76.086.428-5' } },
    }));
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(res.errors?.[0]?.message).toMatch(/^input\.name contains a NUL character/);
  });

  it('leaves well-formed text alone: a correct surrogate pair (an emoji) is stored and read back', async () => {
    const res = await send(JSON.stringify({
      query: 'mutation($i: CreateOfferingInput!) { createOffering(input: $i) { name } }',
      variables: { i: { code: `E${Date.now()}`, name: 'Casco 🦺 seguro' } },
    }));
    expect(res.errors).toBeUndefined();
    expect((res.data as any).createOffering.name).toBe('Casco 🦺 seguro');
  });
});
