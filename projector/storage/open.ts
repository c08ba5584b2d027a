import type { Config as ProjectorConfig } from '../../platform/config.ts';
import { azureLakeStorage } from './azure.ts';
import { parseAzureLakeUrl } from './azure-url.ts';
import type { LakeStorage } from './lake-storage.ts';
import { localLakeStorage } from './local.ts';

/** The lake the configuration names: Azure when a URL or account is set, else the local folder. */
export async function openLakeStorage(config: ProjectorConfig): Promise<LakeStorage> {
  const url =
    config.ANGELIS_LAKE_URL ??
    (config.ANGELIS_LAKE_AZURE_ACCOUNT
      ? `https://${config.ANGELIS_LAKE_AZURE_ACCOUNT}.blob.core.windows.net/${config.ANGELIS_LAKE_AZURE_CONTAINER}`
      : undefined);
  if (!url) return localLakeStorage(config.ANGELIS_LAKE_DIR);
  const location = parseAzureLakeUrl(url);
  if (config.ANGELIS_LAKE_AZURE_ACCOUNT) location.account = config.ANGELIS_LAKE_AZURE_ACCOUNT;
  return azureLakeStorage(location, config.ANGELIS_LAKE_AZURE_KEY!);
}
