/**
 * The lake storage port: what the projector needs from a folder or a blob container.
 * Everything correctness depends on is here; adapters: local folder and Azure Blob
 * (which ADLS Gen2 accounts serve too). Paths are relative, `/`-separated.
 */

export interface LakeObject {
  path: string;
  size: number;
}

export interface LakeStorage {
  /** Where the lake is, for logs and `status`. */
  readonly description: string;
  /** The lake's own folder when it is on this machine (DuckDB then reads files in place). */
  readonly localRoot?: string;
  /** Writes an object, replacing it; readers see the old or the new content, never a part. */
  put(path: string, data: Uint8Array | string): Promise<void>;
  /** Creates an object only if none exists: true when this call created it. The commit primitive. */
  create(path: string, data: Uint8Array | string): Promise<boolean>;
  /** Stores a local file as an object; the local file is consumed (moved or deleted). */
  putFile(path: string, localFile: string): Promise<void>;
  /** An object's content, or undefined when there is none. */
  get(path: string): Promise<Buffer | undefined>;
  /** A local file with the object's content, at `<scratchDir>/<path>` (the object itself when the lake is local). */
  localCopy(path: string, scratchDir: string): Promise<string>;
  /** Every object under a folder (`raw/workforce/`), recursively. */
  list(folder: string): Promise<LakeObject[]>;
  /** Deletes an object; deleting a missing one is not an error. */
  delete(path: string): Promise<void>;
}

/** Refuses paths that could escape the lake or that adapters would read differently. */
export function checkLakePath(path: string, folder = false): string {
  const ok =
    !path.startsWith('/') &&
    !path.includes('\\') &&
    !path.includes('\0') &&
    path.split('/').every((part, i, all) => (part === '' ? folder && i === all.length - 1 : part !== '.' && part !== '..'));
  if (!ok && !(folder && path === '')) throw new Error(`invalid lake path: ${JSON.stringify(path)}`);
  return path;
}
