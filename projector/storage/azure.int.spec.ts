import { afterAll, beforeAll } from 'vitest';
import { startAzurite, AZURITE_KEY, type Azurite } from '../testing/azurite.ts';
import { lakeStorageContract } from './lake-storage.contract.ts';
import { azureLakeStorage } from './azure.ts';
import { parseAzureLakeUrl } from './azure-url.ts';

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => azurite?.stop());

lakeStorageContract('azure blob (Azurite)', async () => ({
  storage: await azureLakeStorage(parseAzureLakeUrl(`${azurite.lakeUrl()}/some/prefix`), AZURITE_KEY),
  close: async () => {},
}));
