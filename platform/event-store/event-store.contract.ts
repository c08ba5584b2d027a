import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler } from './command-handler.ts';
import { checkpointOf, StreamVersionConflict, type EventStore } from './port.ts';
import { START, type Checkpoint, type EventMetadata, type RecordedEvent, type WrittenRows } from './types.ts';

/**
 * The event store port's contract: every adapter runs this suite against a real server
 * (PostgreSQL always; MongoDB when ANGELIS_MONGO_URL points at one). What the command
 * handler, the audit trail and the readers of the log rely on, and nothing an adapter
 * happens to do beyond it.
 */
export interface EventStoreHarness<Tx> {
  /** A store on a fresh, empty database. */
  store: EventStore<Tx, unknown>;
  /** A second store on the same database, as another process would have. */
  other: EventStore<Tx, unknown>;
  /**
   * A projection into a read table with a unique `label` column, through the unit of work's
   * `tx`, so a test can make one command of a batch break it.
   */
  projectTicks(tx: Tx, events: RecordedEvent[]): Promise<WrittenRows>;
  /** Rows in that read table. */
  countTicks(): Promise<number>;
  /** Drops what the harness created. */
  cleanup(): Promise<void>;
}

const meta: EventMetadata = { actor: { id: 'tester', kind: 'dev' } };
const counter = { initialState: () => 0, evolve: (n: number) => n + 1 };

/** Defines the contract suite for one adapter. */
export function eventStoreContract<Tx>(adapter: string, setup: () => Promise<EventStoreHarness<Tx>>): void {
  describe(`event store contract: ${adapter}`, () => {
    let h: EventStoreHarness<Tx>;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => h?.cleanup());

    /** Appends in a unit of work of its own and commits it. */
    async function append(streamId: string, types: string[], expectedVersion?: number) {
      const uow = await h.store.begin();
      try {
        const [outcome] = await h.store.appendStreams(uow.tx, [
          { streamId, events: types.map((type, i) => ({ type, data: { i } })), expectedVersion, metadata: meta },
        ]);
        await uow.commit();
        return outcome;
      } catch (err) {
        await uow.abort(err);
        throw err;
      }
    }

    /**
     * Reads from START until `done` holds (bounded). A transaction open anywhere on the
     * server may hold back what commit-order readers see, and other test files run beside
     * this one, so "nothing new yet" is not "nothing left".
     */
    async function readAllUntil(done: (events: RecordedEvent[]) => boolean, timeoutMs = 20_000): Promise<RecordedEvent[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const events = await h.store.readAll(START, 100_000);
        if (done(events) || Date.now() > deadline) return events;
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    it('appends with an expected version and reads the stream back in order, with metadata and time', async () => {
      const outcome = await append('c-basic', ['A', 'B'], 0);
      expect(outcome).toMatchObject({ nextVersion: 2 });
      const events = await h.store.readStream('c-basic');
      expect(events.map((e) => [e.type, e.data, e.streamVersion])).toEqual([
        ['A', { i: 0 }, 1],
        ['B', { i: 1 }, 2],
      ]);
      expect(events[0].metadata.actor.id).toBe('tester');
      expect(events[0].occurredAt).toBeInstanceOf(Date);
      expect(new Set(events.map((e) => e.eventId)).size).toBe(2);
      expect((await h.store.readStream('c-basic', { afterVersion: 1 })).map((e) => e.type)).toEqual(['B']);
    });

    it('refuses a stale expected version with the actual one, and writes nothing', async () => {
      await append('c-stale', ['A', 'B'], 0);
      const stale = await append('c-stale', ['C'], 1);
      expect(stale).toMatchObject({ conflict: expect.any(StreamVersionConflict) });
      expect((stale as { conflict: StreamVersionConflict }).conflict.actualVersion).toBe(2);
      expect((await append('c-stale', ['C'], 0)) as object).toHaveProperty('conflict');
      expect(await h.store.readStream('c-stale')).toHaveLength(2);
      // "Any version" appends after whatever is there.
      expect(await append('c-stale', ['D'])).toMatchObject({ nextVersion: 3 });
    });

    it("judges each stream's expected version alone in one append, and needs distinct streams", async () => {
      await append('c-multi-a', ['A'], 0);
      const uow = await h.store.begin();
      const outcomes = await h.store.appendStreams(uow.tx, [
        { streamId: 'c-multi-a', events: [{ type: 'A2', data: {} }], expectedVersion: 0, metadata: meta },
        { streamId: 'c-multi-b', events: [{ type: 'B1', data: {} }, { type: 'B2', data: {} }], expectedVersion: 0, metadata: meta },
      ]);
      await uow.commit();
      expect((outcomes[0] as { conflict: StreamVersionConflict }).conflict.actualVersion).toBe(1);
      expect(outcomes[1]).toMatchObject({ nextVersion: 2 });
      expect((await h.store.readStream('c-multi-a')).map((e) => e.type)).toEqual(['A']);
      expect((await h.store.readStream('c-multi-b')).map((e) => e.type)).toEqual(['B1', 'B2']);
      const again = await h.store.begin();
      await expect(
        h.store.appendStreams(again.tx, [
          { streamId: 'x', events: [{ type: 'X', data: {} }], metadata: meta },
          { streamId: 'x', events: [{ type: 'X', data: {} }], metadata: meta },
        ]),
      ).rejects.toThrow('distinct streams');
      await again.abort(new Error('test'));
    });

    it('writes nothing from a unit of work that is aborted', async () => {
      const uow = await h.store.begin();
      await h.store.appendStreams(uow.tx, [{ streamId: 'c-aborted', events: [{ type: 'A', data: {} }], metadata: meta }]);
      await uow.abort(new Error('changed my mind'));
      expect(await h.store.readStream('c-aborted')).toEqual([]);
    });

    it('finds events by subject for audit trails', async () => {
      const uow = await h.store.begin();
      await h.store.appendStreams(uow.tx, [
        { streamId: 'c-subject', events: [{ type: 'X', data: {}, subjects: ['entity-42'] }, { type: 'Y', data: {} }], metadata: { ...meta, subjects: ['s'] } },
      ]);
      await uow.commit();
      const found = await h.store.readBySubjects(['entity-42', 's', 'nobody'], 0, 10);
      expect(found.get('entity-42')!.map((e) => e.type)).toEqual(['X']);
      expect(found.get('entity-42')![0].metadata.subjects).toEqual(['s', 'entity-42']);
      expect(found.get('s')!.map((e) => e.type)).toEqual(['X', 'Y']);
      expect(found.get('nobody')).toEqual([]);
      expect((await h.store.readBySubjects(['s'], found.get('s')![0].globalPosition, 10)).get('s')!.map((e) => e.type)).toEqual(['Y']);
    });

    it("filters a tenant's audit trail in the query: its own entries, and untenanted ones without personal data", async () => {
      const uow = await h.store.begin();
      const entry = (streamId: string, companyId: string | null, data: Record<string, unknown>) => ({
        streamId,
        events: [{ type: 'Changed', data, subjects: ['person-7'] }],
        metadata: { ...meta, companyId },
      });
      await h.store.appendStreams(uow.tx, [
        entry('c-tenant-a', 'A', { phone: '+56 9 1' }),
        entry('c-tenant-b', 'B', { phone: '+56 9 2' }),
        entry('c-tenant-none-personal', null, { phone: '+56 9 3', name: 'x' }),
        entry('c-tenant-none-plain', null, { name: 'y', phone: null }),
      ]);
      await uow.commit();
      const streams = async (filter: { tenant: string; personalKeys: string[] } | null, limit = 10) =>
        (await h.store.readBySubjects(['person-7'], 0, limit, filter)).get('person-7')!.map((e) => e.streamId);
      expect(await streams(null)).toEqual(['c-tenant-a', 'c-tenant-b', 'c-tenant-none-personal', 'c-tenant-none-plain']);
      expect(await streams({ tenant: 'A', personalKeys: ['phone', 'email'] })).toEqual(['c-tenant-a', 'c-tenant-none-plain']);
      // The limit applies after the filter: a full page of what the reader may see.
      expect(await streams({ tenant: 'B', personalKeys: ['phone'] }, 2)).toEqual(['c-tenant-b', 'c-tenant-none-plain']);
    });

    it('reads in commit order: an event committed late with an earlier position is not skipped', async () => {
      const slow = await h.store.begin();
      await h.store.appendStreams(slow.tx, [{ streamId: 'c-slow', events: [{ type: 'Slow', data: {} }], metadata: meta }]);
      // A store that serialises appends (MongoDB: a counter written in every appending
      // transaction) refuses a writer overlapping an open one with a retryable conflict;
      // then Fast is written once Slow has committed, and must come after it.
      let fastRefused = false;
      try {
        await append('c-fast', ['Fast']);
      } catch (err) {
        if (!(err instanceof StreamVersionConflict)) throw err;
        fastRefused = true;
      }
      const before = await h.store.readAll(START, 100_000);
      expect(before.map((e) => e.type)).not.toContain('Slow');
      // A reader that already passed Fast must still get Slow next.
      const fast = before.find((e) => e.type === 'Fast');
      await slow.commit();
      if (fastRefused) await append('c-fast', ['Fast']);
      const after = await readAllUntil((events) => events.some((e) => e.type === 'Slow') && events.some((e) => e.type === 'Fast'));
      const types = after.map((e) => e.type);
      expect(types).toContain('Slow');
      if (fast) {
        const next = await h.store.readAll(checkpointOf(fast), 100_000);
        expect(next.map((e) => e.type)).toContain('Slow');
      } else {
        expect(types.indexOf('Slow')).toBeLessThan(types.indexOf('Fast'));
      }
    });

    it('wakes subscribers after a command commits, never for one that rolled back', async () => {
      let wakes = 0;
      const unsubscribe = await h.other.subscribe(() => wakes++);
      try {
        const handler = new CommandHandler(h.store);
        const command = (fail: boolean) => ({
          streamId: 'c-notify',
          evolver: counter,
          metadata: meta,
          decide: () => [{ type: 'N', data: {} }],
          project: async () => {
            if (fail) throw new Error('projection refused');
          },
        });
        await expect(handler.handle(command(true))).rejects.toThrow('projection refused');
        await new Promise((r) => setTimeout(r, 300));
        expect(wakes).toBe(0);
        await handler.handle(command(false));
        const deadline = Date.now() + 5_000;
        while (wakes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(wakes).toBeGreaterThan(0);
        expect(await h.store.readStream('c-notify')).toHaveLength(1);
      } finally {
        await unsubscribe();
      }
    });

    it('20 concurrent writers on overlapping streams: a polling reader sees every event once, in stream order, and no update is lost', async () => {
      const writers = 20;
      const appendsPerWriter = 10;
      const streams = ['w-0', 'w-1', 'w-2', 'w-3', 'w-4'];
      let expectedTotal = Infinity;
      const seen: RecordedEvent[] = [];
      const ours = () => seen.filter((e) => e.streamId.startsWith('w-'));
      const reader = (async () => {
        let checkpoint: Checkpoint = START;
        const deadline = Date.now() + 60_000;
        while (ours().length < expectedTotal && Date.now() < deadline) {
          const batch = await h.store.readAll(checkpoint, 37);
          seen.push(...batch);
          if (batch.length) checkpoint = checkpointOf(batch[batch.length - 1]);
          else await new Promise((r) => setTimeout(r, 2));
        }
        // One more read: nothing beyond what was committed may show up (no duplicates).
        await new Promise((r) => setTimeout(r, 50));
        seen.push(...(await h.store.readAll(checkpoint, 1000)));
      })();
      const committed: string[] = [];
      await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          // Half the writers through a second store, as another process would.
          const store = writer % 2 ? h.other : h.store;
          for (let seq = 0; seq < appendsPerWriter; seq++) {
            const streamId = streams[(writer + seq) % streams.length];
            for (;;) {
              const version = (await store.readStream(streamId)).length;
              const uow = await store.begin();
              let outcome;
              try {
                [outcome] = await store.appendStreams(uow.tx, [{ streamId, events: [{ type: 'W', data: { writer, seq } }], expectedVersion: version, metadata: meta }]);
                await uow.commit();
              } catch (err) {
                await uow.abort(err);
                if (!(err instanceof StreamVersionConflict)) throw err;
                continue;
              }
              if ('conflict' in outcome) continue;
              committed.push(`${writer}:${seq}`);
              break;
            }
          }
        }),
      );
      expectedTotal = committed.length;
      await reader;
      expect(committed).toHaveLength(writers * appendsPerWriter);
      expect(ours()).toHaveLength(committed.length);
      expect(new Set(ours().map((e) => e.eventId)).size).toBe(committed.length);
      const keys = ours().map((e) => `${(e.data as { writer: number }).writer}:${(e.data as { seq: number }).seq}`);
      expect(new Set(keys)).toEqual(new Set(committed));
      for (const s of streams) {
        const versions = ours().filter((e) => e.streamId === s).map((e) => e.streamVersion);
        expect(versions).toEqual(versions.map((_, i) => i + 1));
      }
    });

    describe('command handler on this store', () => {
      const tick = (streamId: string, opts: { refuse?: boolean; label?: string } = {}) => ({
        streamId,
        evolver: counter,
        metadata: meta,
        decide: (n: number) => {
          if (opts.refuse) throw new GraphQLError('refused by the domain');
          return [{ type: 'Tick', data: { n: n + 1, label: opts.label } }];
        },
        project: (tx: Tx, events: RecordedEvent[]) => h.projectTicks(tx, events),
      });

      it('commits concurrent commands on different streams, each with its own result and the projection', async () => {
        const handler = new CommandHandler(h.store);
        const before = await h.countTicks();
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => handler.handle(tick(`g-${i}`))));
        expect(results.map((r) => r.version)).toEqual(results.map(() => 1));
        expect(results.map((r) => r.events[0].streamId)).toEqual(results.map((_, i) => `g-${i}`));
        expect(await h.countTicks()).toBe(before + 30);
      });

      it('a refused command fails alone; a command that breaks the batch fails alone and writes nothing', async () => {
        const handler = new CommandHandler(h.store);
        await handler.handle(tick('h-first', { label: 'taken' }));
        const outcomes = await Promise.allSettled([
          ...Array.from({ length: 8 }, (_, i) => handler.handle(tick(`h-ok-${i}`))),
          handler.handle(tick('h-refused', { refuse: true })),
          handler.handle(tick('h-duplicate', { label: 'taken' })),
          ...Array.from({ length: 8 }, (_, i) => handler.handle(tick(`h-ok-${8 + i}`))),
        ]);
        const failed = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
        expect(failed).toHaveLength(2);
        expect(failed.some((f) => (f.reason as Error).message === 'refused by the domain')).toBe(true);
        expect(failed.some((f) => h.store.uniqueViolation(f.reason) !== null)).toBe(true);
        for (const id of ['h-refused', 'h-duplicate']) expect(await h.store.readStream(id)).toEqual([]);
        for (let i = 0; i < 16; i++) expect(await h.store.readStream(`h-ok-${i}`)).toHaveLength(1);
      });

      it('commands on one stream wait for each other: 20 at once end at versions 1..20', async () => {
        const handler = new CommandHandler(h.store);
        const results = await Promise.all(Array.from({ length: 20 }, () => handler.handle(tick('same-stream'))));
        expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        const events = await h.store.readStream('same-stream');
        expect(events.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      });

      it('a stale cached state is re-read and decided again; a pinned expectedVersion is a CONFLICT', async () => {
        const a = new CommandHandler(h.store);
        const b = new CommandHandler(h.other);
        await Promise.all(Array.from({ length: 5 }, (_, i) => a.handle(tick(`stale-${i}`))));
        // Another process (handler b) moves every stream on; a's cache is now behind.
        await Promise.all(Array.from({ length: 5 }, (_, i) => b.handle(tick(`stale-${i}`))));
        const results = await Promise.all(Array.from({ length: 5 }, (_, i) => a.handle(tick(`stale-${i}`))));
        expect(results.map((r) => r.version)).toEqual([3, 3, 3, 3, 3]);
        expect(results.map((r) => (r.events[0].data as { n: number }).n)).toEqual([3, 3, 3, 3, 3]);
        await expect(a.handle({ ...tick('stale-0'), expectedVersion: 1 })).rejects.toBeInstanceOf(StreamVersionConflict);
      });
    });
  });
}
