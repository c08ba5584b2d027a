import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventDocument } from '../../platform/event-store/mongodb.ts';
import { RecordingMongo } from '../../platform/testing/mongodb.ts';
import { CSV_DELIMITER, CSV_QUOTE } from './event-reader.ts';
import { eventCsvLine, MongoEventReader } from './mongodb-event-reader.ts';

/**
 * What the projector's MongoDB reader sends to the driver (RecordingMongo is a TEST DOUBLE
 * of the driver; the real server is covered by mongodb-event-reader.mongodb.int.spec.ts).
 */
const source = { kind: 'mongodb' as const, url: 'mongodb://unused', database: 'angelis_safety' };
const PROJECTION = {
  _id: 1, globalPosition: 1, transactionId: 1, streamId: 1, streamVersion: 1, type: 1, version: 1, data: 1, metadata: 1, occurredAt: 1,
};
const MAJORITY = { readConcern: { level: 'majority' }, readPreference: 'primary' };

function event(position: number, overrides: Partial<EventDocument> = {}): EventDocument {
  return {
    _id: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
    globalPosition: position,
    transactionId: String(position),
    streamId: 'anomaly-1',
    streamVersion: position,
    type: 'AnomalyReported',
    version: 1,
    data: { anomalyId: 'anomaly-1', severity: 'HIGH' },
    metadata: { correlationId: 'c-1' } as EventDocument['metadata'],
    occurredAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    ...overrides,
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mongo-reader-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function reader(mongo: RecordingMongo): Promise<MongoEventReader> {
  const r = new MongoEventReader(source, dir, async () => ({ client: mongo.client(), db: mongo.db(), close: async () => {} }));
  await r.connect();
  return r;
}

describe('MongoEventReader', () => {
  it('reads a batch as one find: after the checkpoint position, in position order, bounded, projected, majority reads', async () => {
    const mongo = new RecordingMongo().answer('events.find', [event(8), event(9)]);
    const r = await reader(mongo);
    const batch = await r.fetch({ transactionId: '5', globalPosition: 7 }, 250);
    expect(mongo.sent()).toEqual([
      { call: 'events.find', args: [{ globalPosition: { $gt: 7 } }, { sort: { globalPosition: 1 }, limit: 250, projection: PROJECTION, ...MAJORITY }] },
    ]);
    expect(batch).toMatchObject({
      rows: 2, from: { transactionId: '5', globalPosition: 7 }, to: { transactionId: '9', globalPosition: 9 }, lastOccurredAt: '2026-01-02T03:04:05.678Z',
    });
    const lines = (await readFile(batch.file, 'utf8')).split('\n');
    expect(lines).toEqual([eventCsvLine(event(8)).trimEnd(), eventCsvLine(event(9)).trimEnd(), '']);
    expect(batch.bytes).toBe(Buffer.byteLength(lines.join('\n')));
  });

  it('an empty read stays at the checkpoint', async () => {
    const r = await reader(new RecordingMongo());
    const batch = await r.fetch({ transactionId: '3', globalPosition: 4 }, 10);
    expect(batch).toMatchObject({ rows: 0, from: { transactionId: '3', globalPosition: 4 }, to: { transactionId: '3', globalPosition: 4 } });
    expect(await readFile(batch.file, 'utf8')).toBe('');
  });

  it('refuses a limit that is not a positive integer before sending anything', async () => {
    const mongo = new RecordingMongo();
    const r = await reader(mongo);
    for (const limit of [0, -1, 1.5, Number.NaN]) await expect(r.fetch({ transactionId: '0', globalPosition: 0 }, limit)).rejects.toThrow(/invalid batch limit/);
    expect(mongo.sent()).toEqual([]);
  });

  it('counts what is behind and finds the head with majority reads', async () => {
    const mongo = new RecordingMongo().answer('events.countDocuments', 3).answer('events.find', [{ globalPosition: 12, occurredAt: new Date(0) }]);
    const r = await reader(mongo);
    expect(await r.head({ transactionId: '9', globalPosition: 9 })).toEqual({ behind: 3, headPosition: 12, headOccurredAt: new Date(0) });
    expect(mongo.sent()).toEqual([
      { call: 'events.countDocuments', args: [{ globalPosition: { $gt: 9 } }, MAJORITY] },
      { call: 'events.find', args: [{}, { sort: { globalPosition: -1 }, limit: 1, projection: { globalPosition: 1, occurredAt: 1 }, ...MAJORITY }] },
    ]);
  });

  it('wakes the consumer from a change stream on inserts into events', async () => {
    const mongo = new RecordingMongo();
    const r = await reader(mongo);
    const stop = r.onCommit(() => {});
    r.onCommit(() => {});
    await r.close();
    stop();
    expect(mongo.sent()).toEqual([{ call: 'events.watch', args: [[{ $match: { operationType: 'insert' } }]] }]);
  });
});

describe('eventCsvLine', () => {
  it('writes the batch columns in order, occurred_at as UTC text, JSON unquoted', () => {
    const line = eventCsvLine(event(3, { data: { note: 'línea 1\nlínea 2 \x1f \x1e "q"' } }));
    const fields = line.trimEnd().split(CSV_DELIMITER);
    expect(fields).toEqual([
      '3', '3', '2026-01-02 03:04:05.678', 'anomaly-1', '3', '00000000-0000-4000-8000-000000000003', 'AnomalyReported', '1',
      JSON.stringify({ note: 'línea 1\nlínea 2 \x1f \x1e "q"' }), '{"correlationId":"c-1"}',
    ]);
    expect(line.match(/\n/g)).toHaveLength(1);
  });

  it('quotes a text field holding the delimiter, the quote or a line break (quote doubled), and an empty one', () => {
    const fields = eventCsvLine(event(1, { streamId: `a${CSV_DELIMITER}b${CSV_QUOTE}c\nd`, type: '' })).split(CSV_DELIMITER);
    expect(fields[3]).toBe(`${CSV_QUOTE}a`);
    expect(fields[4]).toBe(`b${CSV_QUOTE}${CSV_QUOTE}c\nd${CSV_QUOTE}`);
    expect(fields[7]).toBe(`${CSV_QUOTE}${CSV_QUOTE}`);
  });
});
