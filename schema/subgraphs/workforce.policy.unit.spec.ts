import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadSubgraphSdl } from '../../platform/graphql/subgraph.ts';
import { MUTATION_ROLES } from './workforce.policy.ts';

/**
 * The policy lists every mutation of the Workforce SDL with its roles, and nothing else:
 * a mutation missing here is FORBIDDEN to every role (Visibility.requireMutation), and one
 * left here after its removal from the SDL is a stale rule.
 */
describe('workforce policy', () => {
  it('names exactly the SDL\'s mutations, each with at least one role', () => {
    const mutations = loadSubgraphSdl('workforce').definitions.flatMap((d) =>
      (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === 'Mutation' ? (d.fields ?? []).map((f) => f.name.value) : [],
    );
    expect(mutations.length).toBeGreaterThan(0);
    expect(Object.keys(MUTATION_ROLES).sort()).toEqual([...mutations].sort());
    for (const [field, roles] of Object.entries(MUTATION_ROLES)) expect(roles.length, field).toBeGreaterThan(0);
  });
});
