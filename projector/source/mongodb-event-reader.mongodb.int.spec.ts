import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoEventStore } from '../../platform/event-store/mongodb.ts';
import { StreamVersionConflict } from '../../platform/event-store/port.ts';
import { safetyLakeSource } from '../../schema/lake/safety.ts';
import { readCommitLog } from '../lake/commit-log.ts';
import { localLakeStorage } from '../storage/local.ts';
import { queryLake, testConsumer } from '../testing/consumer-harness.ts';
import { openEventReader } from './open-reader.ts';

/**
 * The projector's MongoDB reader against a real replica set (MongoEventStore writes, the
 * projector's consumer reads through openEventReader, DuckDB reads the lake back): runs
 * when ANGELIS_MONGO_URL is set (`docker compose up -d mongo`), else says clearly that it
 * was skipped.
 */
const url = process.env.ANGELIS_MONGO_URL;

if (!url) console.log('SKIPPED: projector MongoDB reader on a real server (set ANGELIS_MONGO_URL to a replica set, e.g. `docker compose up -d mongo`)');

describe.skipIf(!url)('projector MongoDB reader (real replica set)', () => {
  const database = `t_proj_${randomBytes(4).toString('hex')}`;
  const source = { kind: 'mongodb' as const, url: url!, database };
  const companyId = randomUUID();
  let client: MongoClient;
  let store: MongoEventStore;
  let dir: string;

  beforeAll(async () => {
    client = await new MongoClient(url!).connect();
    store = new MongoEventStore(client, client.db(database));
    await store.migrate();
    dir = await mkdtemp(join(tmpdir(), 'mongo-reader-real-'));
  });
  afterAll(async () => {
    await client?.db(database).dropDatabase().catch(() => {});
    await client?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Reports one anomaly in its own transaction, retrying the counter's write conflicts as the command handler does. */
  async function report(description: string): Promise<void> {
    const anomalyId = randomUUID();
    const now = new Date().toISOString();
    for (let attempt = 0; ; attempt++) {
      const uow = await store.begin();
      try {
        await store.appendStreams(uow.tx, [{
          streamId: `anomaly-${anomalyId}`, expectedVersion: 0,
          metadata: { actor: { id: 'mongo-reader-test', kind: 'dev' }, companyId, correlationId: 'mongo-reader-test' },
          events: [{
            type: 'AnomalyReported',
            data: { anomalyId, projectId: randomUUID(), companyId, reportedBy: 'worker', reporterProfileId: null, severity: 'LOW', description, status: 'OPEN', occurredAt: now, reportedAt: now },
          }],
        }]);
        await uow.commit();
        return;
      } catch (err) {
        await uow.abort(err);
        if (!(err instanceof StreamVersionConflict) || attempt > 50) throw err;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
  }

  it('sends a bounded, majority read and reads the events after a checkpoint in position order', async () => {
    for (let i = 0; i < 5; i++) await report(`serial ${i}`);
    const reader = openEventReader(source, dir);
    await reader.connect();
    try {
      expect(await reader.behind({ transactionId: '0', globalPosition: 2 })).toBe(3);
      const batch = await reader.fetch({ transactionId: '2', globalPosition: 2 }, 2);
      expect(batch).toMatchObject({ rows: 2, to: { transactionId: '4', globalPosition: 4 } });
      expect((await reader.head({ transactionId: '0', globalPosition: 0 })).headPosition).toBe(5);
    } finally {
      await reader.close();
    }
  });

  it('projects events appended concurrently while it runs: each exactly once, positions without gaps', async () => {
    const storage = localLakeStorage(join(dir, 'lake'));
    const consumer = testConsumer(source, storage, dir, { source: safetyLakeSource, batchSize: 7, pollMs: 50 });
    const running = consumer.start();
    // Eight writers at once: their transactions serialise on the counter document.
    await Promise.all(Array.from({ length: 8 }, (_, w) => (async () => {
      for (let i = 0; i < 10; i++) await report(`writer ${w} #${i} \x1f "q" \n`);
    })()));
    const total = 5 + 80;
    for (let i = 0; i < 300 && (await readCommitLog(storage, 'safety')).events < total; i++) await new Promise((r) => setTimeout(r, 100));
    await consumer.stop();
    await running;
    const state = await readCommitLog(storage, 'safety');
    expect(state.events).toBe(total);
    expect(state.checkpoint.globalPosition).toBe(total);
    const rows = await queryLake(storage, `SELECT count(*)::INT AS n, count(DISTINCT global_position)::INT AS d, min(global_position)::INT AS lo, max(global_position)::INT AS hi,
      count(*) FILTER (WHERE json_extract_string(data, '$.description') LIKE 'writer % #% \x1f "q" \n')::INT AS hostile FROM lake.raw.safety`, join(dir, 'scratch'), [safetyLakeSource]);
    expect(rows).toEqual([{ n: total, d: total, lo: 1, hi: total, hostile: 80 }]);
    expect(await queryLake(storage, `SELECT count(*)::INT AS n FROM angelis.anomalies`, join(dir, 'scratch'), [safetyLakeSource])).toEqual([{ n: total }]);
  }, 120_000);
});
