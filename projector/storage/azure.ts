import { mkdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BlobServiceClient, RestError, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { AzureLakeLocation } from './azure-url.ts';
import { checkLakePath, type LakeObject, type LakeStorage } from './lake-storage.ts';

function status(err: unknown): number | undefined {
  return err instanceof RestError ? err.statusCode : (err as { statusCode?: number })?.statusCode;
}

/**
 * The lake in an Azure Blob container (ADLS Gen2 serves the same API). Only Blob calls:
 * Azurite has no DFS endpoint, and rename/ACLs are not needed for correctness.
 * `create` is an upload with `If-None-Match: *`, which the service applies atomically.
 */
export async function azureLakeStorage(location: AzureLakeLocation, accountKey: string): Promise<LakeStorage> {
  const credential = new StorageSharedKeyCredential(location.account, accountKey);
  const service = new BlobServiceClient(location.serviceUrl, credential, { retryOptions: { maxTries: 4 } });
  const container: ContainerClient = service.getContainerClient(location.container);
  await container.createIfNotExists();
  const name = (path: string) => location.prefix + checkLakePath(path);
  const blob = (path: string) => container.getBlockBlobClient(name(path));

  return {
    description: `azure ${location.serviceUrl}/${location.container}/${location.prefix}`,

    async put(path, data) {
      const body = typeof data === 'string' ? Buffer.from(data) : data;
      await blob(path).upload(body, body.byteLength);
    },

    async create(path, data) {
      const body = typeof data === 'string' ? Buffer.from(data) : data;
      try {
        await blob(path).upload(body, body.byteLength, { conditions: { ifNoneMatch: '*' } });
        return true;
      } catch (err) {
        if (status(err) === 409 || status(err) === 412) return false;
        throw err;
      }
    },

    async putFile(path, localFile) {
      await blob(path).uploadFile(localFile, { concurrency: 4, blockSize: 8 * 1024 * 1024 });
      await unlink(localFile);
    },

    async get(path) {
      try {
        return await blob(path).downloadToBuffer();
      } catch (err) {
        if (status(err) === 404) return undefined;
        throw err;
      }
    },

    async localCopy(path, scratchDir) {
      // Keeping the lake path under the scratch folder keeps the Hive folders (date=...).
      const file = join(scratchDir, path);
      await mkdir(dirname(file), { recursive: true });
      await blob(path).downloadToFile(file);
      return file;
    },

    async list(folder) {
      const prefix = location.prefix + checkLakePath(folder, true);
      const out: LakeObject[] = [];
      for await (const item of container.listBlobsFlat({ prefix })) {
        out.push({ path: item.name.slice(location.prefix.length), size: item.properties.contentLength ?? 0 });
      }
      return out;
    },

    async delete(path) {
      await blob(path).deleteIfExists();
    },
  };
}
