import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

/**
 * Composition of the subgraph SDLs in schema/subgraphs into schema/supergraph.graphql. Which
 * subgraphs, and their development URLs, come from the service registry (bin/compose.ts);
 * the gateway overrides each URL from ANGELIS_<NAME>_URL.
 */

export const SUPERGRAPH_PATH = new URL('./supergraph.graphql', import.meta.url);

/** A subgraph's SDL, by name. */
export function subgraphSdl(name: string): string {
  return readFileSync(new URL(`./subgraphs/${name}.graphql`, import.meta.url), 'utf8');
}

/** Composes the subgraphs; throws with every composition error listed. */
export function composeSupergraph(subgraphs: { name: string; url: string }[]): string {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(subgraphSdl(s.name)) })));
  if (result.errors) throw new Error(`Composition failed:\n${result.errors.map((e) => `- ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}

/** The committed supergraph. */
export function committedSupergraph(): string {
  return readFileSync(SUPERGRAPH_PATH, 'utf8');
}
