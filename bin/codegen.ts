import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatedResolverTypes } from '../platform/graphql/resolver-types.ts';
import { subgraphEntries } from '../services/registry.ts';

/**
 * `npm run codegen`: TypeScript types for every subgraph's resolvers (arguments, parents,
 * results, context), generated from its SDL with GraphQL Code Generator into
 * `subgraphs/<name>/generated/resolver-types.ts`. A test fails when they are stale.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
for (const entry of subgraphEntries()) {
  const definition = await entry.subgraph!();
  const file = path.join(ROOT, 'subgraphs', entry.name, 'generated', 'resolver-types.ts');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, await generatedResolverTypes(entry.name, definition.resolverTypes ?? {}));
  console.log(`wrote ${path.relative(ROOT, file)}`);
}
