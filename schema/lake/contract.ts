import type { EventContract } from '../events/contract.ts';
/**
 * A lake table contract: the one declarative description of a typed table in the lake
 * (`tables/<name>/date=YYYY-MM-DD/*.parquet`), which events feed it, and how each
 * column is classified. The projector derives the Parquet schema, the change-row SQL,
 * the pseudonymisation and the current-state view from it, and checks it against the
 * event contracts in `schema/events/` before it starts.
 */

/** Column types, as DuckDB writes them to Parquet (and Dremio reads them back). */
export type LakeType = 'VARCHAR' | 'DATE' | 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';

/** Personal data kinds: stored as a keyed hash unless the table is restricted. */
export type PersonalData = 'rut' | 'email' | 'phone';

export interface LakeColumn {
  type: LakeType;
  /** Set for personal data: the value is pseudonymised (HMAC) unless the table is restricted. */
  personal?: PersonalData;
  description?: string;
}

/**
 * Where a column's value comes from: a field of the event's `data` (its name), the event's
 * own id (`EVENT_ID`: for rows an event derives, such as a notification whose id is its
 * cause's), or a constant text (`constant('X')`: what the event type itself says).
 */
export type ColumnSource = string | { event: 'id' } | { constant: string };

/** The event's own id as a column's value. */
export const EVENT_ID = { event: 'id' } as const satisfies ColumnSource;

/** A constant text as a column's value. */
export function constant(value: string): { constant: string } {
  return { constant: value };
}

/** The data field a column source reads, if it reads one. */
export function sourceField(source: ColumnSource): string | undefined {
  return typeof source === 'string' ? source : undefined;
}

/**
 * How one event type changes a table. `upsert` writes the listed columns (column name ->
 * its source, usually a field of the event's `data`); columns it does not list keep their
 * previous value in the current-state view. `delete` marks the key deleted (its `set`
 * lists only keys). `when` names a data field: only events where it is present and not
 * null change the table (an event that causes a row only sometimes).
 */
export interface EventMapping {
  op: 'upsert' | 'delete';
  set: Record<string, ColumnSource>;
  when?: string;
}

export interface LakeTable {
  name: string;
  source: string;
  description: string;
  /** Columns that identify a row of the current state. */
  key: string[];
  /** Restricted tables keep personal data in clear; access to them is controlled in Dremio. */
  restricted?: boolean;
  columns: Record<string, LakeColumn>;
  /** Event type -> mapping. Every mapping must set every key column. */
  events: Record<string, EventMapping>;
}

/** Declares a lake table. */
export function defineLakeTable(table: LakeTable): LakeTable {
  return table;
}

/** Columns every change row carries, besides the table's own. */
export const CHANGE_COLUMNS = {
  _position: 'BIGINT',
  _event_id: 'VARCHAR',
  _event_type: 'VARCHAR',
  _occurred_at: 'TIMESTAMP',
  _op: 'VARCHAR',
  _deleted: 'BOOLEAN',
} as const satisfies Record<string, LakeType>;

/** The Hive partition column of every lake table and raw folder (UTC date of the event). */
export const PARTITION_COLUMN = 'date';

/** A source the projector consumes: a domain's event contracts and the lake tables they feed. */
export interface LakeSource {
  name: string;
  events: Record<string, EventContract>;
  tables: LakeTable[];
}
