import { readFileSync } from 'node:fs';
import { parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';

/**
 * Every source subgraph declares the shared result types exactly as
 * schema/shared/test-results.graphql (composition needs them identical; one text, checked).
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the shared test-result types', () => {
  for (const name of ['saferapp', 'fit2000']) {
    it(`${name} declares them as schema/shared/test-results.graphql`, () => {
      const sdl = read(`schema/subgraphs/${name}.graphql`);
      const start = sdl.indexOf('# shared: schema/shared/test-results.graphql');
      expect(start).toBeGreaterThan(0);
      const block = sdl.slice(start, sdl.indexOf('# end shared')).split('\n').slice(1).join('\n').trim();
      expect(block).toBe(read('schema/shared/test-results.graphql').trim());
    });
  }

  it('safety (the merged lists, compliance) declares the ones it uses as schema/shared/test-results.graphql, PageInfo included', () => {
    const shared = new Map(parse(read('schema/shared/test-results.graphql')).definitions.map((d) => [(d as { name: { value: string } }).name.value, print(d)]));
    const safety = new Map(parse(read('schema/subgraphs/safety.graphql')).definitions.filter((d) => 'name' in d && d.name).map((d) => [(d as { name: { value: string } }).name.value, print(d)]));
    for (const name of ['TestProvider', 'TestOutcome', 'TestResult', 'PageInfo']) expect(safety.get(name), name).toBe(shared.get(name));
  });
});
