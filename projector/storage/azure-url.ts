/** Where an Azure lake lives: the Blob service endpoint, account, container and a folder prefix. */
export interface AzureLakeLocation {
  serviceUrl: string;
  account: string;
  container: string;
  /** Folder inside the container ('' or ending with '/'). */
  prefix: string;
}

const IP_OR_LOCAL = /^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\])$/i;

/**
 * Reads a lake URL: `https://<account>.blob.core.windows.net/<container>[/folder]`, the
 * ADLS form `abfss://<container>@<account>.dfs.core.windows.net[/folder]` (mapped to the
 * Blob endpoint: every call we make is a Blob call), or an emulator's path style
 * `http://127.0.0.1:10000/<account>/<container>[/folder]`.
 */
export function parseAzureLakeUrl(raw: string): AzureLakeLocation {
  const url = new URL(raw);
  const parts = url.pathname.split('/').filter(Boolean);
  const prefixOf = (rest: string[]) => (rest.length ? `${rest.join('/')}/` : '');
  if (url.protocol === 'abfss:' || url.protocol === 'abfs:') {
    const account = url.hostname.split('.')[0];
    const container = decodeURIComponent(url.username);
    if (!container) throw new Error(`lake URL ${raw}: abfss URLs name the container before @`);
    const host = url.hostname.replace('.dfs.', '.blob.');
    return { serviceUrl: `https://${host}`, account, container, prefix: prefixOf(parts) };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`lake URL ${raw}: unsupported scheme ${url.protocol}`);
  if (IP_OR_LOCAL.test(url.hostname)) {
    const [account, container, ...rest] = parts;
    if (!account || !container) throw new Error(`lake URL ${raw}: expected http://host:port/<account>/<container>`);
    return { serviceUrl: `${url.protocol}//${url.host}/${account}`, account, container, prefix: prefixOf(rest) };
  }
  const [container, ...rest] = parts;
  if (!container) throw new Error(`lake URL ${raw}: the path must name the container`);
  return { serviceUrl: `${url.protocol}//${url.host}`, account: url.hostname.split('.')[0], container, prefix: prefixOf(rest) };
}
