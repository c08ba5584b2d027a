/**
 * The PostgreSQL adapter of the event store port (port.ts): what other modules import.
 * Its parts: schema.ts (the events table), append.ts (appends, fused projections),
 * commit-order.ts (the log in commit order), notifier.ts, unit-of-work.ts, store.ts.
 */
export { eventStoreMigration } from './postgres/schema.ts';
export { EVENTS_CHANNEL, CommitNotifier } from './postgres/notifier.ts';
export { commitOrderSelect, afterCheckpoint, COMMITTED_BEFORE_EVERY_RUNNING } from './postgres/commit-order.ts';
export { fusedStatement, type FusedPlan, type FusedProjection, type PendingEvent } from './postgres/append.ts';
export { PostgresUnitOfWork } from './postgres/unit-of-work.ts';
export { PostgresEventStore, postgresEventStore } from './postgres/store.ts';
export { StreamVersionConflict, checkpointOf, type StreamAppend } from './port.ts';
