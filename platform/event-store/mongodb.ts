/**
 * The MongoDB adapter of the event store port (port.ts): what other modules import.
 * Commit order, concurrency and the guarantee it relies on: see mongodb/store.ts.
 */
export { MongoEventStore, MongoUnitOfWork, TransactionWriteConflict, EVENT_INDEXES, readBySubjectsPipeline, auditFilterQuery, type EventDocument } from './mongodb/store.ts';
