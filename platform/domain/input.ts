import { BadUserInputError } from '../errors.ts';

/** Input checks shared by every domain: each failure names the field and says what is wrong. */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ()-]{6,20}$/;

/** A trimmed, non-empty string of at most `max` characters. */
export function text(value: unknown, field: string, max = 200): string {
  if (value === null || value === undefined) throw new BadUserInputError(`${field} is required`, field);
  if (typeof value !== 'string') throw new BadUserInputError(`${field} must be text`, field);
  const trimmed = value.trim();
  if (trimmed.length === 0) throw new BadUserInputError(`${field} must not be empty`, field);
  if (trimmed.length > max) throw new BadUserInputError(`${field} must be at most ${max} characters`, field);
  return trimmed;
}

/** Like `text`, but null/undefined/blank give null. */
export function optionalText(value: unknown, field: string, max = 200): string | null {
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) return null;
  return text(value, field, max);
}

/** A real calendar date `YYYY-MM-DD` from 1900 to 2200 (Feb 30 is refused). */
export function isoDate(value: unknown, field: string): string {
  const m = typeof value === 'string' ? DATE.exec(value) : null;
  if (!m) throw new BadUserInputError(`${field} must be a date written YYYY-MM-DD, got ${JSON.stringify(value)}`, field);
  const [year, month, day] = [+m[1], +m[2], +m[3]];
  // The range first: Date.UTC reads years 0-99 as 1900-1999.
  if (year < 1900 || year > 2200) throw new BadUserInputError(`${field} must be a date from 1900 to 2200, got ${value}`, field);
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    throw new BadUserInputError(`${field} must be a real calendar date; ${value} does not exist`, field);
  }
  return value as string;
}

/** Like `isoDate`, but null/undefined give null. */
export function optionalDate(value: unknown, field: string): string | null {
  return value === null || value === undefined ? null : isoDate(value, field);
}

/** Refuses an end before its start. */
export function dateOrder(start: string, end: string | null, startField: string, endField: string): void {
  if (end !== null && end < start) {
    throw new BadUserInputError(`${endField} (${end}) must not be before ${startField} (${start})`, endField);
  }
}

export function optionalEmail(value: unknown, field = 'email'): string | null {
  const v = optionalText(value, field, 254);
  if (v !== null && !EMAIL.test(v)) throw new BadUserInputError(`${field} is not an email address`, field);
  return v === null ? null : v.toLowerCase();
}

export function optionalPhone(value: unknown, field = 'phone'): string | null {
  const v = optionalText(value, field, 20);
  if (v !== null && !PHONE.test(v)) throw new BadUserInputError(`${field} is not a phone number`, field);
  return v;
}

/** An integer within [min, max]. */
export function intInRange(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new BadUserInputError(`${field} must be a whole number from ${min} to ${max}`, field);
  }
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An entity id (UUID); anything else is a clear BAD_USER_INPUT instead of a database error. */
export function id(value: unknown, field: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw new BadUserInputError(`${field} must be an id (UUID)`, field);
  return value.toLowerCase();
}

/** True when `value` looks like an entity id. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Today's date in UTC, `YYYY-MM-DD`. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** `date` plus `days` days. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
