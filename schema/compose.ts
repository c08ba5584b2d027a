import { readFileSync, writeFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

/**
 * Composes every subgraph SDL in schema/subgraphs into schema/supergraph.graphql.
 * The URLs recorded here are development defaults; the gateway overrides each one from
 * ANGELIS_<NAME>_URL.
 */
export const SUBGRAPHS: { name: string; url: string }[] = [
  { name: 'workforce', url: 'http://127.0.0.1:4001/graphql' },
  { name: 'ciam', url: 'http://127.0.0.1:4002/graphql' },
];

const SUPERGRAPH_PATH = new URL('./supergraph.graphql', import.meta.url);

/** Composes the subgraphs; throws with every composition error listed. */
export function composeSupergraph(): string {
  const result = composeServices(
    SUBGRAPHS.map((s) => ({
      name: s.name,
      url: s.url,
      typeDefs: parse(readFileSync(new URL(`./subgraphs/${s.name}.graphql`, import.meta.url), 'utf8')),
    })),
  );
  if (result.errors) throw new Error(`Composition failed:\n${result.errors.map((e) => `- ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}

/** The committed supergraph. */
export function committedSupergraph(): string {
  return readFileSync(SUPERGRAPH_PATH, 'utf8');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sdl = composeSupergraph();
  writeFileSync(SUPERGRAPH_PATH, sdl);
  console.log(`wrote schema/supergraph.graphql (${sdl.length} bytes, ${SUBGRAPHS.length} subgraphs)`);
}
