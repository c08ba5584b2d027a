import { writeFileSync } from 'node:fs';
import { loadConfig } from '../platform/config.ts';
import { composeSupergraph, SUPERGRAPH_PATH } from '../schema/compose.ts';
import { subgraphEntries } from '../services/registry.ts';

/** The subgraphs of the registry with their development URLs (defaults, no environment). */
export function registrySubgraphs(): { name: string; url: string }[] {
  const defaults = loadConfig({});
  return subgraphEntries().map((s) => ({ name: s.name, url: s.listen(defaults).url }));
}

// `npm run compose`: writes schema/supergraph.graphql from every subgraph in the registry.
if (import.meta.url === `file://${process.argv[1]}`) {
  const subgraphs = registrySubgraphs();
  const sdl = composeSupergraph(subgraphs);
  writeFileSync(SUPERGRAPH_PATH, sdl);
  console.log(`wrote schema/supergraph.graphql (${sdl.length} bytes, ${subgraphs.length} subgraphs: ${subgraphs.map((s) => s.name).join(', ')})`);
}
