import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { findUnsafeText, unsafeTextProblem } from './unsafe-text.ts';

describe('unsafe text', () => {
  it.each([
    ['NUL', 'a\u0000b', /NUL/],
    ['lone high surrogate', 'a\ud83d', /U\+D83D/],
    ['lone low surrogate', '\ude00a', /U\+DE00/],
    ['reversed pair', '\ude00\ud83d', /unpaired surrogate/],
  ])('refuses %s', (_, text, problem) => {
    expect(unsafeTextProblem(text)).toMatch(problem);
  });

  it.each(['', 'plain', 'Peña 🦺 ñandú', '\u0001\u001f tabs\tand\nnewlines'])('accepts %j', (text) => {
    expect(unsafeTextProblem(text)).toBeNull();
  });

  it('reads one parsed document for many requests: each request\'s variables are its own', () => {
    const document = parse(`mutation($input: UpdateProfileInput!) { updateProfile(id: "1", input: $input) { id } }`);
    expect(findUnsafeText(document, { input: { phone: 'fine' } })).toBeNull();
    expect(findUnsafeText(document, { input: { phone: 'a\u0000b' } })).toMatchObject({ path: 'input.phone', field: 'phone' });
    expect(findUnsafeText(document, { input: { phone: 'fine again' } })).toBeNull();
    const literal = parse(`{ a: profile(id: "x\\u0000") { id } }`);
    expect(findUnsafeText(literal)).toMatchObject({ path: 'id' });
    expect(findUnsafeText(literal, { unrelated: 'ok' })).toMatchObject({ path: 'id' });
  });

  it('names a variable by the argument it feeds, down to list items', () => {
    const doc = parse('mutation($n: String, $tags: [String!]) { f(input: { name: $n, tags: $tags }) }');
    expect(findUnsafeText(doc, { n: 'ok', tags: ['a', 'b\u0000'] })).toMatchObject({ path: 'input.tags[1]', field: 'tags' });
    expect(findUnsafeText(doc, { n: 'bad\ud800', tags: [] })).toMatchObject({ path: 'input.name', field: 'name' });
  });

  it('finds inline literals in fields, fragments, directives and default values', () => {
    expect(findUnsafeText(parse('{ a { ...F } } fragment F on A { b(s: "x\\u0000") }'))).toMatchObject({ path: 's', field: 's' });
    expect(findUnsafeText(parse('{ a @include(if: true) @x(reason: "\\u0000") }'))).toMatchObject({ path: 'reason' });
    expect(findUnsafeText(parse('query($q: String = "\\u0000") { a(q: $q) }'))).toMatchObject({ path: '$q', field: 'q' });
    expect(findUnsafeText(parse('{ a(s: "fine", l: ["ok", "\\uD83D\\uDE00"]) }'))).toBeNull();
  });
});
