import { SourceUnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { checkMapping, type ResultMapping, type SourceColumn } from './mapping.ts';
import { compactRut, isSelect, ResultQueries, type RawRow, type Statement } from './sql.ts';
import { mapRows, noRejections, sourceInstant, toResults, type RejectedCounts } from './rows.ts';
import type { ResultFilter, TestResult } from './results.ts';

/**
 * The port every test-result source implements (a database adapter, the sample, a test
 * double): pages for many RUTs or faenas in one round trip, and the extraction's reads.
 */
export interface TestResultSource {
  /** The provider its results carry (e.g. FIT2000). */
  readonly provider: string;
  /** `sql` (a real database), `sample` (development data) or `unconfigured`. */
  readonly kind: 'sql' | 'sample' | 'unconfigured';
  /** Statements sent to the source since it opened (batching is checked with it). */
  readonly statements: number;
  readonly rejected: RejectedCounts;
  /** Up to `first + 1` results per normalised RUT, in id order. */
  byRuts(ruts: readonly string[], filter: ResultFilter): Promise<TestResult[]>;
  /** Up to `first + 1` results per faena code, in id order; `onlyRut` keeps one worker's. */
  byFaenas(faenas: readonly string[], filter: ResultFilter, onlyRut?: string): Promise<TestResult[]>;
  /**
   * Up to `limit` source rows after a keyset position (change time and id; only the id when
   * the source has no change time): the valid ones as results, and where the last row read
   * (valid or not) leaves the keyset, null when none was read.
   */
  changedSince(since: Keyset, limit: number): Promise<ChangedRows>;
  /** Whether it answers (readiness; a down source never makes its subgraph unready, its fields say so). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Extra reads of one key past malformed rows before a page gives up filling (each reads `first + 1` rows). */
const MAX_REFILLS = 10;

/** A position in a source's rows: (change time, id), or the id alone. */
export interface Keyset {
  updatedAt: string | null;
  afterId: number;
}

/** A page of the extraction. */
export interface ChangedRows {
  results: TestResult[];
  /** Rows read, malformed ones included: fewer than the limit means the end. */
  read: number;
  last: Keyset | null;
}

/** What a database gives a SQL source: SELECTs on read-only sessions, and the columns it has. */
export interface ReadOnlyDriver {
  readonly dialect: ResultQueries['dialect'];
  /** Runs one SELECT with its parameters. */
  select(statement: Statement): Promise<RawRow[]>;
  /** Every column of `tables` (`table.column` and whether it is nullable, from INFORMATION_SCHEMA). */
  columnsOf(tables: string[]): Promise<SourceColumn[]>;
  close(): Promise<void>;
}

/**
 * A source in a SQL database, read-only twice: its driver opens read-only sessions, and
 * this adapter sends only the SELECTs its ResultQueries build (anything else is refused
 * before it leaves the process). The mapping is checked against INFORMATION_SCHEMA
 * before the first query (`verify`, at startup); the source being down is
 * SOURCE_UNAVAILABLE, a wrong mapping stops startup.
 */
export class SqlResultSource implements TestResultSource {
  readonly kind = 'sql';
  statements = 0;
  readonly rejected = noRejections();
  private readonly queries: ResultQueries;
  private verified: Promise<void> | null = null;

  readonly provider: string;
  private readonly o: { driver: ReadOnlyDriver; mapping: ResultMapping; mappingVariable: string; sourceName: string; log: Logger };

  constructor(
    provider: string,
    o: { driver: ReadOnlyDriver; mapping: ResultMapping; mappingVariable: string; sourceName: string; log: Logger },
  ) {
    this.provider = provider;
    this.o = o;
    this.queries = new ResultQueries(o.mapping, o.driver.dialect);
  }

  /** Checks the mapping against the source's columns; throws MappingError naming a missing column. */
  verify(): Promise<void> {
    this.verified ??= (async () => {
      const tables = [this.o.mapping.table, ...(this.o.mapping.join ? [this.o.mapping.join.table] : [])];
      const columns = await this.o.driver.columnsOf(tables);
      checkMapping(this.o.mapping, columns, this.o.mappingVariable, this.o.sourceName);
    })().catch((err) => {
      this.verified = null;
      throw err;
    });
    return this.verified;
  }

  /** Sends one of its own SELECTs; a source that fails to answer is SOURCE_UNAVAILABLE. */
  async run(statement: Statement): Promise<RawRow[]> {
    if (!isSelect(statement.text)) throw new Error(`a read-only source sends only SELECTs; refused: ${statement.text.slice(0, 40)}`);
    try {
      await this.verify();
      this.statements++;
      return await this.o.driver.select(statement);
    } catch (err) {
      if ((err as Error).name === 'MappingError') {
        this.o.log.error({ err }, `${this.o.sourceName} mapping does not match the source`);
      } else {
        this.o.log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, `${this.o.sourceName} query failed`);
      }
      throw new SourceUnavailableError(this.o.sourceName);
    }
  }

  private map(rows: RawRow[]): TestResult[] {
    return toResults(this.provider, this.o.mapping, rows, this.rejected, this.o.log);
  }

  /** Runs a batch's statements one after another (at most 1,000 keys each) and joins their rows. */
  private async runAll(statements: Statement[]): Promise<RawRow[]> {
    const rows: RawRow[] = [];
    for (const s of statements) rows.push(...(await this.run(s)));
    return rows;
  }

  async byRuts(ruts: readonly string[], filter: ResultFilter): Promise<TestResult[]> {
    return this.pages('rut', ruts.map(compactRut), filter);
  }

  async byFaenas(faenas: readonly string[], filter: ResultFilter, onlyRut?: string): Promise<TestResult[]> {
    return this.pages('faena', faenas, filter, onlyRut && compactRut(onlyRut));
  }

  /**
   * `first + 1` VALID results per key. A malformed row is left out, so a key whose rows read
   * were all there were but fell short of `first + 1` valid ones (a malformed row inside the
   * window) is read on from its last row read, alone, until it has them or its rows end:
   * otherwise its page would say it is the last, and the rows after it would never be
   * reached. Without malformed rows this is the one statement per batch it always was.
   */
  private async pages(by: 'rut' | 'faena', keys: readonly string[], filter: ResultFilter, onlyRut?: string): Promise<TestResult[]> {
    const want = filter.page.limit + 1;
    const raw = await this.runAll(this.queries.pagesByKeys(by, keys, filter, onlyRut));
    const mapped = mapRows(this.provider, this.o.mapping, raw, this.rejected, this.o.log);
    if (!mapped.includes(null)) return mapped as TestResult[];
    const rowsOf = new Map<string, { read: RawRow[]; valid: TestResult[] }>();
    raw.forEach((r, i) => {
      const k = String(r.k);
      const g = rowsOf.get(k) ?? { read: [], valid: [] };
      g.read.push(r);
      if (mapped[i]) g.valid.push(mapped[i]);
      rowsOf.set(k, g);
    });
    const out: TestResult[] = [];
    // By the key as the source partitioned it (its own value: resumed with it exactly).
    for (const [key, g] of rowsOf) {
      let read = g.read;
      const valid = g.valid;
      for (let round = 0; read.length === want && valid.length < want; round++) {
        const after = Number(read[read.length - 1].id);
        if (round === MAX_REFILLS || !Number.isSafeInteger(after) || after <= 0) {
          this.o.log.warn({ provider: this.provider, rounds: round }, `${this.o.sourceName}: too many malformed rows in a row; a page may end early`);
          break;
        }
        read = await this.run(this.queries.pageByKeys(by, [key], { ...filter, page: { ...filter.page, afterPosition: after } }, onlyRut));
        valid.push(...this.map(read));
      }
      out.push(...valid.slice(0, want));
    }
    return out.sort((a, b) => a.position - b.position);
  }

  async changedSince(since: Keyset, limit: number): Promise<ChangedRows> {
    const raw = await this.run(this.queries.changedSince(since, limit));
    const tail = raw[raw.length - 1];
    const last = tail ? { updatedAt: sourceInstant(tail.updated_at)?.toISOString() ?? null, afterId: Number(tail.id) } : null;
    return { results: this.map(raw), read: raw.length, last };
  }

  async ping(): Promise<boolean> {
    try {
      await this.o.driver.columnsOf([this.o.mapping.table]);
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.o.driver.close();
  }
}

/** A source that is not configured (production without its variables): every field says SOURCE_UNAVAILABLE. */
export function unconfiguredSource(provider: string, sourceName: string): TestResultSource {
  const unavailable = async (): Promise<never> => {
    throw new SourceUnavailableError(sourceName, `${sourceName} is not configured`);
  };
  return {
    provider,
    kind: 'unconfigured',
    statements: 0,
    rejected: noRejections(),
    byRuts: unavailable,
    byFaenas: unavailable,
    changedSince: unavailable,
    ping: async () => false,
    close: async () => {},
  };
}
