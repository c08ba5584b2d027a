import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventDocument } from '../../platform/event-store/mongodb.ts';
import { safetyLakeSource } from '../../schema/lake/safety.ts';
import { readCommitLog } from '../lake/commit-log.ts';
import { localLakeStorage } from '../storage/local.ts';
import { FakeEventsCollection } from '../testing/mongodb-events.ts';
import { queryLake, testConsumer } from '../testing/consumer-harness.ts';
import { MongoEventReader } from './mongodb-event-reader.ts';

/**
 * The MongoDB reader's batches through the projector's own consumer (lease, batch writer,
 * commit log) into a local lake, read back with DuckDB. The `events` collection is an
 * in-memory TEST DOUBLE (FakeEventsCollection: no MongoDB server runs here); DuckDB and the
 * lake folder are real.
 */
const source = { kind: 'mongodb' as const, url: 'mongodb://test-double', database: 'angelis_safety' };
const companyId = randomUUID();
const projectId = randomUUID();
const anomalyIds = Array.from({ length: 6 }, () => randomUUID());
// Hostile text: the CSV delimiter and quote, a line break, quotes, commas, non-ASCII.
const HOSTILE = `Fenced\x1f off; "trench" \x1e, 'ñandú'\nline 2 \\ \u2028 end`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mongo-reader-lake-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Events as MongoEventStore writes them: transactions of `perTransaction` positions, transactionId = the first. */
function documents(from: number, events: { streamId: string; streamVersion: number; type: string; data: Record<string, unknown>; occurredAt: Date }[], perTransaction = 2): EventDocument[] {
  return events.map((e, i) => {
    const position = from + i;
    const transactionId = String(position - (i % perTransaction));
    return {
      _id: randomUUID(), globalPosition: position, transactionId, streamId: e.streamId, streamVersion: e.streamVersion,
      type: e.type, version: 1, data: e.data, metadata: { correlationId: 'lake-test', companyId } as EventDocument['metadata'], occurredAt: e.occurredAt,
    };
  });
}

const day = (d: number, s = 0) => new Date(Date.UTC(2026, 2, d, 12, 0, s, 123));
const reported = anomalyIds.map((anomalyId, i) => ({
  // The last one's stream id needs CSV quoting (ids are text: the reader must not trust them).
  streamId: i === 5 ? `anomaly-${anomalyId}${HOSTILE}` : `anomaly-${anomalyId}`, streamVersion: 1, type: 'AnomalyReported', occurredAt: day(i < 3 ? 1 : 2, i),
  data: {
    anomalyId, projectId, companyId, reportedBy: 'worker-1', reporterProfileId: null, severity: 'HIGH', description: i === 0 ? HOSTILE : `anomaly ${i}`,
    status: 'OPEN', occurredAt: day(i < 3 ? 1 : 2, i).toISOString(), reportedAt: day(i < 3 ? 1 : 2, i).toISOString(),
  },
}));
const changed = (i: number, to: string, note: string, version: number) => ({
  streamId: `anomaly-${anomalyIds[i]}`, streamVersion: version, type: 'AnomalyStatusChanged', occurredAt: day(3, i),
  data: { anomalyId: anomalyIds[i], companyId, from: version === 2 ? 'OPEN' : 'IN_PROGRESS', to, note, changedBy: 'manager-1', changedAt: day(3, i).toISOString() },
});

describe('MongoDB event source into the lake (events collection: test double)', () => {
  it('projects every event once, in position order, across batches and resumes after the checkpoint', async () => {
    const events = new FakeEventsCollection();
    events.append(...documents(1, [...reported, changed(0, 'IN_PROGRESS', HOSTILE, 2), changed(1, 'IN_PROGRESS', 'ok', 2), changed(0, 'RESOLVED', '', 3)]));
    const storage = localLakeStorage(join(dir, 'lake'));
    const run = async () => {
      const consumer = testConsumer(source, storage, dir, {
        source: safetyLakeSource, batchSize: 4, untilCaughtUp: true,
        openReader: (workDir) => new MongoEventReader(source, workDir, async () => events.connection()),
      });
      await consumer.start();
      await consumer.stop();
    };
    await run();
    let state = await readCommitLog(storage, 'safety');
    // 9 events in batches of at most 4 (the session's first is a quarter): 1 + 4 + 4.
    expect(state.events).toBe(9);
    expect(state.n).toBe(3);
    expect(state.checkpoint).toEqual({ transactionId: '9', globalPosition: 9 });
    expect(events.finds.map((f) => (f.filter as { globalPosition: { $gt: number } }).globalPosition.$gt)).toEqual(expect.arrayContaining([0, 1, 5, 9]));

    const q = (sql: string) => queryLake(storage, sql, join(dir, 'scratch'), [safetyLakeSource]);
    const raw = async () => q(`SELECT count(*)::INT AS n, count(DISTINCT global_position)::INT AS d, min(global_position)::INT AS lo, max(global_position)::INT AS hi FROM lake.raw.safety`);
    expect(await raw()).toEqual([{ n: 9, d: 9, lo: 1, hi: 9 }]);
    expect(await q(`SELECT transaction_id, stream_id, stream_version::INT AS v, event_id, occurred_at::VARCHAR AS at, json_extract_string(data, '$.description') AS description,
      json_extract_string(metadata, '$.correlationId') AS correlation FROM lake.raw.safety WHERE global_position = 1`)).toEqual([{
      transaction_id: '1', stream_id: `anomaly-${anomalyIds[0]}`, v: 1, event_id: events.docs[0]._id, at: '2026-03-01 12:00:00.123',
      description: HOSTILE, correlation: 'lake-test',
    }]);
    expect(await q(`SELECT stream_id FROM lake.raw.safety WHERE global_position = 6`)).toEqual([{ stream_id: `anomaly-${anomalyIds[5]}${HOSTILE}` }]);
    const current = await q(`SELECT anomaly_id, status, status_note, description, severity FROM angelis.anomalies ORDER BY anomaly_id`);
    expect(current).toHaveLength(6);
    const byId = new Map(current.map((r) => [r.anomaly_id, r]));
    expect(byId.get(anomalyIds[0])).toEqual({ anomaly_id: anomalyIds[0], status: 'RESOLVED', status_note: '', description: HOSTILE, severity: 'HIGH' });
    expect(byId.get(anomalyIds[1])).toMatchObject({ status: 'IN_PROGRESS', status_note: 'ok', description: 'anomaly 1' });
    expect(byId.get(anomalyIds[5])).toMatchObject({ status: 'OPEN', status_note: null });
    // Partitioned by the UTC date of occurred_at, as for PostgreSQL sources.
    expect(await q(`SELECT CAST(date AS VARCHAR) AS date, count(*)::INT AS n FROM lake.raw.safety GROUP BY ALL ORDER BY 1`)).toEqual([
      { date: '2026-03-01', n: 3 }, { date: '2026-03-02', n: 3 }, { date: '2026-03-03', n: 3 },
    ]);

    // Later commits: a second run reads only what follows the checkpoint.
    events.append(...documents(10, [changed(1, 'RESOLVED', 'done', 3), changed(2, 'IN_PROGRESS', 'later', 2)]));
    const findsBefore = events.finds.length;
    await run();
    state = await readCommitLog(storage, 'safety');
    expect(state.events).toBe(11);
    expect(state.checkpoint).toEqual({ transactionId: '10', globalPosition: 11 });
    expect((events.finds[findsBefore].filter as { globalPosition: { $gt: number } }).globalPosition.$gt).toBe(9);
    expect(await raw()).toEqual([{ n: 11, d: 11, lo: 1, hi: 11 }]);
    expect(await q(`SELECT status, status_note FROM angelis.anomalies WHERE anomaly_id = '${anomalyIds[1]}'`)).toEqual([{ status: 'RESOLVED', status_note: 'done' }]);
  }, 120_000);
});
