import { SourceUnavailableError } from '../errors.ts';
import type { ChangedRows, Keyset, TestResultSource } from './adapter.ts';
import { noRejections } from './rows.ts';
import type { ResultFilter, TestResult } from './results.ts';

/**
 * A source held in memory, answering exactly as a SQL source does (first + 1 rows per key
 * in id order, the same filters): the development sample (`npm start` without the source
 * configured) and the test double of a source that cannot run here (SQL Server).
 * `down` makes it answer SOURCE_UNAVAILABLE, as an unreachable database does.
 */
export class InMemoryResultSource implements TestResultSource {
  statements = 0;
  readonly rejected = noRejections();
  down = false;
  private rows: TestResult[];

  readonly provider: string;
  readonly kind: 'sample' | 'sql';
  private readonly sourceName: string;

  constructor(
    provider: string,
    kind: 'sample' | 'sql',
    sourceName: string,
    rows: TestResult[] | (() => Promise<TestResult[]>),
  ) {
    this.provider = provider;
    this.kind = kind;
    this.sourceName = sourceName;
    this.rows = Array.isArray(rows) ? [...rows].sort((a, b) => a.position - b.position) : [];
    if (!Array.isArray(rows)) this.load = rows;
  }

  private load: (() => Promise<TestResult[]>) | null = null;

  /** Replaces the rows (tests: a source that changed). */
  set(rows: TestResult[]): void {
    this.rows = [...rows].sort((a, b) => a.position - b.position);
  }

  private async all(): Promise<TestResult[]> {
    if (this.down) throw new SourceUnavailableError(this.sourceName);
    this.statements++;
    if (this.load) {
      // Loaded on first use (the sample is built from other subgraphs once they answer).
      const load = this.load;
      try {
        this.set(await load());
        this.load = null;
      } catch (err) {
        throw err instanceof SourceUnavailableError ? err : new SourceUnavailableError(this.sourceName);
      }
    }
    return this.rows;
  }

  private static matches(r: TestResult, f: ResultFilter): boolean {
    const day = r.takenAt.toISOString().slice(0, 10);
    return r.position > f.page.afterPosition && (!f.from || day >= f.from) && (!f.toExclusive || day < f.toExclusive) && (!f.result || r.result === f.result);
  }

  private page(rows: TestResult[], keyOf: (r: TestResult) => string, keys: readonly string[], f: ResultFilter): TestResult[] {
    const wanted = new Set(keys);
    const counts = new Map<string, number>();
    return rows.filter((r) => {
      const k = keyOf(r);
      if (!wanted.has(k) || !InMemoryResultSource.matches(r, f)) return false;
      const n = (counts.get(k) ?? 0) + 1;
      counts.set(k, n);
      return n <= f.page.limit + 1;
    });
  }

  async byRuts(ruts: readonly string[], filter: ResultFilter): Promise<TestResult[]> {
    return this.page(await this.all(), (r) => r.rut, ruts, filter);
  }

  async byFaenas(faenas: readonly string[], filter: ResultFilter, onlyRut?: string): Promise<TestResult[]> {
    const rows = (await this.all()).filter((r) => !onlyRut || r.rut === onlyRut);
    return this.page(rows, (r) => r.faenaCode, faenas, filter);
  }

  async changedSince(since: Keyset, limit: number): Promise<ChangedRows> {
    const rows = await this.all();
    const at = (r: TestResult) => r.updatedAt?.toISOString() ?? null;
    const results = rows
      .filter((r) => (since.updatedAt === null ? at(r) !== null : at(r)! > since.updatedAt || (at(r) === since.updatedAt && r.position > since.afterId)))
      .sort((a, b) => at(a)!.localeCompare(at(b)!) || a.position - b.position)
      .slice(0, limit);
    const tail = results[results.length - 1];
    return { results, read: results.length, last: tail ? { updatedAt: at(tail), afterId: tail.position } : null };
  }

  async ping(): Promise<boolean> {
    return !this.down;
  }

  async close(): Promise<void> {}
}
