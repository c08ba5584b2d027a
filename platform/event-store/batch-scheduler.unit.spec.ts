import { describe, expect, it } from 'vitest';
import { BatchScheduler } from './batch-scheduler.ts';
import { backoff } from './retry.ts';

/** A scheduler whose batches finish only when the test says so. */
function harness(limits = { maxBatch: 3, concurrency: 2, joinBelow: 2 }) {
  const batches: { items: string[]; done: () => void }[] = [];
  const scheduler = new BatchScheduler<string>(limits, (item) => item.split(':')[0], (items) =>
    new Promise<void>((resolve) => batches.push({ items, done: resolve })),
  );
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { scheduler, batches, settle };
}

describe('batch scheduler', () => {
  it('starts the first item at once, and later ones wait to go together while a batch is in flight', async () => {
    const { scheduler, batches, settle } = harness();
    scheduler.enqueue('a:1');
    expect(batches.map((b) => b.items)).toEqual([['a:1']]);
    scheduler.enqueue('b:1');
    // One waits: below joinBelow, it waits for the batch in flight.
    expect(batches).toHaveLength(1);
    scheduler.enqueue('c:1');
    expect(batches.map((b) => b.items)).toEqual([['a:1'], ['b:1', 'c:1']]);
    for (const k of ['d', 'e', 'f', 'g']) scheduler.enqueue(`${k}:1`);
    // Two batches in flight: the rest wait, then leave in batches of at most three.
    expect(scheduler.waiting).toBe(4);
    batches[0].done();
    await settle();
    expect(batches[2].items).toEqual(['d:1', 'e:1', 'f:1']);
  });

  it('never puts two items of one key in a batch, nor starts a key whose batch is running', async () => {
    const { scheduler, batches, settle } = harness({ maxBatch: 10, concurrency: 2, joinBelow: 1 });
    scheduler.enqueue('s:1');
    scheduler.enqueue('s:2');
    scheduler.enqueue('t:1');
    scheduler.enqueue('s:3');
    expect(batches.map((b) => b.items)).toEqual([['s:1'], ['t:1']]);
    batches[0].done();
    await settle();
    expect(batches[2].items).toEqual(['s:2']);
    batches[2].done();
    await settle();
    expect(batches[3].items).toEqual(['s:3']);
  });

  it('puts a retried item at the front of the queue', async () => {
    const { scheduler, batches, settle } = harness({ maxBatch: 1, concurrency: 1, joinBelow: 1 });
    scheduler.enqueue('a:1');
    scheduler.enqueue('b:1');
    scheduler.enqueue('c:1', true);
    batches[0].done();
    await settle();
    expect(batches[1].items).toEqual(['c:1']);
  });
});

describe('retry backoff', () => {
  it('retries the first time at once, then waits up to base·2^(n-2), capped, with jitter', () => {
    const top = backoff({ baseMs: 4, capMs: 50, random: () => 0.999 });
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => top.delayMs(n))).toEqual([0, 3, 7, 15, 31, 49, 49]);
    const bottom = backoff({ random: () => 0 });
    expect([1, 2, 5].map((n) => bottom.delayMs(n))).toEqual([0, 0, 0]);
    expect(backoff().maxRetries).toBe(3);
  });
});
