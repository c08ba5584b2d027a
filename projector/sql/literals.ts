/**
 * SQL text for values DuckDB cannot bind: COPY targets, file lists in DDL, and names
 * declared in schema/lake. Runtime values everywhere else go through bind parameters.
 */

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A double-quoted identifier; refuses anything but a plain declared name. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a plain SQL name: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** A single-quoted string literal (file paths, declared event types and field names). */
export function literal(value: string): string {
  if (value.includes('\0')) throw new Error('NUL byte in a SQL literal');
  return `'${value.replaceAll("'", "''")}'`;
}

/** A list of string literals, e.g. for `IN (...)` or DuckDB's `[...]`. */
export function literals(values: readonly string[]): string {
  return values.map(literal).join(', ');
}
