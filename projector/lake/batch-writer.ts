import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { PARTITION_COLUMN, type LakeTable } from '../../schema/lake/contract.ts';
import { BATCH_CSV_COLUMNS, BATCH_TABLE, batchTableSql, type PersonalFields } from '../sql/batch-table.ts';
import { changeRowsSql } from '../sql/change-rows.ts';
import { ident, literal } from '../sql/literals.ts';
import { rawEventsSql } from '../sql/raw-events.ts';
import { CSV_DELIMITER, CSV_QUOTE } from '../source/event-reader.ts';
import type { CommittedFile } from './commit-state.ts';
import { PARQUET_OPTIONS } from './duckdb.ts';
import { rawFilePath, tableFilePath } from './lake-paths.ts';

// Partition folders left by earlier batches are reused (OVERWRITE_OR_IGNORE: DuckDB refuses
// a non-empty target otherwise); they are empty, as every staged file is moved or deleted.
const PARTITIONED = "FILENAME_PATTERN 'part_{i}', OVERWRITE_OR_IGNORE true";

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

/** A batch loaded into one of the writer's batch tables, ready to be written. */
export interface LoadedBatch {
  /** Which batch table holds it (two alternate, so one batch loads while the previous one is written). */
  slot: number;
  groups: GroupStats[];
}

/** SQL for one batch table slot. */
interface SlotSql {
  table: string;
  raw: string;
  tables: Map<string, string>;
}

/**
 * Turns one CSV batch into Parquet with DuckDB: raw events per type and date, and change
 * rows per table and date, each partition one file named from its positions. All row
 * work is SQL inside DuckDB. A batch is loaded (and hashed) once into a batch table on
 * its own connection, which may run while the previous batch is being written; writing
 * then produces the raw files and the table files at the same time on two connections.
 */
export class BatchWriter {
  private readonly slots: SlotSql[];
  private readonly personal: PersonalFields;

  /** Connection for the raw files. */
  private readonly duck: DuckDBConnection;
  /** A second connection to the same database, for the table files. */
  private readonly tablesDuck: DuckDBConnection;
  /** A third connection, for loading the next batch while one is written. */
  private readonly loadDuck: DuckDBConnection;
  private readonly source: string;
  private readonly tables: LakeTable[];

  constructor(
    duck: DuckDBConnection,
    tablesDuck: DuckDBConnection,
    loadDuck: DuckDBConnection,
    source: string,
    tables: LakeTable[],
    personal: PersonalFields,
  ) {
    this.duck = duck;
    this.tablesDuck = tablesDuck;
    this.loadDuck = loadDuck;
    this.source = source;
    this.tables = tables;
    this.personal = personal;
    this.slots = [0, 1].map((slot) => {
      const table = `${BATCH_TABLE}_${slot}`;
      return { table, raw: rawEventsSql(personal, table), tables: new Map(tables.map((t) => [t.name, changeRowsSql(t, personal, table)])) };
    });
  }

  /**
   * Loads a CSV batch into batch table `slot` (0 or 1), which must not hold a batch being
   * written; returns what `write` needs. The CSV file may be deleted afterwards.
   */
  async load(csvFile: string, slot: number): Promise<LoadedBatch> {
    const { table } = this.slots[slot];
    const columns = Object.entries(BATCH_CSV_COLUMNS).map(([n, t]) => `'${n}': '${t}'`).join(', ');
    await this.loadDuck.run(batchTableSql(this.personal, `read_csv(${literal(csvFile)},
      delim = ${literal(CSV_DELIMITER)}, quote = ${literal(CSV_QUOTE)}, escape = ${literal(CSV_QUOTE)}, header = false,
      auto_detect = false, columns = {${columns}})`, table));
    try {
      const reader = await this.loadDuck.runAndReadAll(`SELECT event_type, CAST(${PARTITION_COLUMN} AS VARCHAR) AS date,
        CAST(count(*) AS INTEGER) AS rows, min(global_position) AS first, max(global_position) AS last
        FROM ${ident(table)} GROUP BY ALL`);
      const groups = reader.getRowObjectsJS().map((r) => ({
        event_type: String(r.event_type), date: String(r.date), rows: Number(r.rows), first: Number(r.first), last: Number(r.last),
      }));
      return { slot, groups };
    } catch (err) {
      await this.discard(slot);
      throw err;
    }
  }

  /** Drops batch table `slot` (a loaded batch that will not be written). */
  async discard(slot: number, connection = this.loadDuck): Promise<void> {
    await connection.run(`DROP TABLE IF EXISTS ${ident(this.slots[slot].table)}`);
  }

  /**
   * Writes a loaded batch's Parquet files under `stageDir`, then drops its batch table;
   * returns the files with their lake paths. The caller moves or deletes the files before
   * the next batch. The folder tree may stay from earlier batches (DuckDB then reuses the
   * partition folders instead of creating them again); a partition folder must hold no
   * file when the batch starts.
   */
  async write(batch: LoadedBatch, stageDir: string): Promise<StagedFile[]> {
    try {
      await mkdir(join(stageDir, 'tables'), { recursive: true });
      const sql = this.slots[batch.slot];
      // Both settle before the batch table is dropped, even if one fails.
      const [raw, tables] = await Promise.allSettled([this.writeRaw(sql, batch.groups, stageDir), this.writeTables(sql, batch.groups, stageDir)]);
      if (raw.status === 'rejected') throw raw.reason;
      if (tables.status === 'rejected') throw tables.reason;
      return [...raw.value, ...tables.value];
    } finally {
      // On a writing connection: the load connection may be busy loading the next batch.
      await this.discard(batch.slot, this.duck);
    }
  }

  /** Raw events: one COPY, one file per (event type, date). */
  private async writeRaw(sql: SlotSql, groups: GroupStats[], stageDir: string): Promise<StagedFile[]> {
    const rawDir = join(stageDir, 'raw');
    await this.duck.run(`COPY (${sql.raw}) TO ${literal(rawDir)} (${PARQUET_OPTIONS}, PARTITION_BY (_event_type_dir, date), ${PARTITIONED})`);
    const staged: StagedFile[] = [];
    for (const g of groups) {
      const local = await onlyFile(join(rawDir, `_event_type_dir=${g.event_type}`, `date=${g.date}`));
      staged.push({ local, path: rawFilePath(this.source, g.event_type, g.date, g.first, g.last), rows: g.rows });
    }
    return staged;
  }

  /** Change rows: one COPY per table, one file per date. */
  private async writeTables(sql: SlotSql, groups: GroupStats[], stageDir: string): Promise<StagedFile[]> {
    const staged: StagedFile[] = [];
    for (const table of this.tables) {
      let stats = tableStats(table, groups);
      if (stats.size === 0) continue;
      // An event mapped with `when` may give no row: count what the table's rows are, per date.
      if (Object.values(table.events).some((m) => m.when !== undefined)) {
        stats = await this.rowStats(sql.tables.get(table.name)!);
        if (stats.size === 0) continue;
      }
      const dir = join(stageDir, 'tables', table.name);
      await this.tablesDuck.run(`COPY (${sql.tables.get(table.name)}) TO ${literal(dir)} (${PARQUET_OPTIONS}, PARTITION_BY (date), ${PARTITIONED})`);
      for (const [date, s] of stats) {
        const local = await onlyFile(join(dir, `date=${date}`));
        staged.push({ local, path: tableFilePath(table.name, this.source, date, s.first, s.last), rows: s.rows });
      }
    }
    return staged;
  }

  /** Rows, first and last position per date of a table's change rows in this batch. */
  private async rowStats(changeRows: string): Promise<Map<string, { rows: number; first: number; last: number }>> {
    const reader = await this.tablesDuck.runAndReadAll(`SELECT CAST(${PARTITION_COLUMN} AS VARCHAR) AS date,
      CAST(count(*) AS INTEGER) AS rows, min(_position) AS first, max(_position) AS last FROM (${changeRows}) GROUP BY ALL`);
    return new Map(reader.getRowObjectsJS().map((r) => [String(r.date), { rows: Number(r.rows), first: Number(r.first), last: Number(r.last) }]));
  }
}

/** The one Parquet file DuckDB wrote for a partition (more than one would break the naming). */
async function onlyFile(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet'));
  if (files.length !== 1) throw new Error(`expected one Parquet file in ${dir}, found ${files.length}`);
  return join(dir, files[0]);
}
