import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Dependencies point down only: services/bin -> subgraphs, gateway, projector -> schema ->
 * platform. platform/ knows no domain, and domains meet only through the graph and events:
 * no subgraph imports another. Checked on the imports of every source file (tests aside).
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const LAYER: Record<string, number> = { platform: 0, schema: 1, subgraphs: 2, gateway: 2, projector: 2, services: 3, bin: 3 };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : sources(full);
    return full.endsWith('.ts') && !/\.spec\.ts$|\.contract\.ts$/.test(full) ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => path.relative(ROOT, path.resolve(path.dirname(file), m[1])));
}

describe('dependency direction', () => {
  const files = Object.keys(LAYER).flatMap((top) => sources(path.join(ROOT, top)));

  it('no file imports a layer above its own', () => {
    const upward = files.flatMap((file) => {
      const from = path.relative(ROOT, file).split(path.sep)[0];
      return importsOf(file)
        .filter((target) => (LAYER[target.split(path.sep)[0]] ?? -1) > LAYER[from])
        .map((target) => `${path.relative(ROOT, file)} -> ${target}`);
    });
    expect(upward).toEqual([]);
  });

  it('no subgraph imports another', () => {
    const across = files
      .filter((f) => path.relative(ROOT, f).startsWith(`subgraphs${path.sep}`))
      .flatMap((file) => {
        const own = path.relative(ROOT, file).split(path.sep)[1];
        return importsOf(file)
          .filter((t) => t.startsWith(`subgraphs${path.sep}`) && t.split(path.sep)[1] !== own)
          .map((t) => `${path.relative(ROOT, file)} -> ${t}`);
      });
    expect(across).toEqual([]);
  });
});
