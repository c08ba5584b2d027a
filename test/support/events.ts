import type { Evolver } from '../../platform/event-store/command-handler.ts';
import type { RecordedEvent } from '../../platform/event-store/types.ts';
import type { WorkforceEvent } from '../../schema/events/workforce.ts';

/** Decided events as the store would record them, for feeding `evolve` in unit tests. */
export function recorded(streamId: string, events: WorkforceEvent[], fromVersion = 0): RecordedEvent<WorkforceEvent>[] {
  return events.map((e, i) => ({
    globalPosition: fromVersion + i + 1,
    transactionId: '1',
    streamId,
    streamVersion: fromVersion + i + 1,
    eventId: `00000000-0000-4000-8000-${String(fromVersion + i + 1).padStart(12, '0')}`,
    type: e.type,
    version: 1,
    data: e.data,
    metadata: { actor: { id: 'unit', kind: 'dev' } },
    occurredAt: new Date('2026-06-15T12:00:00Z'),
  })) as RecordedEvent<WorkforceEvent>[];
}

/** The state after `events`, folded from the aggregate's initial state. */
export function given<S>(evolver: Evolver<S, WorkforceEvent>, ...events: WorkforceEvent[]): S {
  return recorded('unit', events).reduce((s, e) => evolver.evolve(s, e), evolver.initialState());
}

/** Folds more events onto a state (not named `then`: that would make the module a thenable). */
export function andThen<S>(evolver: Evolver<S, WorkforceEvent>, state: S, events: WorkforceEvent[]): S {
  return recorded('unit', events).reduce((s, e) => evolver.evolve(s, e), state);
}

/** The error `fn` throws, so a test can check its code, field and message; fails when nothing is thrown. */
export function refusal(fn: () => unknown): { code: string; field?: string; message: string } {
  try {
    fn();
  } catch (err) {
    const e = err as { message: string; extensions?: { code?: string; field?: string } };
    return { code: String(e.extensions?.code), field: e.extensions?.field, message: e.message };
  }
  throw new Error('expected a refusal, but the call succeeded');
}
