import { CHANGE_COLUMNS, PARTITION_COLUMN, sourceField, type ColumnSource, type LakeTable } from '../../schema/lake/contract.ts';
import { BATCH_TABLE, PSEUDONYMS_COLUMN, pseudonymSlot, type PersonalFields } from './batch-table.ts';
import { ident, literal, literals } from './literals.ts';
import { pseudonymSql } from './pseudonym.ts';

/** A table's columns in declaration order, then the change columns: the Parquet schema. */
export function changeRowColumns(table: LakeTable): [string, string][] {
  return [...Object.entries(table.columns).map(([name, c]) => [name, c.type] as [string, string]), ...Object.entries(CHANGE_COLUMNS)];
}

/**
 * The change rows one batch produces for a table, partition column last. Each event's
 * JSON is parsed once (one multi-path extract), then every column picks its field by
 * event type; columns an event does not set are NULL. A personal VARCHAR column takes
 * the pseudonym the batch table already computed for its field when the kinds agree.
 */
export function changeRowsSql(table: LakeTable, personal: PersonalFields, batchTable = BATCH_TABLE): string {
  const events = Object.keys(table.events);
  const fields = [
    ...new Set(
      Object.values(table.events).flatMap((m) => [...Object.values(m.set).map(sourceField), m.when].filter((f): f is string => f !== undefined)),
    ),
  ];
  const slot = (field: string) => fields.indexOf(field) + 1; // DuckDB lists are 1-based
  const deletes = events.filter((e) => table.events[e].op === 'delete');
  const sourceSql = (source: ColumnSource) =>
    typeof source === 'string' ? `_f[${slot(source)}]` : 'constant' in source ? literal(source.constant) : 'event_id';
  // An event with a `when` field feeds the table only when that field is present and not null.
  const conditional = events.filter((e) => table.events[e].when !== undefined);
  const when = conditional.length
    ? `\nWHERE CASE event_type ${conditional.map((e) => `WHEN ${literal(e)} THEN _f[${slot(table.events[e].when!)}] IS NOT NULL`).join(' ')} ELSE true END`
    : '';

  const columns = Object.entries(table.columns).map(([name, column]) => {
    const setting = events.filter((e) => name in table.events[e].set);
    const kind = table.restricted ? undefined : column.personal;
    if (!kind) {
      const cases = setting.map((e) => `WHEN ${literal(e)} THEN ${sourceSql(table.events[e].set[name])}`);
      return `CAST(CASE event_type ${cases.join(' ')} END AS ${column.type}) AS ${ident(name)}`;
    }
    // The pseudonym of the value as typed; for a VARCHAR that is the batch's own pseudonym of the field.
    // (Personal columns take data fields only: the contract check refuses anything else.)
    const cases = setting.map((e) => {
      const field = sourceField(table.events[e].set[name])!;
      const shared = column.type === 'VARCHAR' && personal[e]?.[field] === kind ? pseudonymSlot(personal, e, field) : undefined;
      const value = shared ? `${PSEUDONYMS_COLUMN}[${shared}]` : pseudonymSql(kind, `CAST(_f[${slot(field)}] AS ${column.type})`);
      return `WHEN ${literal(e)} THEN ${value}`;
    });
    return `CASE event_type ${cases.join(' ')} END AS ${ident(name)}`;
  });
  const deleted = deletes.length ? `event_type IN (${literals(deletes)})` : 'false';
  return `SELECT ${columns.join(',\n  ')},
  global_position AS _position, event_id AS _event_id, event_type AS _event_type, occurred_at AS _occurred_at,
  CASE WHEN ${deleted} THEN 'delete' ELSE 'upsert' END AS _op, ${deleted} AS _deleted,
  ${PARTITION_COLUMN}
FROM (
  SELECT *, json_extract_string(data, [${literals(fields.map((f) => `$.${f}`))}]) AS _f
  FROM ${ident(batchTable)} WHERE event_type IN (${literals(events)})
)${when}`;
}

/** An empty relation with a table's change-row schema, for views over a table with no files yet. */
export function emptyChangeRowsSql(table: LakeTable): string {
  const columns = [...changeRowColumns(table), [PARTITION_COLUMN, 'DATE']].map(([n, t]) => `CAST(NULL AS ${t}) AS ${ident(n)}`);
  return `SELECT ${columns.join(', ')} WHERE false`;
}
