import type { PoolSettings } from '../../platform/postgres/pool.ts';
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
