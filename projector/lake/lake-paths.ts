import type { LakeTable } from '../../schema/lake/contract.ts';

/**
 * Where things live in the lake. Data files are named from the positions they hold, so
 * writing the same range again produces the same names.
 */

const pad = (n: number) => String(n).padStart(12, '0');

export const commitPath = (source: string, n: number) => `_commits/${source}/${pad(n)}.json`;
export const snapshotPath = (source: string) => `_commits/${source}/_snapshot.json`;
export const leaseFolder = (source: string) => `_leases/${source}/`;
export const leasePath = (source: string, epoch: number) => `${leaseFolder(source)}${pad(epoch)}.json`;
export const VIEWS_PATH = '_views/dremio.sql';

export const rawFolder = (source: string) => `raw/${source}/`;
export const tableFolder = (table: string) => `tables/${table}/`;

/** `raw/<source>/<event_type>/date=YYYY-MM-DD/<first>-<last>.parquet` */
export function rawFilePath(source: string, eventType: string, date: string, first: number, last: number): string {
  return `${rawFolder(source)}${eventType}/date=${date}/${pad(first)}-${pad(last)}.parquet`;
}

/** `tables/<table>/date=YYYY-MM-DD/<source>-<first>-<last>.parquet` */
export function tableFilePath(table: string, source: string, date: string, first: number, last: number): string {
  return `${tableFolder(table)}date=${date}/${source}-${pad(first)}-${pad(last)}.parquet`;
}

/** The folders holding a source's data files, and a test for which files there are the source's. */
export function sourceDataFolders(source: string, tables: LakeTable[]): { folder: string; owns(path: string): boolean }[] {
  return [
    { folder: rawFolder(source), owns: () => true },
    ...tables.map((t) => ({
      folder: tableFolder(t.name),
      owns: (path: string) => (path.split('/').pop() ?? '').startsWith(`${source}-`) || /\/\.[^/]*\.tmp$/.test(path),
    })),
  ];
}

/** The partition folder of a data file (`.../date=YYYY-MM-DD/`), and the positions in its name. */
export function parseDataFile(path: string): { partition: string; first: number; last: number } | undefined {
  const match = /^(.*\/date=\d{4}-\d{2}-\d{2}\/)(?:[a-z0-9_]+-)?(\d+)-(\d+)\.parquet$/.exec(path);
  if (!match) return undefined;
  return { partition: match[1], first: Number(match[2]), last: Number(match[3]) };
}

/** The lake path of the table or raw folder holding a data file. */
export function datasetOf(path: string): string {
  return path.replace(/\/date=.*$/, '/');
}
