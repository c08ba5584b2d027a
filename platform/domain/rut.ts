import { BadUserInputError } from '../errors.ts';

/**
 * Chilean RUT: body digits and a mod-11 check digit (0-9 or K).
 * Accepted in any common format (`12.345.678-5`, `12345678-5`, `123456785`, spaces);
 * stored normalised as `12345678-5`.
 */

/** The check digit of a RUT body. */
export function checkDigit(body: string): string {
  let sum = 0;
  let factor = 2;
  for (let i = body.length - 1; i >= 0; i--) {
    sum += Number(body[i]) * factor;
    factor = factor === 7 ? 2 : factor + 1;
  }
  const r = 11 - (sum % 11);
  return r === 11 ? '0' : r === 10 ? 'K' : String(r);
}

/** Normalises a RUT or throws BAD_USER_INPUT naming what is wrong. */
export function normalizeRut(input: unknown, field = 'rut'): string {
  if (typeof input !== 'string' || input.length > 20) throw new BadUserInputError(`${field} must be a RUT like 12.345.678-5`, field);
  const compact = input.replace(/[.\s]/g, '').toUpperCase();
  const m = /^(\d{1,9})-?([\dK])$/.exec(compact);
  if (!m) throw new BadUserInputError(`${field} "${input}" is not a RUT like 12.345.678-5`, field);
  const body = m[1].replace(/^0+(?=\d)/, '');
  if (body === '0') throw new BadUserInputError(`${field} "${input}" is not a RUT: its number is zero`, field);
  const expected = checkDigit(body);
  if (m[2] !== expected) {
    throw new BadUserInputError(`${field} "${input}" has a wrong check digit (expected ${expected})`, field);
  }
  return `${body}-${m[2]}`;
}

/** Formats a normalised RUT with thousands dots, for people. */
export function formatRut(rut: string): string {
  const [body, dv] = rut.split('-');
  return `${body.replace(/\B(?=(\d{3})+(?!\d))/g, '.')}-${dv}`;
}
