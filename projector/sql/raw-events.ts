import type { PersonalData, LakeTable } from '../../schema/lake/contract.ts';
import { BATCH_TABLE, PARTITION_SQL } from './change-rows.ts';
import { literal } from './literals.ts';
import { pseudonymSql } from './pseudonym.ts';

/** Event type -> data field -> kind of personal data, derived from the lake tables' classifications. */
export type PersonalFields = Record<string, Record<string, PersonalData>>;

/**
 * Which event fields hold personal data: any field mapped into a column classified as
 * personal, in any table. Raw events are never restricted, so these are always hashed there.
 */
export function personalFields(tables: LakeTable[]): PersonalFields {
  const out: PersonalFields = {};
  for (const table of tables) {
    for (const [eventType, mapping] of Object.entries(table.events)) {
      for (const [column, field] of Object.entries(mapping.set)) {
        const kind = table.columns[column]?.personal;
        if (kind) (out[eventType] ??= {})[field] = kind;
      }
    }
  }
  return out;
}

/**
 * The raw rows of a batch: every event as stored, with personal fields of `data`
 * replaced by their pseudonyms (a field that is null stays null), plus the partition
 * column and `_event_type_dir` (the folder name, dropped from the file by the writer).
 */
export function rawEventsSql(personal: PersonalFields): string {
  const cases = Object.entries(personal).map(([eventType, fields]) => {
    let expr = 'data';
    for (const [field, kind] of Object.entries(fields)) {
      const path = literal(`$.${field}`);
      // json_merge_patch drops a key patched with null, so only present values are patched.
      expr = `CASE WHEN json_extract_string(data, ${path}) IS NULL THEN ${expr} ELSE json_merge_patch(${expr}, json_object(${literal(field)}, ${pseudonymSql(kind, `json_extract_string(data, ${path})`)})) END`;
    }
    return `WHEN ${literal(eventType)} THEN CAST(${expr} AS VARCHAR)`;
  });
  const data = cases.length ? `CASE event_type ${cases.join(' ')} ELSE data END` : 'data';
  return `SELECT global_position, transaction_id, stream_id, stream_version, event_id, event_type, event_version,
  ${data} AS data, metadata, occurred_at, event_type AS _event_type_dir, ${PARTITION_SQL}
FROM ${BATCH_TABLE}`;
}
