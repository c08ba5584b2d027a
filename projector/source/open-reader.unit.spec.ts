import { describe, expect, it } from 'vitest';
import type { EventSourceSettings } from '../../platform/service/definition.ts';
import type { PoolSettings } from '../../platform/postgres/pool.ts';
import { EventReader } from './event-reader.ts';
import { MongoEventReader } from './mongodb-event-reader.ts';
import { eventConnectionOf, openEventReader } from './open-reader.ts';

const pool: PoolSettings = { host: '127.0.0.1', port: 5432, user: 'u', database: 'angelis_workforce', size: 1, overflow: 0, statementTimeoutMs: 1000 } as PoolSettings;
const mongo = { kind: 'mongodb' as const, url: 'mongodb://127.0.0.1:1/?replicaSet=rs0', database: 'angelis_safety' };

describe('the reader for a domain event source', () => {
  it('reads a PostgreSQL event store with the COPY reader and a MongoDB one with the MongoDB reader', () => {
    expect(eventConnectionOf('workforce', { kind: 'postgres', settings: pool })).toBe(pool);
    expect(eventConnectionOf('safety', mongo)).toBe(mongo);
    expect(openEventReader(pool, '/tmp')).toBeInstanceOf(EventReader);
    expect(openEventReader(mongo, '/tmp')).toBeInstanceOf(MongoEventReader);
  });

  it('refuses, naming the domain and the kind, a store it has no reader for', () => {
    const unknown = { kind: 'cassandra', keyspace: 'x' } as unknown as EventSourceSettings;
    expect(() => eventConnectionOf('inventory', unknown)).toThrow('inventory keeps its events in a store of kind cassandra, which the projector has no reader for');
  });
});
