import { PARTITION_COLUMN, sourceField, type LakeTable } from '../../schema/lake/contract.ts';
import { BATCH_TABLE, PSEUDONYMS_COLUMN, type PersonalFields } from './batch-table.ts';
import { ident, literal } from './literals.ts';

export type { PersonalFields } from './batch-table.ts';

/**
 * Which event fields hold personal data: any field mapped into a column classified as
 * personal, in any table. Raw events are never restricted, so these are always hashed there.
 */
export function personalFields(tables: LakeTable[]): PersonalFields {
  const out: PersonalFields = {};
  for (const table of tables) {
    for (const [eventType, mapping] of Object.entries(table.events)) {
      for (const [column, source] of Object.entries(mapping.set)) {
        const kind = table.columns[column]?.personal;
        const field = sourceField(source);
        if (kind && field) (out[eventType] ??= {})[field] = kind;
      }
    }
  }
  return out;
}

/**
 * The raw rows of a batch: every event as stored, with personal fields of `data`
 * replaced by their pseudonyms (a field that is null stays null), plus the partition
 * column and `_event_type_dir` (the folder name, dropped from the file by the writer).
 * The pseudonyms come precomputed from the batch table and go in with one
 * json_merge_patch per event; an event with no personal value keeps its text as is.
 */
export function rawEventsSql(personal: PersonalFields, batchTable = BATCH_TABLE): string {
  const cases = Object.entries(personal).map(([eventType, fields]) => {
    // `||` yields NULL for a null pseudonym and concat_ws skips it: json_merge_patch would
    // delete a key patched with null, so only present values go into the patch.
    const members = Object.keys(fields).map((field, i) => `${literal(`${JSON.stringify(field)}:"`)} || ${PSEUDONYMS_COLUMN}[${i + 1}] || '"'`);
    return `WHEN ${literal(eventType)} THEN concat_ws(',', ${members.join(', ')})`;
  });
  const patch = cases.length ? `CASE event_type ${cases.join(' ')} END` : 'NULL';
  return `SELECT global_position, transaction_id, stream_id, stream_version, event_id, event_type, event_version,
  CASE WHEN _patch <> '' THEN CAST(json_merge_patch(data, '{' || _patch || '}') AS VARCHAR) ELSE data END AS data,
  metadata, occurred_at, event_type AS _event_type_dir, ${PARTITION_COLUMN}
FROM (SELECT *, ${patch} AS _patch FROM ${ident(batchTable)})`;
}
