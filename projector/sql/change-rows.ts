import { CHANGE_COLUMNS, PARTITION_COLUMN, type LakeTable } from '../../schema/lake/contract.ts';
import { ident, literal, literals } from './literals.ts';
import { pseudonymSql } from './pseudonym.ts';

/** The batch table every generated statement reads: one row per event, as read from PostgreSQL. */
export const BATCH_TABLE = 'batch';

/** The columns of a batch CSV, in order, with the DuckDB types they are read as. */
export const BATCH_CSV_COLUMNS = {
  transaction_id: 'VARCHAR',
  global_position: 'BIGINT',
  occurred_at_micros: 'BIGINT',
  stream_id: 'VARCHAR',
  stream_version: 'BIGINT',
  event_id: 'VARCHAR',
  event_type: 'VARCHAR',
  event_version: 'INTEGER',
  data: 'VARCHAR',
  metadata: 'VARCHAR',
} as const;

/** The UTC date partition of an event. */
/** The batch table, from the CSV's columns: occurred_at becomes a UTC TIMESTAMP. */
export const BATCH_SELECT = `SELECT transaction_id, global_position, make_timestamp(occurred_at_micros) AS occurred_at, stream_id,
  stream_version, event_id, event_type, event_version, data, metadata`;

export const PARTITION_SQL = `CAST(occurred_at AS DATE) AS ${PARTITION_COLUMN}`;

/** A table's columns in declaration order, then the change columns: the Parquet schema. */
export function changeRowColumns(table: LakeTable): [string, string][] {
  return [...Object.entries(table.columns).map(([name, c]) => [name, c.type] as [string, string]), ...Object.entries(CHANGE_COLUMNS)];
}

/**
 * The change rows one batch produces for a table, partition column last. Each event's
 * JSON is parsed once (one multi-path extract), then every column picks its field by
 * event type; columns an event does not set are NULL.
 */
export function changeRowsSql(table: LakeTable): string {
  const events = Object.keys(table.events);
  const fields = [...new Set(Object.values(table.events).flatMap((m) => Object.values(m.set)))];
  const slot = (field: string) => fields.indexOf(field) + 1; // DuckDB lists are 1-based
  const deletes = events.filter((e) => table.events[e].op === 'delete');

  const columns = Object.entries(table.columns).map(([name, column]) => {
    const cases = events
      .filter((e) => name in table.events[e].set)
      .map((e) => `WHEN ${literal(e)} THEN _f[${slot(table.events[e].set[name])}]`);
    let value = `CAST(CASE event_type ${cases.join(' ')} END AS ${column.type})`;
    if (column.personal && !table.restricted) value = pseudonymSql(column.personal, value);
    return `${value} AS ${ident(name)}`;
  });
  const deleted = deletes.length ? `event_type IN (${literals(deletes)})` : 'false';
  return `SELECT ${columns.join(',\n  ')},
  global_position AS _position, event_id AS _event_id, event_type AS _event_type, occurred_at AS _occurred_at,
  CASE WHEN ${deleted} THEN 'delete' ELSE 'upsert' END AS _op, ${deleted} AS _deleted,
  ${PARTITION_COLUMN}
FROM (
  SELECT *, json_extract_string(data, [${literals(fields.map((f) => `$.${f}`))}]) AS _f, ${PARTITION_SQL}
  FROM ${BATCH_TABLE} WHERE event_type IN (${literals(events)})
)`;
}

/** An empty relation with a table's change-row schema, for views over a table with no files yet. */
export function emptyChangeRowsSql(table: LakeTable): string {
  const columns = [...changeRowColumns(table), [PARTITION_COLUMN, 'DATE']].map(([n, t]) => `CAST(NULL AS ${t}) AS ${ident(n)}`);
  return `SELECT ${columns.join(', ')} WHERE false`;
}
