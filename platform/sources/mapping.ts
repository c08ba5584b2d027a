import { OUTCOMES, type Outcome } from './results.ts';

/**
 * Where a source keeps its test results: table and column names are the integrator's to
 * configure (a JSON variable merged over the subgraph's defaults), checked against the
 * source's INFORMATION_SCHEMA before the first query, so a wrong name stops startup with a
 * message naming the column instead of failing one query at a time.
 */

/** A column, written `table.column`; the table is the results table or the joined one. */
export type ColumnRef = string;

export interface ResultMapping {
  /** The results table. */
  table: string;
  /** A table joined to it (e.g. a user–faena relationship): `on` is [results column, joined column]. */
  join?: { table: string; on: [string, string] } | null;
  columns: {
    /** An integer key: results are paged by it. */
    id: ColumnRef;
    rut: ColumnRef;
    faena: ColumnRef;
    takenAt: ColumnRef;
    result: ColumnRef;
    score?: ColumnRef | null;
    /** When the source changed the row (e.g. updated_at): the lake's watermark; else ids only. */
    updatedAt?: ColumnRef | null;
  };
  /** The source's values for each outcome (compared trimmed and case-insensitively). */
  results: Record<Outcome, string[]>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Thrown when a mapping is malformed or names a column the source lacks; names the variable and the column. */
export class MappingError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'MappingError';
  }
}

/** The default mapping with the JSON of `variable` merged over it (columns and results key by key). */
export function parseMapping(defaults: ResultMapping, json: string | undefined, variable: string): ResultMapping {
  let given: Partial<ResultMapping> = {};
  if (json) {
    try {
      given = JSON.parse(json) as Partial<ResultMapping>;
    } catch (err) {
      throw new MappingError(variable, `not JSON (${(err as Error).message})`);
    }
    if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new MappingError(variable, 'must be a JSON object');
  }
  const mapping: ResultMapping = {
    table: given.table ?? defaults.table,
    join: given.join === undefined ? defaults.join : given.join,
    columns: { ...defaults.columns, ...given.columns },
    results: { ...defaults.results, ...given.results },
  };
  validateShape(mapping, variable);
  return mapping;
}

function validateShape(m: ResultMapping, variable: string): void {
  const ident = (value: unknown, what: string) => {
    if (typeof value !== 'string' || !IDENTIFIER.test(value)) throw new MappingError(variable, `${what} must be a plain SQL name (letters, digits, _), got ${JSON.stringify(value)}`);
  };
  ident(m.table, 'table');
  if (m.join) {
    ident(m.join.table, 'join.table');
    if (!Array.isArray(m.join.on) || m.join.on.length !== 2) throw new MappingError(variable, 'join.on must be [results column, joined column]');
    m.join.on.forEach((c, i) => ident(c, `join.on[${i}]`));
  }
  const tables = [m.table, ...(m.join ? [m.join.table] : [])];
  for (const [key, ref] of Object.entries(m.columns)) {
    if ((key === 'score' || key === 'updatedAt') && (ref === null || ref === undefined)) continue;
    const [table, column, extra] = typeof ref === 'string' ? ref.split('.') : [];
    if (extra !== undefined || !table || !column) throw new MappingError(variable, `columns.${key} must be written table.column, got ${JSON.stringify(ref)}`);
    ident(table, `columns.${key} table`);
    ident(column, `columns.${key} column`);
    if (!tables.includes(table)) throw new MappingError(variable, `columns.${key}: table ${table} is neither ${tables.join(' nor ')}`);
  }
  for (const outcome of OUTCOMES) {
    const values = m.results[outcome];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 100)) {
      throw new MappingError(variable, `results.${outcome} must be a list of the source's values`);
    }
  }
}

/** Every `table.column` the mapping reads. */
export function columnsRead(m: ResultMapping): { table: string; column: string; role: string }[] {
  const refs: { table: string; column: string; role: string }[] = [];
  for (const [role, ref] of Object.entries(m.columns)) {
    if (!ref) continue;
    const [table, column] = ref.split('.');
    refs.push({ table, column, role });
  }
  if (m.join) {
    refs.push({ table: m.table, column: m.join.on[0], role: 'join.on[0]' });
    refs.push({ table: m.join.table, column: m.join.on[1], role: 'join.on[1]' });
  }
  return refs;
}

/** A column of the source as INFORMATION_SCHEMA describes it: `table.column`, and whether it may be NULL. */
export interface SourceColumn {
  name: string;
  nullable: boolean;
}

/**
 * Checks the mapping against the columns the source has (`table.column`, compared
 * case-insensitively); throws naming the first missing one. The change column must be NOT
 * NULL: the extraction reads rows by their change time, so a row without one would never
 * reach the lake (map a NOT NULL column, or none: the extraction then reads by id).
 */
export function checkMapping(m: ResultMapping, existing: Iterable<SourceColumn>, variable: string, source: string): void {
  const have = new Map([...existing].map((c) => [c.name.toLowerCase(), c]));
  for (const { table, column, role } of columnsRead(m)) {
    const found = have.get(`${table}.${column}`.toLowerCase());
    if (!found) {
      throw new MappingError(variable, `column ${table}.${column} (${role}) does not exist in ${source}; set ${variable} to the source's names`);
    }
    if (role === 'updatedAt' && found.nullable) {
      throw new MappingError(variable, `column ${table}.${column} (updatedAt) may be NULL in ${source}: rows without a change time would never be extracted; map a NOT NULL change column, or set columns.updatedAt to null to read by id`);
    }
  }
}

/** The outcome a source value stands for, or null when the mapping does not know it. */
export function outcomeOf(m: ResultMapping, value: unknown): Outcome | null {
  if (value === null || value === undefined) return null;
  const v = String(value).trim().toUpperCase();
  for (const outcome of OUTCOMES) if (m.results[outcome].some((s) => s.trim().toUpperCase() === v)) return outcome;
  return null;
}
