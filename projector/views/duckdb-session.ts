import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LakeTable } from '../../schema/lake/contract.ts';
import type { LakeSource } from '../../schema/lake/contract.ts';
import { readCommitLog } from '../lake/commit-log.ts';
import { forEachConcurrently } from '../lake/concurrently.ts';
import { rawFolder, tableFolder } from '../lake/lake-paths.ts';
import { emptyChangeRowsSql } from '../sql/change-rows.ts';
import { ident, literals } from '../sql/literals.ts';
import type { LakeStorage } from '../storage/lake-storage.ts';
import { dremioViewsSql, LAKE_CATALOG, VIEW_SPACE } from './current-state.ts';

/**
 * Defines, in a DuckDB session, what Dremio sees: `lake.tables.<table>` (change rows),
 * `lake.raw.<source>` (raw events) and the generated views `angelis.<table>`, running
 * the very SQL written to `_views/dremio.sql`. Only files the commit log names are
 * read, so a reader never sees a batch before its commit. Files of a remote lake are
 * downloaded to `scratchDir` first.
 */
export async function defineLakeViews(
  duck: DuckDBConnection,
  storage: LakeStorage,
  sources: LakeSource[],
  scratchDir: string,
): Promise<void> {
  await duck.run(`ATTACH IF NOT EXISTS ':memory:' AS ${LAKE_CATALOG}`);
  await duck.run(`CREATE SCHEMA IF NOT EXISTS ${LAKE_CATALOG}.tables; CREATE SCHEMA IF NOT EXISTS ${LAKE_CATALOG}.raw; CREATE SCHEMA IF NOT EXISTS ${VIEW_SPACE}`);
  const filesByTable = new Map<string, string[]>();
  for (const source of sources) {
    const state = await readCommitLog(storage, source.name);
    const live = [...state.live.keys()];
    const local = new Map<string, string>();
    await forEachConcurrently(live, 8, async (path) => {
      local.set(path, storage.localRoot ? join(storage.localRoot, path) : await storage.localCopy(path, join(scratchDir, source.name)));
    });
    const raw = live.filter((p) => p.startsWith(rawFolder(source.name))).map((p) => local.get(p)!);
    await duck.run(
      `CREATE OR REPLACE VIEW ${LAKE_CATALOG}.raw.${ident(source.name)} AS ${
        raw.length
          ? `SELECT * FROM read_parquet([${literals(raw)}], hive_partitioning = true, union_by_name = true)`
          : 'SELECT NULL::BIGINT AS global_position WHERE false'
      }`,
    );
    for (const table of source.tables) {
      const files = live.filter((p) => p.startsWith(tableFolder(table.name))).map((p) => local.get(p)!);
      filesByTable.set(table.name, [...(filesByTable.get(table.name) ?? []), ...files]);
    }
  }
  const tables: LakeTable[] = sources.flatMap((s) => s.tables);
  for (const table of tables) {
    const files = filesByTable.get(table.name) ?? [];
    const body = files.length
      ? `SELECT * FROM read_parquet([${literals(files)}], hive_partitioning = true, union_by_name = true, hive_types = {'date': DATE})`
      : emptyChangeRowsSql(table);
    await duck.run(`CREATE OR REPLACE VIEW ${LAKE_CATALOG}.tables.${ident(table.name)} AS ${body}`);
  }
  // The Dremio file itself, unchanged: the views must run on both engines.
  await duck.run(dremioViewsSql(tables));
}
