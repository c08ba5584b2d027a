import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../subgraphs/workforce/commands.ts';
import { checkDigit } from '../../platform/domain/rut.ts';

/** The acting user of seeded commands and of benchmark requests. */
export const BENCH_USER = 'bench@angelis.test';

export function seedContext(): CommandContext {
  return { actor: { id: BENCH_USER, kind: 'dev' }, correlationId: randomUUID() };
}

/** A valid, distinct RUT for each n (bodies from 10,000,000 up). */
export function rutFor(n: number): string {
  const body = String(10_000_000 + n);
  return `${body}-${checkDigit(body)}`;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
