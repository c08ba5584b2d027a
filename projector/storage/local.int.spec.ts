import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lakeStorageContract } from './lake-storage.contract.ts';
import { localLakeStorage } from './local.ts';

lakeStorageContract('local folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lake-local-'));
  return { storage: localLakeStorage(dir), close: () => rm(dir, { recursive: true, force: true }) };
});
