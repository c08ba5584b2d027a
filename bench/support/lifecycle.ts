/**
 * Runs a benchmark so it always ends by itself and leaves nothing behind: cleanups
 * (children, the bench database) run in reverse order on success, on error, on
 * SIGINT/SIGTERM and when the overall deadline passes.
 */
export interface BenchScope {
  /** Registers a cleanup; cleanups run last-registered first. */
  defer(cleanup: () => Promise<void>): void;
}

export async function runBench(name: string, deadlineMs: number, main: (scope: BenchScope) => Promise<void>): Promise<never> {
  const cleanups: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const fn of cleanups.reverse()) {
        try {
          await fn();
        } catch (err) {
          console.error(`${name}: cleanup failed:`, err);
        }
      }
    })());
  const abort = (reason: string, code: number) => {
    console.error(`${name}: ${reason}; cleaning up`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));
  const deadline = setTimeout(() => abort(`deadline of ${deadlineMs / 1000} s passed`, 1), deadlineMs);
  deadline.unref();

  let code = 0;
  try {
    await main({ defer: (fn) => void cleanups.push(fn) });
  } catch (err) {
    console.error(`${name} failed:`, err);
    code = 1;
  } finally {
    await cleanup();
    clearTimeout(deadline);
  }
  process.exit(code);
}
