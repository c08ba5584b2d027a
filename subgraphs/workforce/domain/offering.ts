import { BadUserInputError, ConflictError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';

/** The Offering aggregate (stream `offering-<id>`): a product Angelis sells. */
export interface OfferingState {
  id: string | null;
}

export const offeringStream = (offeringId: string) => `offering-${offeringId}`;

export const offering = {
  initialState: (): OfferingState => ({ id: null }),
  evolve: (state: OfferingState, event: RecordedEvent<WorkforceEvent>): OfferingState =>
    event.type === 'OfferingCreated' ? { id: (event.data as { offeringId: string }).offeringId } : state,
};

export const decideOffering = {
  create(state: OfferingState, cmd: { offeringId: string; code: unknown; name: unknown; description?: unknown }): WorkforceEvent[] {
    if (state.id !== null) throw new ConflictError(`Offering ${cmd.offeringId} already exists`);
    const code = input.text(cmd.code, 'code', 40).toUpperCase();
    if (!/^[A-Z0-9_-]+$/.test(code)) throw new BadUserInputError('code must be letters, digits, "-" or "_"', 'code');
    return [
      {
        type: 'OfferingCreated',
        data: { offeringId: cmd.offeringId, code, name: input.text(cmd.name, 'name', 120), description: input.optionalText(cmd.description, 'description', 1000) },
      },
    ];
  },
};
