import type pg from 'pg';
import type { z } from 'zod';
import { ConflictError } from '../errors.ts';
import * as input from '../domain/input.ts';
import { sqlState } from '../postgres/pool.ts';
import type { CommandHandler, Evolver } from './command-handler.ts';
import type { FusedProjection } from './postgres.ts';
import type { DomainEvent, EventMetadata, RecordedEvent, WrittenRows } from './types.ts';

/** Who acts and in which request: what every command records in its events' metadata. */
export interface ActingContext {
  actor: EventMetadata['actor'];
  correlationId: string;
  /** Receives the read-table rows the command's projection wrote, once it has committed. */
  onWritten?: (rows: WrittenRows) => void;
}

export interface DomainCommandOptions<S> {
  /** Entity ids the events are about (the audit trail finds them by these). */
  subjects: string[];
  /** The tenant, fixed or read from the aggregate's state. */
  companyId: string | null | ((state: S) => string | null);
  /** The caller's view of the aggregate's version; a stale one is a CONFLICT. */
  expectedVersion?: number | null;
}

/**
 * A domain's way to run one command: metadata from the caller, decided events checked
 * against their contracts before they reach the log, the domain's inline projection, and
 * its unique read-table constraints reported as the CONFLICT a person would understand.
 */
export function domainCommandRunner<E extends DomainEvent, Tx = pg.PoolClient>(
  handler: CommandHandler<Tx>,
  domain: {
    contracts: Record<string, { data: z.ZodType }>;
    project: (tx: Tx, events: RecordedEvent[]) => Promise<WrittenRows | void>;
    /** The projection fused into the append statement, when the domain has one (PostgreSQL). */
    fused?: FusedProjection;
    /** Unique read-table constraints (PostgreSQL) and the CONFLICT message each means. */
    uniqueMessages?: Record<string, string>;
  },
) {
  // One function for every command of the domain, so a batch projects in one call.
  const project = (tx: Tx, events: RecordedEvent<E>[]) => domain.project(tx, events as RecordedEvent[]);
  // A bug that decides a malformed event must never reach the log.
  const checked = (events: E[]): E[] => {
    for (const e of events) domain.contracts[e.type].data.parse(e.data);
    return events;
  };
  return async function run<S>(
    ctx: ActingContext,
    streamId: string,
    evolver: Evolver<S, E>,
    decide: (state: S, tx: Tx) => E[] | Promise<E[]>,
    opts: DomainCommandOptions<S>,
  ) {
    if (opts.expectedVersion != null) input.intInRange(opts.expectedVersion, 'expectedVersion', 0, Number.MAX_SAFE_INTEGER);
    const metadata = (state: S): EventMetadata => ({
      actor: ctx.actor,
      companyId: typeof opts.companyId === 'function' ? opts.companyId(state) : opts.companyId,
      correlationId: ctx.correlationId,
      subjects: opts.subjects,
    });
    try {
      const result = await handler.handle<S, E>({
        streamId,
        evolver,
        metadata,
        expectedVersion: opts.expectedVersion ?? undefined,
        decide: (state, _version, tx) => {
          const decided = decide(state, tx);
          return decided instanceof Promise ? decided.then(checked) : checked(decided);
        },
        project,
        fused: domain.fused,
      });
      ctx.onWritten?.(result.written);
      return result;
    } catch (err) {
      const constraint = (err as pg.DatabaseError).constraint;
      if (sqlState(err) === '23505' && constraint && domain.uniqueMessages?.[constraint]) {
        throw new ConflictError(domain.uniqueMessages[constraint], { constraint });
      }
      throw err;
    }
  };
}
