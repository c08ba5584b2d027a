import { Kind, parse, type EnumTypeDefinitionNode, type StringValueNode } from 'graphql';
import { endpointOf, type Config } from '../platform/config.ts';

/** The subgraphs a supergraph names, with the URL composition recorded for each. */
export function subgraphsOf(supergraphSdl: string): { name: string; url: string }[] {
  const graphs = parse(supergraphSdl).definitions.find(
    (d): d is EnumTypeDefinitionNode => d.kind === Kind.ENUM_TYPE_DEFINITION && d.name.value === 'join__Graph',
  );
  return (graphs?.values ?? []).map((value) => {
    const args = value.directives?.find((d) => d.name.value === 'join__graph')?.arguments ?? [];
    const arg = (n: string) => (args.find((a) => a.name.value === n)?.value as StringValueNode | undefined)?.value ?? '';
    return { name: arg('name'), url: arg('url') };
  });
}

/**
 * Where the gateway calls each subgraph: the supergraph says which subgraphs there are (it
 * is composed from the service registry); each is reached at ANGELIS_<NAME>_URL when set,
 * else at the URL recorded at composition (the development default). `overrides` (tests)
 * win over both.
 */
export function subgraphUrls(supergraphSdl: string, config: Config, overrides: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    subgraphsOf(supergraphSdl).map(({ name, url }) => [name, overrides[name] ?? config.endpoints[name]?.url ?? endpointOf(config, name)?.url ?? url]),
  );
}
