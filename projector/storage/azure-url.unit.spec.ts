import { describe, expect, it } from 'vitest';
import { parseAzureLakeUrl } from './azure-url.ts';

describe('azure lake URL', () => {
  it('reads the Blob endpoint form', () => {
    expect(parseAzureLakeUrl('https://acct.blob.core.windows.net/lake')).toEqual({
      serviceUrl: 'https://acct.blob.core.windows.net', account: 'acct', container: 'lake', prefix: '',
    });
  });
  it('maps the ADLS abfss form to the Blob endpoint', () => {
    expect(parseAzureLakeUrl('abfss://lake@acct.dfs.core.windows.net/angelis/prod')).toEqual({
      serviceUrl: 'https://acct.blob.core.windows.net', account: 'acct', container: 'lake', prefix: 'angelis/prod/',
    });
  });
  it("reads an emulator's path style", () => {
    expect(parseAzureLakeUrl('http://127.0.0.1:10000/devstoreaccount1/lake/x')).toEqual({
      serviceUrl: 'http://127.0.0.1:10000/devstoreaccount1', account: 'devstoreaccount1', container: 'lake', prefix: 'x/',
    });
  });
  it('refuses a URL without a container', () => {
    expect(() => parseAzureLakeUrl('https://acct.blob.core.windows.net/')).toThrow(/container/);
  });
});
