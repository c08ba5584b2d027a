import type { PoolSettings } from '../../platform/postgres/pool.ts';
import type { EventSourceSettings } from '../../platform/service/definition.ts';
import { EventReader, type EventSourceReader } from './event-reader.ts';
import { MongoEventReader, type MongoEventSource } from './mongodb-event-reader.ts';

/** Where a source's events are read: a PostgreSQL event store (its pool settings), or a MongoDB one. */
export type EventConnection = PoolSettings | MongoEventSource;

function isMongo(connection: EventConnection): connection is MongoEventSource {
  return 'kind' in connection && connection.kind === 'mongodb';
}

/** The reader for a source's event store; batches, lag and wake-ups are the same whichever it is. */
export function openEventReader(connection: EventConnection, workDir: string): EventSourceReader {
  return isMongo(connection) ? new MongoEventReader(connection, workDir) : new EventReader(connection, workDir);
}

/**
 * Where the projector reads a domain's events, from its definition's eventSource. A kind
 * without a reader is refused, never skipped: a lake silently missing a domain looks complete.
 */
export function eventConnectionOf(domain: string, events: EventSourceSettings): EventConnection {
  switch (events.kind) {
    case 'postgres':
      return events.settings;
    case 'mongodb':
      return events;
    default:
      throw new Error(`${domain} keeps its events in a store of kind ${(events as { kind: string }).kind}, which the projector has no reader for (it reads postgres and mongodb)`);
  }
}
