import { BadUserInputError } from '../errors.ts';
import { addDays, optionalDate } from '../domain/input.ts';
import { toPage, type Page, type PageArgs } from '../graphql/pagination.ts';

/**
 * Test results read from external, read-only sources (SaferApp, Fit2000, ...): the one
 * shape every source adapter answers in, and the filters every results field takes.
 * Nothing here knows a particular source: each subgraph gives its provider name and mapping.
 */

export const OUTCOMES = ['APPROVED', 'REJECTED', 'PENDING'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One result as the graph and the lake see it, whatever the source's columns are called. */
export interface TestResult {
  provider: string;
  /** The source row's id (an integer key): the page position. */
  sourceId: string;
  position: number;
  /** Normalised (12345678-5). */
  rut: string;
  faenaCode: string;
  takenAt: Date;
  result: Outcome;
  score: number | null;
  /** When the source last changed the row, when the mapping names such a column. */
  updatedAt: Date | null;
}

/** The widest date range one request may ask for. */
export const MAX_RANGE_DAYS = 366;

/** What a results field was asked: dates inclusive, `toExclusive` the day after `to`. */
export interface ResultFilter {
  from: string | null;
  toExclusive: string | null;
  result: Outcome | null;
  page: Page;
}

export interface ResultArgs extends PageArgs {
  from?: string | null;
  to?: string | null;
  result?: string | null;
}

/** Validates a results field's arguments, or BAD_USER_INPUT naming the argument. */
export function resultFilter(args: ResultArgs): ResultFilter {
  const page = toPage(args);
  const from = optionalDate(args.from, 'from');
  const to = optionalDate(args.to, 'to');
  if (from && to) {
    if (to < from) throw new BadUserInputError(`to (${to}) must not be before from (${from})`, 'to');
    if (addDays(from, MAX_RANGE_DAYS) <= to) throw new BadUserInputError(`from..to may span at most ${MAX_RANGE_DAYS} days`, 'to');
  }
  const result = args.result ?? null;
  if (result !== null && !(OUTCOMES as readonly string[]).includes(result)) {
    throw new BadUserInputError(`result must be one of ${OUTCOMES.join(', ')}`, 'result');
  }
  return { from, toExclusive: to ? addDays(to, 1) : null, result: result as Outcome | null, page };
}

/** The row behind the graph's TestResult type (the name its generated resolver types use). */
export type TestResultRow = TestResult;
