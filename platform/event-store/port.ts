import { ConflictError } from '../errors.ts';
import type { AppendResult, Checkpoint, DomainEvent, EventMetadata, RecordedEvent, WrittenRows } from './types.ts';

/**
 * The event store port: what the command handler, the audit trail and the readers of the
 * log need from a domain's store, whatever database holds it. Adapters: PostgreSQL
 * (`postgres.ts`, the first) and MongoDB. Every adapter passes the contract suite in
 * `event-store.contract.ts`.
 *
 * `Tx` is the adapter's handle on one transaction (a `pg.PoolClient`, a MongoDB session):
 * decisions read other aggregates through it and projections write read tables through it,
 * so events and read rows commit together.
 */

/** One stream's part of an append: its events, the version it must be at, and who/why. */
export interface StreamAppend {
  streamId: string;
  events: DomainEvent[];
  /** A number (0 = the stream must not exist yet), or undefined for "any". */
  expectedVersion?: number;
  metadata: EventMetadata;
}

/** Thrown (or returned per stream) when a stream is not at the expected version; carries the actual one. */
export class StreamVersionConflict extends ConflictError {
  readonly streamId: string;
  readonly expectedVersion: number | undefined;
  readonly actualVersion: number | undefined;

  constructor(
    streamId: string,
    expectedVersion: number | undefined,
    actualVersion: number | undefined,
  ) {
    super(
      actualVersion === undefined
        ? `${streamId} was changed concurrently; reload and retry`
        : `${streamId} is at version ${actualVersion}, not ${expectedVersion}; reload and retry`,
      { streamId, expectedVersion, actualVersion },
    );
    this.streamId = streamId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

/** What an append came to for one stream: its recorded events, or a conflict (nothing written). */
export type AppendOutcome = AppendResult | { conflict: StreamVersionConflict };

/**
 * One ACID unit of work. The transaction opens at the first statement sent through `tx`
 * (a unit whose only write is one atomic statement needs no BEGIN/COMMIT at all).
 */
export interface UnitOfWork<Tx> {
  /** Decisions and projections read and write through this. */
  readonly tx: Tx;
  /** True once something that may have committed was sent: losing the connection then leaves the outcome unknown. */
  readonly committing: boolean;
  /** Commits what ran through `tx` and gives the connection back. */
  commit(): Promise<void>;
  /** Rolls back what ran (unless it may have committed) and gives the connection back. */
  abort(err: unknown): Promise<void>;
}

/** A projection that can ride in the append itself (adapter-specific), so append + project is one atomic step. */
export interface AppendAndProject<Tx, Fused> {
  appendAndProject(uow: UnitOfWork<Tx>, appends: StreamAppend[], fused: Fused): Promise<{ outcomes: AppendOutcome[]; written: WrittenRows } | null>;
}

/**
 * Which entries of an audit trail a tenant's reader sees: those recorded under the tenant
 * (`metadata.companyId`), and those recorded under none whose data holds no value under
 * any of `personalKeys` (a change of no tenant may carry what another tenant recorded).
 * No filter: every entry.
 */
export interface AuditFilter {
  tenant: string;
  personalKeys: readonly string[];
}

/** Stops a subscription. */
export type Unsubscribe = () => Promise<void>;

export interface EventStore<Tx = unknown, Fused = never> extends Partial<AppendAndProject<Tx, Fused>> {
  /** The adapter's name, for logs ("postgres", "mongodb"). */
  readonly adapter: string;
  /** Starts a unit of work (see UnitOfWork). */
  begin(): Promise<UnitOfWork<Tx>>;
  /** Appends to several distinct streams at once, each judged on its own expected version. */
  appendStreams(tx: Tx, appends: StreamAppend[]): Promise<AppendOutcome[]>;
  /** A stream's events after `afterVersion`, in stream order; through `tx` to read inside a unit of work. */
  readStream(streamId: string, options?: { afterVersion?: number; tx?: Tx }): Promise<RecordedEvent[]>;
  /**
   * Up to `limit` events committed after `after`, in commit order: an event is returned only
   * once every transaction that could commit before it has finished, so a reader following
   * checkpoints never skips an event that committed late.
   */
  readAll(after: Checkpoint, limit: number): Promise<RecordedEvent[]>;
  /**
   * Events about each entity (audit trails), oldest first, up to `limit` each after
   * `afterPosition`, only those `filter` lets through (applied in the query, so a page is
   * cut from the visible entries).
   */
  readBySubjects(subjectIds: readonly string[], afterPosition: number, limit: number, filter?: AuditFilter | null): Promise<Map<string, RecordedEvent[]>>;
  /** Calls `onCommit` after events commit, from any process writing to this store (coalesced wake-ups). */
  subscribe(onCommit: () => void): Promise<Unsubscribe>;
  /** Tells subscribers in other processes that events were committed here. */
  announce(): void;
  /** Whether an error means the connection was lost (a commit then has an unknown outcome). */
  isConnectionError(err: unknown): boolean;
  /** The unique constraint a failed write broke, if that is what failed. */
  uniqueViolation(err: unknown): string | null;
  /** Closes what the store opened itself. */
  close(): Promise<void>;
}

/** The checkpoint just past an event. */
export function checkpointOf(event: RecordedEvent): Checkpoint {
  return { transactionId: event.transactionId, globalPosition: event.globalPosition };
}
