import { randomUUID } from 'node:crypto';
import type { Db } from '../../platform/postgres/pool.ts';
import { postgresEventStore } from '../../platform/event-store/postgres.ts';
import type { WorkforceEvent } from '../../schema/events/workforce.ts';
import { workforceEvents } from '../../schema/events/workforce.ts';

/** Appends contract-valid Workforce events to one stream (validated like the service does). */
export async function appendWorkforce(db: Db, streamId: string, events: WorkforceEvent[]): Promise<void> {
  for (const e of events) workforceEvents[e.type].data.parse(e.data);
  await db.transaction((tx) => postgresEventStore.append(tx, streamId, events, { metadata: { actor: { id: 'test', kind: 'dev' } } }));
}

/** A v4 UUID (zod's uuid check wants a real version nibble). */
export const id = () => randomUUID();
