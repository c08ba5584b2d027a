import { describe, expect, it } from 'vitest';
import { committedSupergraph, composeSupergraph } from './compose.ts';

describe('supergraph', () => {
  it('composes without errors and the committed schema/supergraph.graphql is current (run `npm run compose`)', () => {
    expect(composeSupergraph()).toBe(committedSupergraph());
  });

  it('keeps the entity keys later subgraphs rely on', () => {
    const sdl = committedSupergraph();
    expect(sdl).toMatch(/type Profile\s[^{]*@join__type\(graph: WORKFORCE, key: "id"\)\s*@join__type\(graph: WORKFORCE, key: "rut"\)/);
    expect(sdl).toMatch(/type Project\s[^{]*@join__type\(graph: WORKFORCE, key: "id"\)\s*@join__type\(graph: WORKFORCE, key: "faenaCode"\)/);
  });
});
