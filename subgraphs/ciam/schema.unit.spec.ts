import { Kind, type ObjectTypeDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadSubgraphSdl } from '../../platform/graphql/subgraph.ts';

describe('CIAM SDL', () => {
  it('every mutation payload is nullable, so one failed field cannot null the fields that committed', () => {
    const mutation = loadSubgraphSdl('ciam').definitions.find(
      (d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Mutation',
    );
    expect(mutation?.fields?.length).toBeGreaterThan(0);
    const nonNull = mutation!.fields!.filter((f) => f.type.kind === Kind.NON_NULL_TYPE).map((f) => f.name.value);
    expect(nonNull).toEqual([]);
  });
});
