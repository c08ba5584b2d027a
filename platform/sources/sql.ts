import type { ResultMapping } from './mapping.ts';
import type { ResultFilter } from './results.ts';

/**
 * The SELECTs a results source may run, built once from its mapping: text and parameters,
 * nothing else. Names come from the validated mapping (plain identifiers, quoted), every
 * value is a parameter. Both dialects share the statements; only quoting, placeholders
 * and the row limit of the extraction differ.
 */

export interface Dialect {
  name: 'mysql' | 'sqlserver';
  quote(identifier: string): string;
  /** The placeholder of the i-th parameter (0-based). */
  param(i: number): string;
}

export const MYSQL: Dialect = { name: 'mysql', quote: (id) => `\`${id}\``, param: () => '?' };
export const SQLSERVER: Dialect = { name: 'sqlserver', quote: (id) => `[${id}]`, param: (i) => `@p${i}` };

export interface Statement {
  text: string;
  params: unknown[];
}

/** Keys per page statement: well under SQL Server's 2,100 parameters with the filters' own. */
export const MAX_KEYS_PER_STATEMENT = 1_000;

/** The columns every statement selects, by the names the row mapper reads. */
export const SELECTED = ['id', 'rut', 'faena', 'taken_at', 'result', 'score', 'updated_at'] as const;
export type RawRow = Record<(typeof SELECTED)[number], unknown> & {
  /** A page row's key as the statement partitioned it (compacted RUT or faena code). */
  k?: unknown;
};

/** Builds statements with numbered parameters. */
class Params {
  readonly values: unknown[] = [];
  private readonly dialect: Dialect;

  constructor(dialect: Dialect) {
    this.dialect = dialect;
  }
  add(value: unknown): string {
    this.values.push(value);
    return this.dialect.param(this.values.length - 1);
  }
  list(values: readonly unknown[]): string {
    return values.map((v) => this.add(v)).join(', ');
  }
}

/** The SQL of one source: its statements for pages by RUT or faena, and for extraction. */
export class ResultQueries {
  private readonly col: (ref: string) => string;
  private readonly from: string;
  readonly mapping: ResultMapping;
  readonly dialect: Dialect;

  constructor(
    mapping: ResultMapping,
    dialect: Dialect,
  ) {
    this.mapping = mapping;
    this.dialect = dialect;
    const q = dialect.quote;
    this.col = (ref) => {
      const [table, column] = ref.split('.');
      return `${table === mapping.table ? 'r' : 'j'}.${q(column)}`;
    };
    this.from = `${q(mapping.table)} r` + (mapping.join ? ` JOIN ${q(mapping.join.table)} j ON j.${q(mapping.join.on[1])} = r.${q(mapping.join.on[0])}` : '');
  }

  /** A RUT as stored in any format, compacted (no dots, dash or spaces, upper-case): compared with `compactRut`. */
  private rutKey(): string {
    return `UPPER(REPLACE(REPLACE(REPLACE(${this.col(this.mapping.columns.rut)}, '.', ''), '-', ''), ' ', ''))`;
  }

  private selectList(): string {
    const c = this.mapping.columns;
    const nullable = (ref: string | null | undefined) => (ref ? this.col(ref) : 'NULL');
    return [
      `${this.col(c.id)} AS id`,
      `${this.col(c.rut)} AS rut`,
      `${this.col(c.faena)} AS faena`,
      `${this.col(c.takenAt)} AS taken_at`,
      `${this.col(c.result)} AS result`,
      `${nullable(c.score)} AS score`,
      `${nullable(c.updatedAt)} AS updated_at`,
    ].join(', ');
  }

  private filters(p: Params, f: ResultFilter): string[] {
    const c = this.mapping.columns;
    const where: string[] = [];
    if (f.page.afterPosition > 0) where.push(`${this.col(c.id)} > ${p.add(f.page.afterPosition)}`);
    if (f.from) where.push(`${this.col(c.takenAt)} >= ${p.add(f.from)}`);
    if (f.toExclusive) where.push(`${this.col(c.takenAt)} < ${p.add(f.toExclusive)}`);
    if (f.result) where.push(`${this.col(c.result)} IN (${p.list(this.mapping.results[f.result])})`);
    return where;
  }

  /**
   * `pageByKeys` for any number of keys: one statement per `MAX_KEYS_PER_STATEMENT` keys
   * (SQL Server takes at most 2,100 parameters in a statement, one per key in `IN (...)`),
   * so a batch of 100 profiles is still one statement and 10,000 are ten.
   */
  pagesByKeys(by: 'rut' | 'faena', keys: readonly string[], f: ResultFilter, onlyRut?: string): Statement[] {
    const out: Statement[] = [];
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_STATEMENT) out.push(this.pageByKeys(by, keys.slice(i, i + MAX_KEYS_PER_STATEMENT), f, onlyRut));
    return out;
  }

  /**
   * One page per key for many keys in ONE statement (a batch of profiles or faenas):
   * `first + 1` rows per key (the extra says whether more follow), in id order.
   * `by: 'rut'` takes compacted RUTs; `onlyRut` narrows a faena's rows to one worker.
   */
  pageByKeys(by: 'rut' | 'faena', keys: readonly string[], f: ResultFilter, onlyRut?: string): Statement {
    const p = new Params(this.dialect);
    const key = by === 'rut' ? this.rutKey() : this.col(this.mapping.columns.faena);
    const where = [`${key} IN (${p.list(keys)})`, ...this.filters(p, f)];
    if (onlyRut) where.push(`${this.rutKey()} = ${p.add(onlyRut)}`);
    const inner = `SELECT ${this.selectList()}, ${key} AS k, ROW_NUMBER() OVER (PARTITION BY ${key} ORDER BY ${this.col(this.mapping.columns.id)}) AS rn FROM ${this.from} WHERE ${where.join(' AND ')}`;
    const text = `SELECT ${SELECTED.join(', ')}, k FROM (${inner}) t WHERE t.rn <= ${p.add(f.page.limit + 1)} ORDER BY t.id`;
    return { text, params: p.values };
  }

  /**
   * The extraction's next rows after a keyset position: with an `updatedAt` column, in
   * (updatedAt, id) order after `since` (all rows when `since.updatedAt` is null; the
   * caller starts an overlap window early and dedupes by id and change time); without
   * one, rows with a greater id. At most `limit`.
   */
  changedSince(since: { updatedAt: string | null; afterId: number }, limit: number): Statement {
    const p = new Params(this.dialect);
    const c = this.mapping.columns;
    const id = this.col(c.id);
    let where: string;
    let order = id;
    if (c.updatedAt) {
      const u = this.col(c.updatedAt);
      order = `${u}, ${id}`;
      if (since.updatedAt) {
        const at = sourceTimestamp(since.updatedAt);
        where = `(${u} > ${p.add(at)} OR (${u} = ${p.add(at)} AND ${id} > ${p.add(since.afterId)}))`;
      } else {
        where = `${u} IS NOT NULL`;
      }
    } else {
      where = `${id} > ${p.add(since.afterId)}`;
    }
    const top = this.dialect.name === 'sqlserver' ? `TOP (${p.add(limit)}) ` : '';
    const tail = this.dialect.name === 'mysql' ? ` LIMIT ${p.add(limit)}` : '';
    return { text: `SELECT ${top}${this.selectList()} FROM ${this.from} WHERE ${where} ORDER BY ${order}${tail}`, params: p.values };
  }
}

/** An instant as both dialects compare it with a DATETIME column: `YYYY-MM-DD HH:MM:SS.mmm` (UTC). */
export function sourceTimestamp(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
}

/** A RUT the way `pageByKeys` compares it: `12345678-5` -> `123456785`. */
export const compactRut = (rut: string) => rut.replace('-', '');

/** True for the only kind of statement a results source runs. */
export function isSelect(text: string): boolean {
  return /^\s*SELECT\s/i.test(text) && !text.includes(';');
}
