import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { subgraphsOf } from '../gateway/subgraph-urls.ts';
import { configKeys, loadConfig } from '../platform/config.ts';
import { committedSupergraph, composeSupergraph } from '../schema/compose.ts';
import { registrySubgraphs } from '../bin/compose.ts';
import { configFragments, SERVICES, subgraphDefinitions, subgraphEntries } from './registry.ts';

/**
 * The registry is the one list of services: everything that lists services must agree
 * with it, so adding a domain is one folder plus one entry and nothing drifts.
 */
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const defaults = loadConfig({});

describe('service registry', () => {
  it('the committed supergraph is the composition of the registry\'s subgraphs (run `npm run compose`)', () => {
    expect(composeSupergraph(registrySubgraphs())).toBe(committedSupergraph());
  });

  it('keeps the entity keys later subgraphs rely on', () => {
    const sdl = committedSupergraph();
    expect(sdl).toMatch(/type Profile\s[^{]*@join__type\(graph: WORKFORCE, key: "id"\)\s*@join__type\(graph: WORKFORCE, key: "rut"\)/);
    expect(sdl).toMatch(/type Project\s[^{]*@join__type\(graph: WORKFORCE, key: "id"\)\s*@join__type\(graph: WORKFORCE, key: "faenaCode"\)/);
  });

  it('the gateway serves exactly the registry\'s subgraphs (it reads them from the supergraph)', () => {
    expect(subgraphsOf(committedSupergraph()).map((s) => s.name).sort()).toEqual(subgraphEntries().map((s) => s.name).sort());
    for (const s of subgraphsOf(committedSupergraph())) expect(s.url).toBe(serviceUrl(s.name));
  });

  it('every subgraph SDL has an entry, every subgraph entry has its SDL, its definition and its main.ts', async () => {
    const sdls = readdirSync(new URL('../schema/subgraphs/', import.meta.url)).filter((f) => f.endsWith('.graphql')).map((f) => f.replace('.graphql', ''));
    expect(sdls.sort()).toEqual(subgraphEntries().map((s) => s.name).sort());
    const definitions = await subgraphDefinitions();
    for (const [i, entry] of subgraphEntries().entries()) {
      expect(definitions[i].name).toBe(entry.name);
      expect(definitions[i].kind).toBe(entry.kind);
      expect(entry.listen(defaults).port).toBe(definitions[i].defaultPort);
      expect(read(entry.entry)).toMatch(new RegExp(`runSubgraph\\(${definitions[i].name}\\)`));
    }
  });

  it('every subgraph with an audit trail declares the shared types exactly as schema/shared/audit-trail.graphql', () => {
    const shared = read('schema/shared/audit-trail.graphql').trim();
    for (const entry of subgraphEntries()) {
      const sdl = read(`schema/subgraphs/${entry.name}.graphql`);
      if (!/\bAuditEntry\b/.test(sdl)) continue;
      const block = sdl.slice(sdl.indexOf('# shared: schema/shared/audit-trail.graphql'), sdl.indexOf('# end shared'));
      expect(block.split('\n').slice(1).join('\n').trim(), entry.name).toBe(shared);
    }
  });

  it('every entry point exists, and every owned domain can be rebuilt', async () => {
    for (const s of SERVICES) expect(existsSync(new URL(`../${s.entry}`, import.meta.url)), s.entry).toBe(true);
    const definitions = await subgraphDefinitions();
    for (const d of definitions.filter((d) => d.kind === 'domain')) expect(d.rebuild, d.name).toBeTypeOf('function');
  });

  it('the projector\'s sources are the domains with a lake contract, each with an event source of the same name', async () => {
    const withLake = SERVICES.filter((s) => s.lake);
    for (const entry of withLake) {
      const [lake, definition] = await Promise.all([entry.lake!(), entry.subgraph!()]);
      expect(lake.name).toBe(entry.name);
      expect(definition.kind).toBe('domain');
      expect(definition.eventSource?.(defaults).kind).toBeDefined();
    }
    expect(withLake.length).toBeGreaterThan(0);
  });

  it('the README\'s service table is the registry', () => {
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf('<!-- services:start -->'), readme.indexOf('<!-- services:end -->'));
    const rows = table.split('\n').filter((l) => l.startsWith('| `')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim().replace(/`/g, '')));
    expect(rows).toEqual(SERVICES.map((s) => [s.name, s.kind, s.database ?? '—', String(s.listen(defaults).port), s.entry]));
  });

  it('every configuration variable (the platform\'s and every service\'s) is in a table of the README (its Environment section, or the section of the service it configures)', async () => {
    const readme = read('README.md');
    const documented = documentedVariables(readme, (path) => read(path));
    const variables = [...configKeys, ...(await configFragments()).flatMap((f) => Object.keys(f.shape))].filter((k) => k.startsWith('ANGELIS_'));
    expect(variables.length).toBeGreaterThan(20);
    expect(variables.filter((v) => !documented(v))).toEqual([]);
  });

  it('docker-compose.yml runs every service as its own container from its entry, beside what it needs', () => {
    const compose = parseYaml(read('docker-compose.yml')) as { services: Record<string, { command?: string[]; depends_on?: Record<string, unknown> }> };
    for (const s of SERVICES) {
      const container = compose.services[s.name];
      expect(container, `docker-compose.yml has no ${s.name} service`).toBeDefined();
      expect(container.command?.join(' ')).toContain(s.entry);
      for (const dependency of s.compose) {
        expect(compose.services[dependency], `${s.name} needs ${dependency}`).toBeDefined();
        expect(Object.keys(container.depends_on ?? {}), `${s.name} depends on ${dependency}`).toContain(dependency);
      }
    }
    const angelis = Object.entries(compose.services).filter(([, c]) => c.command?.some((part) => /\.ts$/.test(part))).map(([name]) => name);
    expect(angelis.sort()).toEqual(SERVICES.map((s) => s.name).sort());
  });
});

function serviceUrl(name: string): string {
  return SERVICES.find((s) => s.name === name)!.listen(defaults).url;
}

/**
 * Which variables an environment table documents: a row names them in full
 * (`ANGELIS_GATEWAY_HOST`), as suffixes of its first one (`ANGELIS_GATEWAY_HOST` / `_PORT`),
 * or as a family (`ANGELIS_PROJECTOR_*`) whose linked document's tables name each.
 */
function documentedVariables(table: string, read: (path: string) => string): (name: string) => boolean {
  const tests: ((name: string) => boolean)[] = [];
  for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
    const names = [...row.split('|')[1].matchAll(/`([A-Z0-9_<>*]+)`/g)].map((m) => m[1]);
    const first = names.find((n) => n.startsWith('ANGELIS_'));
    if (!first) continue;
    const owner = first.split('_').slice(0, 2).join('_') + '_';
    const linked = [...row.matchAll(/\]\(([^)]+\.md)\)/g)].map((m) => documentedVariables(read(m[1]), read));
    for (const n of names) {
      if (n.endsWith('*')) {
        const prefix = n.slice(0, -1);
        tests.push((v) => v.startsWith(prefix) && linked.some((documents) => documents(v)));
      } else if (n.startsWith('_')) tests.push((v) => v.startsWith(owner) && v.endsWith(n));
      else tests.push((v) => v === n);
    }
  }
  return (name) => tests.some((t) => t(name));
}
