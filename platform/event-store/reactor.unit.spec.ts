import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { recorded } from '../testing/decider.ts';
import { Reactor, type CheckpointStore } from './reactor.ts';
import type { Checkpoint, RecordedEvent } from './types.ts';

/** The reactor on the port alone: an in-memory log and checkpoint store stand in for a database (test doubles). */
function harness(types: string[]) {
  const log = recorded('s', types.map((type, i) => ({ type, data: { i } })));
  const saved = new Map<string, Checkpoint>();
  const checkpoints: CheckpointStore = {
    loadCheckpoint: async (name) => saved.get(name) ?? null,
    saveCheckpoint: async (name, c) => void saved.set(name, c),
  };
  const store = {
    readAll: async (after: Checkpoint, limit: number) => log.filter((e) => e.globalPosition > after.globalPosition).slice(0, limit) as RecordedEvent[],
    subscribe: async () => async () => {},
  };
  return { log, saved, checkpoints, store };
}

describe('Reactor', () => {
  it('handles the events of its types in commit order and moves its checkpoint past the others', async () => {
    const h = harness(['A', 'B', 'A', 'C', 'A']);
    const handled: number[] = [];
    const reactor = new Reactor({ name: 'r', store: h.store, checkpoints: h.checkpoints, types: ['A'], handle: async (e) => void handled.push(e.globalPosition), log: createLogger('t', 'silent'), batch: 2 });
    expect(await reactor.round()).toBe(3);
    expect(handled).toEqual([1, 3, 5]);
    expect(h.saved.get('r')?.globalPosition).toBe(5);
    // Caught up: nothing again.
    expect(await reactor.round()).toBe(0);
  });

  it('stops before an event whose handler fails, and resumes from it', async () => {
    const h = harness(['A', 'A', 'A']);
    let failOn: number | null = 2;
    const handled: number[] = [];
    const reactor = new Reactor({
      name: 'r', store: h.store, checkpoints: h.checkpoints, types: ['A'], log: createLogger('t', 'silent'),
      handle: async (e) => {
        if (e.globalPosition === failOn) throw new Error('peer down');
        handled.push(e.globalPosition);
      },
    });
    await expect(reactor.round()).rejects.toThrow('peer down');
    expect(h.saved.get('r')?.globalPosition).toBe(1);
    failOn = null;
    expect(await reactor.round()).toBe(2);
    expect(handled).toEqual([1, 2, 3]);
  });
});
