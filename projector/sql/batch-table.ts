import { PARTITION_COLUMN, type PersonalData } from '../../schema/lake/contract.ts';
import { ident, literal, literals } from './literals.ts';
import { pseudonymSql } from './pseudonym.ts';

/** Event type -> data field -> kind of personal data, derived from the lake tables' classifications. */
export type PersonalFields = Record<string, Record<string, PersonalData>>;

/**
 * The batch table every generated statement reads: one row per event, as read from
 * PostgreSQL. A plain table of the in-memory database (not TEMP), so that the raw and
 * the table writes can read it from two connections at once.
 */
export const BATCH_TABLE = 'batch';

/** The batch table's list of pseudonyms of an event's personal fields (see `pseudonymSlot`). */
export const PSEUDONYMS_COLUMN = '_pseudonyms';

/** The columns of a batch CSV, in order, with the DuckDB types they are read as. */
export const BATCH_CSV_COLUMNS = {
  transaction_id: 'VARCHAR',
  global_position: 'BIGINT',
  occurred_at: 'TIMESTAMP',
  stream_id: 'VARCHAR',
  stream_version: 'BIGINT',
  event_id: 'VARCHAR',
  event_type: 'VARCHAR',
  event_version: 'INTEGER',
  data: 'VARCHAR',
  metadata: 'VARCHAR',
} as const;

/** Where a personal field's pseudonym sits in `_pseudonyms` (1-based), or undefined if the field is not personal. */
export function pseudonymSlot(personal: PersonalFields, eventType: string, field: string): number | undefined {
  const i = Object.keys(personal[eventType] ?? {}).indexOf(field);
  return i < 0 ? undefined : i + 1;
}

/**
 * Fills the batch table from a CSV source in one pass: occurred_at as a UTC TIMESTAMP,
 * its date partition, and the pseudonyms of every personal field. Each event's JSON is
 * parsed once here and each value hashed once, however many outputs (raw, tables) use it.
 */
export function batchTableSql(personal: PersonalFields, csvSource: string, batchTable = BATCH_TABLE): string {
  const types = Object.keys(personal);
  const extract = types.map((e) => `WHEN ${literal(e)} THEN json_extract_string(data, [${literals(Object.keys(personal[e]).map((f) => `$.${f}`))}])`);
  const hash = types.map((e) => {
    const values = Object.values(personal[e]).map((kind, i) => pseudonymSql(kind, `_v[${i + 1}]`));
    return `WHEN ${literal(e)} THEN [${values.join(', ')}]`;
  });
  const pseudonyms = types.length ? `CASE event_type ${hash.join(' ')} END` : 'CAST(NULL AS VARCHAR[])';
  const values = types.length ? `CASE event_type ${extract.join(' ')} END` : 'NULL';
  return `CREATE OR REPLACE TABLE ${ident(batchTable)} AS
SELECT * EXCLUDE (_v), ${pseudonyms} AS ${PSEUDONYMS_COLUMN}
FROM (
  SELECT transaction_id, global_position, occurred_at, stream_id, stream_version, event_id,
    event_type, event_version, data, metadata, CAST(occurred_at AS DATE) AS ${PARTITION_COLUMN}, ${values} AS _v
  FROM ${csvSource}
)`;
}
