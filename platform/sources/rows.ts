import { normalizeRut } from '../domain/rut.ts';
import type { Logger } from '../logger.ts';
import { outcomeOf, type ResultMapping } from './mapping.ts';
import type { TestResult } from './results.ts';
import type { RawRow } from './sql.ts';

/**
 * Source rows into results. A source is someone else's data: a row with a malformed RUT,
 * date, id or outcome is counted and logged (by its id, never its RUT) and left out; it
 * never fails the query or the extraction.
 */

/** Rows left out, by reason, since the adapter started. */
export type RejectedCounts = Record<'rut' | 'takenAt' | 'id' | 'result' | 'faena', number>;

export const noRejections = (): RejectedCounts => ({ rut: 0, takenAt: 0, id: 0, result: 0, faena: 0 });

/** A source timestamp (a Date from the driver, or `YYYY-MM-DD[ HH:MM:SS[.fff]]` read as UTC); null when malformed. */
export function sourceInstant(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?))?(Z)?$/.exec(value.trim());
  if (!m) return null;
  const d = new Date(`${m[1]}T${m[2] ?? '00:00:00'}Z`);
  // Rejects 2026-02-30 and the like, which Date would roll over.
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== m[1] ? null : d;
}

/** Maps raw rows of `provider`; the rejected are counted in `rejected` and logged once per call. */
export function toResults(provider: string, mapping: ResultMapping, rows: RawRow[], rejected: RejectedCounts, log: Logger): TestResult[] {
  return mapRows(provider, mapping, rows, rejected, log).filter((r): r is TestResult => r !== null);
}

/** `toResults` row for row: null where a row is malformed (counted and logged the same way). */
export function mapRows(provider: string, mapping: ResultMapping, rows: RawRow[], rejected: RejectedCounts, log: Logger): (TestResult | null)[] {
  const out: (TestResult | null)[] = [];
  const skipped: { id: unknown; reason: keyof RejectedCounts }[] = [];
  for (const row of rows) {
    const reason = (r: keyof RejectedCounts) => {
      rejected[r]++;
      skipped.push({ id: row.id, reason: r });
      out.push(null);
    };
    const position = typeof row.id === 'bigint' ? Number(row.id) : Number(row.id);
    if (!Number.isSafeInteger(position) || position < 0) {
      reason('id');
      continue;
    }
    let rut: string;
    try {
      rut = normalizeRut(typeof row.rut === 'string' ? row.rut : String(row.rut ?? ''));
    } catch {
      reason('rut');
      continue;
    }
    const takenAt = sourceInstant(row.taken_at);
    if (!takenAt) {
      reason('takenAt');
      continue;
    }
    const result = outcomeOf(mapping, row.result);
    if (!result) {
      reason('result');
      continue;
    }
    const faenaCode = row.faena === null || row.faena === undefined ? '' : String(row.faena).trim();
    if (!faenaCode || faenaCode.length > 100) {
      reason('faena');
      continue;
    }
    const score = row.score === null || row.score === undefined || row.score === '' ? null : Number(row.score);
    out.push({
      provider,
      sourceId: String(position),
      position,
      rut,
      faenaCode,
      takenAt,
      result,
      score: score === null || Number.isFinite(score) ? score : null,
      updatedAt: sourceInstant(row.updated_at),
    });
  }
  if (skipped.length) log.warn({ provider, skipped: skipped.slice(0, 20), count: skipped.length, rejected }, 'source rows left out: malformed');
  return out;
}
