import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedResolverTypes } from '../platform/graphql/resolver-types.ts';
import { subgraphEntries } from './registry.ts';

describe('generated resolver types', () => {
  it.each(subgraphEntries().map((s) => [s.name, s] as const))('%s: subgraphs/<name>/generated/resolver-types.ts is current (run `npm run codegen`)', async (name, entry) => {
    const definition = await entry.subgraph!();
    const committed = readFileSync(new URL(`../subgraphs/${name}/generated/resolver-types.ts`, import.meta.url), 'utf8');
    expect(await generatedResolverTypes(name, definition.resolverTypes ?? {})).toBe(committed);
  });
});
