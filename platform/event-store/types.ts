/** The event store port: what commands, projections and the projector rely on. */

/** Who did it and why: stored with every event, read by the audit trail. */
export interface EventMetadata {
  actor: { id: string; kind: 'internal-user' | 'profile' | 'system' | 'dev' };
  /** The tenant the change belongs to, when there is one. */
  companyId?: string | null;
  correlationId?: string;
  causationId?: string;
  /** Ids of every entity the event is about; the audit trail of an entity searches these. */
  subjects?: string[];
}

/** An event a command decided on, before it is stored. */
export interface DomainEvent<Type extends string = string, Data extends object = Record<string, unknown>> {
  type: Type;
  data: Data;
  /** Schema version of `data`; bump it when its shape changes. */
  version?: number;
  /** Entity ids this event is about, beyond its stream's own. */
  subjects?: string[];
}

/** An event as stored, with its place in the stream and in the log. */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  globalPosition: number;
  /** The xid8 of the writing transaction, as text. */
  transactionId: string;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: E['type'];
  version: number;
  data: E['data'];
  metadata: EventMetadata;
  occurredAt: Date;
}

/** A position in commit order: events after it have a greater (transactionId, globalPosition). */
export interface Checkpoint {
  transactionId: string;
  globalPosition: number;
}

export const START: Checkpoint = { transactionId: '0', globalPosition: 0 };

/** `expectedVersion`: a number (0 = the stream must not exist yet), or undefined for "any". */
export interface AppendOptions {
  expectedVersion?: number;
  metadata: EventMetadata;
}

export interface AppendResult {
  /** The stream's version after the append. */
  nextVersion: number;
  events: RecordedEvent[];
}

/**
 * Read-table rows a projection wrote, by a key of the domain's choosing (`table:id`), as
 * they stood when the transaction committed: a mutation answers with these rather than
 * reading them again.
 */
export type WrittenRows = Map<string, unknown>;
