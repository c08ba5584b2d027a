import { expect } from 'vitest';
import type { Evolver } from '../event-store/command-handler.ts';
import type { DomainEvent, RecordedEvent } from '../event-store/types.ts';

/**
 * Given/when/then specifications for any domain's pure decisions, with no database
 * (after Emmett's DeciderSpecification): given past events, when a decision runs on the
 * state they fold to, then it decides these events, or refuses with this code.
 *
 *   const spec = deciderSpec(companyEvolver);
 *   spec.given(registered).when((s) => decideCompany.subscribe(s, args)).then([{ type: 'Subscribed', data }]);
 *   spec.given().when((s) => decideCompany.subscribe(s, bad)).thenRefuses('BAD_USER_INPUT', 'seats');
 */

/** Decided events as a store would record them, for feeding `evolve`. */
export function recorded<E extends DomainEvent>(streamId: string, events: E[], fromVersion = 0): RecordedEvent<E>[] {
  return events.map((e, i) => ({
    globalPosition: fromVersion + i + 1,
    transactionId: '1',
    streamId,
    streamVersion: fromVersion + i + 1,
    eventId: `00000000-0000-4000-8000-${String(fromVersion + i + 1).padStart(12, '0')}`,
    type: e.type,
    version: e.version ?? 1,
    data: e.data,
    metadata: { actor: { id: 'spec', kind: 'dev' } },
    occurredAt: new Date('2026-06-15T12:00:00Z'),
  })) as RecordedEvent<E>[];
}

/** The state after `events`, folded onto `from` (the initial state by default). */
export function fold<S, E extends DomainEvent>(evolver: Evolver<S, E>, events: E[], from: S = evolver.initialState()): S {
  return recorded('spec', events).reduce((s, e) => evolver.evolve(s, e), from);
}

/** The state after `events`, folded from the aggregate's initial state. */
export function given<S, E extends DomainEvent>(evolver: Evolver<S, E>, ...events: E[]): S {
  return fold(evolver, events);
}

/** Folds more events onto a state (not named `then`: that would make the module a thenable). */
export function andThen<S, E extends DomainEvent>(evolver: Evolver<S, E>, state: S, events: E[]): S {
  return fold(evolver, events, state);
}

/** What a refusal carried: its code, the field it names, its message. */
export interface Refusal {
  code: string;
  field?: string;
  message: string;
}

/** The error `fn` throws, as a Refusal; fails the test when nothing is thrown. */
export function refusal(fn: () => unknown): Refusal {
  try {
    fn();
  } catch (err) {
    const e = err as { message: string; extensions?: { code?: string; field?: string } };
    return { code: String(e.extensions?.code), field: e.extensions?.field, message: e.message };
  }
  throw new Error('expected a refusal, but the decision succeeded');
}

/** A specification builder for one aggregate's decisions. */
export function deciderSpec<S, E extends DomainEvent>(evolver: Evolver<S, E>) {
  return {
    given(...history: E[]) {
      const state = fold(evolver, history);
      return {
        /** The state the history folds to, for assertions of its own. */
        state,
        when(decide: (state: S) => E[]) {
          return {
            /** The decided events, compared by type and data (or checked by a function). */
            then(expected: Pick<E, 'type' | 'data'>[] | ((events: E[]) => void)): E[] {
              const events = decide(state);
              if (typeof expected === 'function') expected(events);
              else expect(events.map((e) => ({ type: e.type, data: e.data }))).toEqual(expected.map((e) => ({ type: e.type, data: e.data })));
              return events;
            },
            /** The decision refuses with this code (and field, when given); nothing is decided. */
            thenRefuses(code: string, field?: string): Refusal {
              const r = refusal(() => decide(state));
              expect(r.code, r.message).toBe(code);
              if (field !== undefined) expect(r.field).toBe(field);
              return r;
            },
            /** The state after the decided events. */
            thenState(): S {
              return fold(evolver, decide(state), state);
            },
          };
        },
      };
    },
  };
}
