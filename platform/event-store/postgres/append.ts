import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { prepared, run, sqlState, type Prepared, type Queryable } from '../../postgres/pool.ts';
import { StreamVersionConflict, type AppendOutcome, type StreamAppend } from '../port.ts';
import type { DomainEvent, EventMetadata, WrittenRows } from '../types.ts';
import { toRecorded, type EventRow } from './rows.ts';

// Several streams in one statement (a command batch): each stream's version check, then
// the events of the streams that pass, in the order given (so global positions follow it).
// A fused projection adds its CTEs over `appended` and one output column per CTE it
// returns rows from (on the first row only).
function appendSql(fused?: { ctes: string; outputs: string[] }): string {
  const outputs = (fused?.outputs ?? []).map((o) => `, CASE WHEN s.i = 1 THEN (SELECT json_agg(${o}) FROM ${o}) END AS ${o}`).join('');
  return `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
       WITH ORDINALITY AS e(stream_id, ord, id, type, ver, data, meta, n)
   ), streams AS (
     SELECT s.stream_id, s.expected, s.i,
            coalesce((SELECT max(stream_version) FROM events WHERE events.stream_id = s.stream_id), 0) AS v
     FROM unnest($8::text[], $9::bigint[]) WITH ORDINALITY AS s(stream_id, expected, i)
   ), appended AS (
     INSERT INTO events (stream_id, stream_version, event_id, event_type, event_version, data, metadata)
     SELECT i.stream_id, s.v + i.ord, i.id, i.type, i.ver, i.data, i.meta
     FROM input i JOIN streams s ON s.stream_id = i.stream_id
     WHERE s.expected IS NULL OR s.v = s.expected
     ORDER BY i.n
     RETURNING global_position, transaction_id::text AS transaction_id, stream_id, stream_version, event_id, occurred_at
   )${fused ? `, ${fused.ctes}` : ''}
   SELECT s.stream_id, s.v AS current_version, a.global_position, a.transaction_id, a.stream_version, a.event_id, a.occurred_at${outputs}
   FROM streams s LEFT JOIN appended a ON a.stream_id = s.stream_id
   ORDER BY a.global_position`;
}
const APPEND = prepared('es_append_streams', appendSql());
/** Parameters of the append part of the statement; a fused projection's come after. */
const APPEND_PARAMS = 9;

/** An event about to be appended, with the id it will have. */
export interface PendingEvent extends DomainEvent {
  eventId: string;
  streamId: string;
}

/**
 * A projection that rides in the append statement: CTEs over the CTE `appended`
 * (event_id, global_position, transaction_id, stream_id, stream_version, occurred_at),
 * so appending and projecting a batch is one statement, atomic without a transaction.
 */
export interface FusedProjection {
  /** The CTEs for these events, their parameters numbered from `firstParam`; null when they cannot be fused. */
  plan(events: PendingEvent[], firstParam: number): FusedPlan | null;
}
export interface FusedPlan {
  /** Identifies the statement's SQL: equal keys must mean equal SQL (any length). */
  key: string;
  ctes: string;
  params: unknown[];
  /** CTEs whose rows come back (as JSON) to `written`. */
  outputs: string[];
  written(outputs: Record<string, unknown[] | null>): WrittenRows;
}

/** Prepared fused statements by plan key. */
const fusedStatements = new Map<string, Prepared>();

/**
 * The prepared statement for a fused plan. Its name is a digest of its SQL: PostgreSQL cuts
 * identifiers at 63 bytes, so a name built from the key (event types joined) could make two
 * different statements collide on one connection ("42P05 already exists").
 */
export function fusedStatement(plan: FusedPlan): Prepared {
  let statement = fusedStatements.get(plan.key);
  if (!statement) {
    const text = appendSql(plan);
    statement = prepared(`es_fused_${createHash('sha256').update(text).digest('hex').slice(0, 48)}`, text);
    fusedStatements.set(plan.key, statement);
  }
  return statement;
}

type AppendRow = Partial<EventRow> & { stream_id: string; current_version: number } & Record<string, unknown>;

/**
 * Appends to distinct streams in one statement, each judged on its own expected version;
 * with `fused`, the projection runs in the same statement (null when it cannot take these
 * events). `sending` is called just before the statement goes out.
 */
export async function appendStreams(
  q: Queryable,
  appends: StreamAppend[],
  fused?: FusedProjection,
  sending?: () => void,
): Promise<{ outcomes: AppendOutcome[]; written: WrittenRows } | null> {
  const streamIds = appends.map((a) => a.streamId);
  if (new Set(streamIds).size !== streamIds.length) throw new Error('appendStreams needs distinct streams');
  const metas = appends.map(({ metadata: base, events }) => {
    if (events.length === 0) throw new Error('append needs at least one event');
    return events.map((e): EventMetadata =>
      e.subjects?.length ? { ...base, subjects: [...new Set([...(base.subjects ?? []), ...e.subjects])] } : base,
    );
  });
  const flat = appends.flatMap((a, s) =>
    a.events.map((e, i) => ({ streamId: a.streamId, ord: i + 1, e, meta: metas[s][i], eventId: randomUUID() })),
  );
  let statement: Prepared = APPEND;
  let plan: FusedPlan | null = null;
  if (fused) {
    plan = fused.plan(flat.map((f) => ({ ...f.e, eventId: f.eventId, streamId: f.streamId })), APPEND_PARAMS + 1);
    if (!plan) return null;
    statement = fusedStatement(plan);
  }
  let rows: AppendRow[];
  sending?.();
  try {
    ({ rows } = await run<AppendRow>(q, statement, [
      flat.map((f) => f.streamId),
      flat.map((f) => f.ord),
      flat.map((f) => f.eventId),
      flat.map((f) => f.e.type),
      flat.map((f) => f.e.version ?? 1),
      flat.map((f) => JSON.stringify(f.e.data)),
      flat.map((f) => JSON.stringify(f.meta)),
      streamIds,
      appends.map((a) => a.expectedVersion ?? null),
      ...(plan?.params ?? []),
    ]));
  } catch (err) {
    if (sqlState(err) === '23505' && /stream_id_stream_version/.test((err as pg.DatabaseError).constraint ?? '')) {
      // Which stream lost the race is unknown; with one stream it is that one.
      if (appends.length === 1) throw new StreamVersionConflict(appends[0].streamId, appends[0].expectedVersion, undefined);
    }
    throw err;
  }
  const byStream = new Map<string, AppendRow[]>();
  for (const row of rows) {
    const list = byStream.get(row.stream_id) ?? [];
    if (row.global_position != null) list.push(row);
    byStream.set(row.stream_id, list);
  }
  const outcomes = appends.map((a, s): AppendOutcome => {
    const appended = byStream.get(a.streamId) ?? [];
    if (appended.length === 0) {
      const current = rows.find((r) => r.stream_id === a.streamId)?.current_version;
      return { conflict: new StreamVersionConflict(a.streamId, a.expectedVersion, current) };
    }
    appended.sort((x, y) => x.stream_version! - y.stream_version!);
    const recorded = appended.map((row, i) =>
      toRecorded({
        ...(row as EventRow),
        stream_id: a.streamId,
        event_type: a.events[i].type,
        event_version: a.events[i].version ?? 1,
        data: a.events[i].data as Record<string, unknown>,
        metadata: metas[s][i],
      }),
    );
    return { nextVersion: recorded[recorded.length - 1].streamVersion, events: recorded };
  });
  // Each output column is set on one row only (the first stream's).
  const output = (o: string) => (rows.find((r) => r[o] != null)?.[o] as unknown[] | undefined) ?? null;
  const written = plan ? plan.written(Object.fromEntries(plan.outputs.map((o) => [o, output(o)]))) : new Map();
  return { outcomes, written };
}
