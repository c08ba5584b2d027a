import type { Checkpoint, RecordedEvent } from '../../../platform/event-store/types.ts';
import type { Page } from '../../../platform/graphql/pagination.ts';
import type { DocumentKind, DocumentOf } from './documents.ts';

/**
 * The Safety store port: Safety's read documents (templates, forms, anomalies) and its
 * reactors' checkpoints, whatever database holds them. Adapters: MongoDB (`mongodb.ts`,
 * production) and PostgreSQL (`postgres.ts`, documents as jsonb beside the platform's PG
 * event store; used when ANGELIS_MONGO_URL is unset). Both pass `safety-store.contract.ts`.
 *
 * `Tx` is the event store's transaction handle (a pg.PoolClient, a MongoDB ClientSession):
 * the projection writes documents through it, so documents and events commit together.
 */

/** Equality on top-level fields of a document (strings, booleans); all must hold. */
export type Where = Record<string, string | boolean>;

export interface SafetyStore<Tx> {
  readonly adapter: 'postgres' | 'mongodb';
  /** Writes the documents these events change (applyEvent), in the unit of work. */
  project(tx: Tx, events: RecordedEvent[]): Promise<void>;
  /** Documents by id (absent ones are left out); through `tx` to read in a unit of work. */
  get<K extends DocumentKind>(kind: K, ids: readonly string[], tx?: Tx): Promise<DocumentOf[K][]>;
  /**
   * For each value of `field` (projectId, profileId, companyId): its documents matching
   * `where`, in position order, after `page.afterPosition`, at most `page.limit` each, in one
   * round trip for all values (what a DataLoader batch needs).
   */
  listBy<K extends DocumentKind>(kind: K, field: string, values: readonly string[], where: Where, page: Page): Promise<Map<string, DocumentOf[K][]>>;
  /** A reactor's checkpoint (null before its first save). */
  loadCheckpoint(name: string): Promise<Checkpoint | null>;
  saveCheckpoint(name: string, checkpoint: Checkpoint): Promise<void>;
  /** Deletes every document (a rebuild replays the events after it). */
  clear(tx?: Tx): Promise<void>;
}
