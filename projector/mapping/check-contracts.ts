import type { LakeSource } from '../../schema/lake/contract.ts';
import { CHANGE_COLUMNS, PARTITION_COLUMN } from '../../schema/lake/contract.ts';
import { accepts, fieldKind } from './field-kind.ts';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Thrown at startup when a lake table mapping and the event contracts disagree. */
export class MappingError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Lake table mappings disagree with the event contracts:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
    this.name = 'MappingError';
  }
}

/** Every way the source's lake tables disagree with its event contracts (empty when they agree). */
export function checkLakeSource(source: LakeSource): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const table of source.tables) {
    const where = `schema/lake: table ${table.name}`;
    const problem = (message: string) => problems.push(`${where}: ${message}`);
    if (!NAME.test(table.name)) problem('name must be lower-case letters, digits and underscores');
    if (seen.has(table.name)) problem('is declared twice');
    seen.add(table.name);
    if (table.source !== source.name) problem(`declares source ${table.source} but is listed under ${source.name}`);
    for (const [column, spec] of Object.entries(table.columns)) {
      if (!NAME.test(column)) problem(`column ${column}: must be lower-case letters, digits and underscores, not starting with _`);
      if (column === PARTITION_COLUMN || column in CHANGE_COLUMNS) problem(`column ${column}: the name is reserved`);
      if (spec.personal && spec.type !== 'VARCHAR') problem(`column ${column}: personal data must be VARCHAR to hold a pseudonym`);
    }
    if (table.key.length === 0) problem('needs at least one key column');
    for (const key of table.key) if (!(key in table.columns)) problem(`key ${key} is not a column`);
    if (Object.keys(table.events).length === 0) problem('is fed by no event');
    const written = new Set<string>();
    for (const [eventType, mapping] of Object.entries(table.events)) {
      const contract = source.events[eventType];
      const at = `event ${eventType}`;
      if (!contract) {
        problem(`${at} has no contract in schema/events (source ${source.name})`);
        continue;
      }
      for (const key of table.key) if (!(key in mapping.set)) problem(`${at} does not set key column ${key}`);
      if (mapping.when !== undefined && !contract.data.shape[mapping.when]) {
        problem(`${at} is conditional on data.${mapping.when}, which ${eventType} v${contract.version} does not have`);
      }
      for (const [column, source] of Object.entries(mapping.set)) {
        const spec = table.columns[column];
        if (!spec) {
          problem(`${at} sets ${column}, which is not a column of the table`);
          continue;
        }
        written.add(column);
        if (mapping.op === 'delete' && !table.key.includes(column)) problem(`${at} is a delete and may only set key columns, not ${column}`);
        if (typeof source !== 'string') {
          // The event's id and a constant are text, never null; never personal data.
          const what = 'constant' in source ? `the constant ${JSON.stringify(source.constant)}` : "the event's id";
          if (spec.type !== 'VARCHAR') problem(`${at} maps ${column} (${spec.type}) from ${what}, which is text`);
          if (spec.personal) problem(`${at} maps personal column ${column} from ${what}; personal columns take data fields`);
          continue;
        }
        const field = source;
        const fieldSchema = contract.data.shape[field];
        if (!fieldSchema) {
          problem(`${at} maps ${column} from data.${field}, which ${eventType} v${contract.version} does not have`);
          continue;
        }
        const kind = fieldKind(fieldSchema);
        if (!accepts(spec.type, kind.kind)) {
          problem(`${at} maps ${column} (${spec.type}) from data.${field}, which is a ${kind.kind} in the contract`);
        }
        if (table.key.includes(column) && kind.nullable) problem(`${at} maps key ${column} from data.${field}, which may be null`);
      }
    }
    for (const column of Object.keys(table.columns)) {
      if (!written.has(column)) problem(`column ${column} is set by no event`);
    }
  }
  return problems;
}

/** Refuses to go on when any source's mappings disagree with its contracts. */
export function assertLakeSources(sources: LakeSource[]): void {
  const problems = sources.flatMap(checkLakeSource);
  if (problems.length > 0) throw new MappingError(problems);
}
