import { createHash, createHmac } from 'node:crypto';
import type { PersonalData } from '../../schema/lake/contract.ts';

/**
 * Keyed pseudonyms for personal data: HMAC-SHA256 over `<kind>:<normalised value>`, as
 * lower-case hex. The same person gets the same pseudonym in every table (analysts join
 * on it); without the key nobody can recompute it from a guessed RUT. The SQL form runs
 * inside DuckDB, so no row passes through JavaScript.
 */

/** Normalisation, so `12.345.678-5` and `123456785` (or `A@B.cl` and `a@b.cl`) match. */
const NORMALISE_SQL: Record<PersonalData, (expr: string) => string> = {
  rut: (e) => `upper(regexp_replace(${e}, '[^0-9kK]', '', 'g'))`,
  email: (e) => `lower(trim(${e}))`,
  phone: (e) => `regexp_replace(${e}, '[^0-9]', '', 'g')`,
};

/** The same normalisation in JavaScript. */
export function normalise(kind: PersonalData, value: string): string {
  switch (kind) {
    case 'rut':
      return value.replace(/[^0-9kK]/g, '').toUpperCase();
    case 'email':
      return value.trim().toLowerCase();
    case 'phone':
      return value.replace(/[^0-9]/g, '');
  }
}

/** The pseudonym of one value (for tests, and for an analyst looking up a known person). */
export function pseudonym(key: string, kind: PersonalData, value: string): string {
  return createHmac('sha256', key).update(`${kind}:${normalise(kind, value)}`).digest('hex');
}

/** HMAC's inner and outer padded keys (RFC 2104), as hex. */
export function hmacPads(key: string): { inner: string; outer: string } {
  let k = Buffer.from(key, 'utf8');
  // Keys longer than SHA-256's 64-byte block are hashed first, as HMAC prescribes.
  if (k.length > 64) k = createHash('sha256').update(k).digest();
  const block = Buffer.alloc(64);
  k.copy(block);
  return {
    inner: Buffer.from(block.map((b) => b ^ 0x36)).toString('hex'),
    outer: Buffer.from(block.map((b) => b ^ 0x5c)).toString('hex'),
  };
}

/**
 * DuckDB macros `pseudonym_rut(v)`, `pseudonym_email(v)`, `pseudonym_phone(v)`. DuckDB
 * cannot bind parameters in DDL, so the pads are inlined; they are hex we computed, and
 * the key itself never appears in SQL text.
 */
export function pseudonymMacrosSql(key: string): string {
  const { inner, outer } = hmacPads(key);
  return (Object.keys(NORMALISE_SQL) as PersonalData[])
    .map(
      (kind) =>
        `CREATE OR REPLACE TEMP MACRO pseudonym_${kind}(v) AS ` +
        `CASE WHEN v IS NULL THEN NULL ELSE sha256(unhex('${outer}') || unhex(sha256(unhex('${inner}') || encode('${kind}:' || ${NORMALISE_SQL[kind]('v')})))) END;`,
    )
    .join('\n');
}

/** The SQL expression that pseudonymises `expr` as `kind`. */
export function pseudonymSql(kind: PersonalData, expr: string): string {
  return `pseudonym_${kind}(${expr})`;
}
