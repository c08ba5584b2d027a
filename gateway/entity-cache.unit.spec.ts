import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Supergraph } from '@apollo/federation-internals';
import { Kind, parse, print, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import fc from 'fast-check';
import { objectsAt, splitQuery } from './entity-cache.ts';

/** Where queries split (the real supergraph's Workforce schema), and how parts are found in an answer. */
const supergraph = Supergraph.build(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));
const workforce = supergraph.subgraphs().get('workforce')!.schema;

function split(text: string) {
  const doc = parse(text);
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  return splitQuery(workforce, op, fragments);
}
const compact = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('splitQuery', () => {
  it('splits the nested read at its assignments: the outermost entity whose subtree has no variable', () => {
    const s = split(readFileSync(new URL('../bench/operations/nested-read.graphql', import.meta.url), 'utf8'))!;
    expect(s.boundaries.map((b) => [b.path.join('.'), b.type])).toEqual([['company.projects.nodes.assignments.nodes', 'Assignment']]);
    // The skeleton keeps the projects (their selection uses $assignments) and cuts each assignment to its id.
    expect(compact(s.query)).toContain('assignments(first: $assignments) { nodes { id } }');
    expect(compact(s.query)).toContain('projects(first: $projects) { nodes { id name faenaCode status');
    const entities = compact(s.boundaries[0].query);
    expect(entities).toMatch(/^query NestedRead_AssignmentEntities\(\$representations: \[_Any!\]!\) \{ _entities\(representations: \$representations\) \{ \.\.\. on Assignment \{ id name startsOn status profiles \{ assignedAt profile \{/);
    expect(print(s.boundaries[0].document)).toBe(print(parse(s.boundaries[0].query)));
  });

  it('keeps aliases, literal arguments and inline fragments inside an entity, and cuts by response key', () => {
    const s = split(`query Q { company(id: "c") { employees(first: 3) { nodes { who: profile { id licenses(status: VALID) { id } ... on Profile { rut } } } } } }`)!;
    expect(s.boundaries).toHaveLength(1);
    expect(s.boundaries[0].path).toEqual(['company', 'employees', 'nodes', 'who']);
    expect(compact(s.boundaries[0].selection)).toBe('{ id licenses(status: VALID) { id } ... on Profile { rut } }');
    expect(compact(s.query)).toContain('who: profile { id }');
  });

  it('does not split root fields, leaf-only entities, or subtrees with a variable, a directive or a named fragment', () => {
    expect(split(`query Q($id: ID!) { profile(id: $id) { id fullName licenses { id } } }`)).toBeNull();
    expect(split(`query Q { profiles(first: 100) { nodes { id rut fullName email } } }`)).toBeNull();
    expect(split(`query Q($s: LicenseStatus) { profiles(first: 2) { nodes { id licenses(status: $s) { id } } } }`)).toBeNull();
    expect(split(`query Q($y: Boolean!) { profiles(first: 2) { nodes { id licenses @include(if: $y) { id } } } }`)).toBeNull();
    expect(split(`query Q { profiles(first: 2) { nodes { id licenses { ...L } } } } fragment L on License { id }`)).toBeNull();
  });

  it('does not split along a path with a fragment or a response key selected twice (parts fit back by key)', () => {
    expect(split(`query Q { profiles(first: 2) { ... on ProfileConnection { nodes { id licenses { id } } } } }`)).toBeNull();
    expect(split(`query Q { profiles(first: 2) { nodes { id licenses { id } } nodes { id } } }`)).toBeNull();
  });

  it('splits below a non-entity at the first entity that qualifies, and leaves other selections whole', () => {
    const s = split(`query Q { profiles(first: 2) { nodes { id licenses { id profile { id fullName } } } pageInfo { hasNextPage } } }`)!;
    // Profile (in nodes) has a subtree with no variable: the split is there, not deeper at the licences.
    expect(s.boundaries.map((b) => b.path.join('.'))).toEqual(['profiles.nodes']);
    expect(compact(s.query)).toBe('query Q { profiles(first: 2) { nodes { id } pageInfo { hasNextPage } } }');
  });

  it('mutations and subscriptions are never split', () => {
    const doc = parse(`mutation M { createOffering(input: {code: "X", name: "Y"}) { id } }`);
    expect(splitQuery(workforce, doc.definitions[0] as OperationDefinitionNode, [])).toBeNull();
  });
});

describe('objectsAt', () => {
  it('finds each object at a path through lists and nulls, with where to put its replacement', () => {
    const data = { a: { b: [{ c: { id: '1' } }, { c: null }, null, { c: { id: '2' } }, { c: { id: '1' } }] } };
    const found = objectsAt(data, ['a', 'b', 'c']);
    expect(found.map((f) => f.value.id)).toEqual(['1', '2', '1']);
    for (const f of found) (f.parent as Record<string, unknown>)[f.key as string] = { replaced: f.value.id };
    expect(data.a.b[3]).toEqual({ c: { replaced: '2' } });
    // Lists of entities: the parent is the list and the key its index.
    const list = { xs: [{ id: 'a' }, { id: 'b' }] };
    const items = objectsAt(list, ['xs']);
    expect(items.map((f) => [f.parent === list.xs, f.key])).toEqual([[true, 0], [true, 1]]);
  });

  it('finds nothing where the answer has no such key or is not an object', () => {
    expect(objectsAt({ a: 1 }, ['a', 'b'])).toEqual([]);
    expect(objectsAt(null, ['a'])).toEqual([]);
    expect(objectsAt({ a: { b: 'x' } }, ['a', 'b'])).toEqual([]);
  });

  it('finds every object of arbitrarily nested lists (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.option(fc.integer(), { nil: null }), { maxLength: 5 }), { maxLength: 5 }), (rows) => {
        const data = { top: rows.map((row) => ({ items: row.map((n) => (n === null ? null : { leaf: { id: String(n) } })) })) };
        const expected = rows.flat().filter((n): n is number => n !== null).map(String);
        expect(objectsAt(data, ['top', 'items', 'leaf']).map((f) => f.value.id)).toEqual(expected);
      }),
    );
  });
});
