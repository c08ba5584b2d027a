import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { checkLakePath, type LakeObject, type LakeStorage } from './lake-storage.ts';

/** Temporary siblings are hidden (`.`-prefixed) so Dremio and DuckDB globs skip them. */
function tempSibling(file: string): string {
  return join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
}

function isCode(err: unknown, code: string): boolean {
  return (err as { code?: string })?.code === code;
}

/** The lake in a local folder. Atomicity comes from rename (put) and link (create). */
export function localLakeStorage(root: string): LakeStorage {
  const base = resolve(root);
  const full = (path: string) => join(base, checkLakePath(path));

  async function writeTemp(file: string, data: Uint8Array | string): Promise<string> {
    await mkdir(dirname(file), { recursive: true });
    const temp = tempSibling(file);
    await writeFile(temp, data);
    return temp;
  }

  return {
    description: `local folder ${base}`,
    localRoot: base,

    async put(path, data) {
      const file = full(path);
      await rename(await writeTemp(file, data), file);
    },

    async create(path, data) {
      const file = full(path);
      const temp = await writeTemp(file, data);
      try {
        // link(2) fails with EEXIST when the name is taken: an atomic create-if-absent
        // that also never exposes a half-written file.
        await link(temp, file);
        return true;
      } catch (err) {
        if (isCode(err, 'EEXIST')) return false;
        throw err;
      } finally {
        await unlink(temp).catch(() => {});
      }
    },

    async putFile(path, localFile) {
      const file = full(path);
      await mkdir(dirname(file), { recursive: true });
      try {
        await rename(localFile, file);
      } catch (err) {
        if (!isCode(err, 'EXDEV')) throw err;
        const temp = tempSibling(file);
        await copyFile(localFile, temp);
        await rename(temp, file);
        await unlink(localFile);
      }
    },

    async get(path) {
      try {
        return await readFile(full(path));
      } catch (err) {
        if (isCode(err, 'ENOENT')) return undefined;
        throw err;
      }
    },

    async localCopy(path) {
      const file = full(path);
      await stat(file);
      return file;
    },

    async list(folder) {
      const dir = join(base, checkLakePath(folder, true));
      let entries;
      try {
        entries = await readdir(dir, { recursive: true, withFileTypes: true });
      } catch (err) {
        if (isCode(err, 'ENOENT')) return [];
        throw err;
      }
      const out: LakeObject[] = [];
      for (const entry of entries) {
        if (!entry.isFile()) continue;
        const file = join(entry.parentPath ?? entry.path, entry.name);
        const size = await stat(file).then((s) => s.size, () => -1);
        if (size >= 0) out.push({ path: relative(base, file).split(sep).join('/'), size });
      }
      return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },

    async delete(path) {
      await rm(full(path), { force: true });
    },
  };
}
