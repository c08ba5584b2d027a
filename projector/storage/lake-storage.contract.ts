import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LakeStorage } from './lake-storage.ts';

/**
 * The lake storage contract: every adapter runs this same suite, so the projector can
 * rely on these behaviours whatever the lake is.
 */
export function lakeStorageContract(name: string, open: () => Promise<{ storage: LakeStorage; close(): Promise<void> }>): void {
  describe(`lake storage contract: ${name}`, () => {
    let storage: LakeStorage;
    let close: () => Promise<void>;
    let scratch: string;

    beforeAll(async () => {
      ({ storage, close } = await open());
      scratch = await mkdtemp(join(tmpdir(), 'lake-contract-'));
    });
    afterAll(async () => {
      await close?.();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('reads back what it wrote, and nothing for a missing object', async () => {
      await storage.put('a/b/one.json', '{"n":1}');
      expect((await storage.get('a/b/one.json'))?.toString()).toBe('{"n":1}');
      await storage.put('a/b/one.json', new Uint8Array([1, 2, 3]));
      expect([...((await storage.get('a/b/one.json')) ?? [])]).toEqual([1, 2, 3]);
      expect(await storage.get('a/b/missing.json')).toBeUndefined();
    });

    it('creates an object only when absent, and exactly one of many concurrent creators wins', async () => {
      expect(await storage.create('c/1.json', 'first')).toBe(true);
      expect(await storage.create('c/1.json', 'second')).toBe(false);
      expect((await storage.get('c/1.json'))?.toString()).toBe('first');
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => storage.create('c/2.json', `writer ${i}`)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await storage.get('c/2.json'))?.toString()).toBe(`writer ${winner}`);
    });

    it('stores a local file and consumes it', async () => {
      const local = join(scratch, 'upload.bin');
      await writeFile(local, Buffer.alloc(100_000, 7));
      await storage.putFile('d/date=2025-01-01/x.parquet', local);
      await expect(readFile(local)).rejects.toThrow();
      const copy = await storage.localCopy('d/date=2025-01-01/x.parquet', scratch);
      expect((await readFile(copy)).equals(Buffer.alloc(100_000, 7))).toBe(true);
    });

    it('lists a folder recursively with sizes, and only that folder', async () => {
      await storage.put('e/x/1.txt', '1');
      await storage.put('e/x/y/2.txt', '22');
      await storage.put('ee/3.txt', '333');
      const listed = await storage.list('e/');
      expect(listed.map((o) => [o.path, o.size]).sort()).toEqual([
        ['e/x/1.txt', 1],
        ['e/x/y/2.txt', 2],
      ]);
      expect(await storage.list('nothing-here/')).toEqual([]);
    });

    it('deletes, and deleting a missing object is fine', async () => {
      await storage.put('f/1.txt', '1');
      await storage.delete('f/1.txt');
      await storage.delete('f/1.txt');
      expect(await storage.get('f/1.txt')).toBeUndefined();
      expect(await storage.list('f/')).toEqual([]);
    });

    it('refuses paths that escape the lake', async () => {
      await expect(storage.put('../outside.txt', 'x')).rejects.toThrow(/invalid lake path/);
      await expect(storage.get('/abs.txt')).rejects.toThrow(/invalid lake path/);
    });
  });
}
