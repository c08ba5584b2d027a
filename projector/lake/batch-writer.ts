import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { PARTITION_COLUMN, type LakeTable } from '../../schema/lake/contract.ts';
import { BATCH_CSV_COLUMNS, BATCH_TABLE, batchTableSql, type PersonalFields } from '../sql/batch-table.ts';
import { changeRowsSql } from '../sql/change-rows.ts';
import { literal } from '../sql/literals.ts';
import { rawEventsSql } from '../sql/raw-events.ts';
import { CSV_DELIMITER, CSV_QUOTE } from '../source/event-reader.ts';
import type { CommittedFile } from './commit-state.ts';
import { PARQUET_OPTIONS } from './duckdb.ts';
import { rawFilePath, tableFilePath } from './lake-paths.ts';

/** A Parquet file ready in the work folder, and where it goes in the lake. */
export interface StagedFile extends CommittedFile {
  local: string;
}

interface GroupStats {
  event_type: string;
  date: string;
  rows: number;
  first: number;
  last: number;
}

/** Sums per-(event type, date) statistics into per-date statistics for a table. */
export function tableStats(table: LakeTable, groups: GroupStats[]): Map<string, { rows: number; first: number; last: number }> {
  const out = new Map<string, { rows: number; first: number; last: number }>();
  for (const g of groups) {
    if (!(g.event_type in table.events)) continue;
    const s = out.get(g.date);
    if (!s) out.set(g.date, { rows: g.rows, first: g.first, last: g.last });
    else out.set(g.date, { rows: s.rows + g.rows, first: Math.min(s.first, g.first), last: Math.max(s.last, g.last) });
  }
  return out;
}

/**
 * Turns one CSV batch into Parquet with DuckDB: raw events per type and date, and change
 * rows per table and date, each partition one file named from its positions. All row
 * work is SQL inside DuckDB. The batch is loaded (and hashed) once; then the raw files
 * and the table files are written at the same time on two connections.
 */
export class BatchWriter {
  private readonly rawSql: string;
  private readonly tableSql: Map<string, string>;
  private readonly personal: PersonalFields;

  constructor(
    private readonly duck: DuckDBConnection,
    /** A second connection to the same database, for the table files. */
    private readonly tablesDuck: DuckDBConnection,
    private readonly source: string,
    private readonly tables: LakeTable[],
    personal: PersonalFields,
  ) {
    this.personal = personal;
    this.rawSql = rawEventsSql(personal);
    this.tableSql = new Map(tables.map((t) => [t.name, changeRowsSql(t, personal)]));
  }

  /** Writes the batch's Parquet files under `stageDir`; returns them with their lake paths. */
  async write(csvFile: string, stageDir: string): Promise<StagedFile[]> {
    await rm(stageDir, { recursive: true, force: true });
    await mkdir(join(stageDir, 'tables'), { recursive: true });
    const columns = Object.entries(BATCH_CSV_COLUMNS).map(([n, t]) => `'${n}': '${t}'`).join(', ');
    await this.duck.run(batchTableSql(this.personal, `read_csv(${literal(csvFile)},
      delim = ${literal(CSV_DELIMITER)}, quote = ${literal(CSV_QUOTE)}, escape = ${literal(CSV_QUOTE)}, header = false,
      auto_detect = false, columns = {${columns}})`));
    try {
      const reader = await this.duck.runAndReadAll(`SELECT event_type, CAST(${PARTITION_COLUMN} AS VARCHAR) AS date,
        CAST(count(*) AS INTEGER) AS rows, min(global_position) AS first, max(global_position) AS last
        FROM ${BATCH_TABLE} GROUP BY ALL`);
      const groups = reader.getRowObjectsJS().map((r) => ({
        event_type: String(r.event_type), date: String(r.date), rows: Number(r.rows), first: Number(r.first), last: Number(r.last),
      }));
      // Both settle before the batch table is dropped, even if one fails.
      const [raw, tables] = await Promise.allSettled([this.writeRaw(groups, stageDir), this.writeTables(groups, stageDir)]);
      if (raw.status === 'rejected') throw raw.reason;
      if (tables.status === 'rejected') throw tables.reason;
      return [...raw.value, ...tables.value];
    } finally {
      await this.duck.run(`DROP TABLE IF EXISTS ${BATCH_TABLE}`);
    }
  }

  /** Raw events: one COPY, one file per (event type, date). */
  private async writeRaw(groups: GroupStats[], stageDir: string): Promise<StagedFile[]> {
    const rawDir = join(stageDir, 'raw');
    await this.duck.run(`COPY (${this.rawSql}) TO ${literal(rawDir)} (${PARQUET_OPTIONS}, PARTITION_BY (_event_type_dir, date), FILENAME_PATTERN 'part_{i}')`);
    const staged: StagedFile[] = [];
    for (const g of groups) {
      const local = await onlyFile(join(rawDir, `_event_type_dir=${g.event_type}`, `date=${g.date}`));
      staged.push({ local, path: rawFilePath(this.source, g.event_type, g.date, g.first, g.last), rows: g.rows });
    }
    return staged;
  }

  /** Change rows: one COPY per table, one file per date. */
  private async writeTables(groups: GroupStats[], stageDir: string): Promise<StagedFile[]> {
    const staged: StagedFile[] = [];
    for (const table of this.tables) {
      const stats = tableStats(table, groups);
      if (stats.size === 0) continue;
      const dir = join(stageDir, 'tables', table.name);
      await this.tablesDuck.run(`COPY (${this.tableSql.get(table.name)}) TO ${literal(dir)} (${PARQUET_OPTIONS}, PARTITION_BY (date), FILENAME_PATTERN 'part_{i}')`);
      for (const [date, s] of stats) {
        const local = await onlyFile(join(dir, `date=${date}`));
        staged.push({ local, path: tableFilePath(table.name, this.source, date, s.first, s.last), rows: s.rows });
      }
    }
    return staged;
  }
}

/** The one Parquet file DuckDB wrote for a partition (more than one would break the naming). */
async function onlyFile(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet'));
  if (files.length !== 1) throw new Error(`expected one Parquet file in ${dir}, found ${files.length}`);
  return join(dir, files[0]);
}
