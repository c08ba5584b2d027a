import { describe, expect, it } from 'vitest';
import { FakeClientSession, RecordingMongo } from '../../../platform/testing/mongodb.ts';
import { recorded } from '../../../platform/testing/decider.ts';
import type { SafetyEvent } from '../../../schema/events/safety.ts';
import { DOCUMENT_INDEXES, MongoSafetyStore } from './mongodb.ts';

/** What the Safety store sends to the MongoDB driver, exactly (a recording test double stands in for the driver). */
const A = '00000000-0000-4000-8000-000000000001';
const P = '00000000-0000-4000-8000-000000000002';
const at = '2026-06-15T12:00:00.000Z';
const reported: SafetyEvent = {
  type: 'AnomalyReported',
  data: { anomalyId: A, projectId: P, companyId: 'c1', reportedBy: 'w', reporterProfileId: null, severity: 'LOW', description: 'd', status: 'OPEN', occurredAt: at, reportedAt: at },
};
const changed: SafetyEvent = { type: 'AnomalyStatusChanged', data: { anomalyId: A, companyId: 'c1', from: 'OPEN', to: 'IN_PROGRESS', note: 'n', changedBy: 'm', changedAt: at } };

describe('MongoDB Safety store: what it sends to the driver', () => {
  it('indexes each list it serves: kind, the grouping field, position', async () => {
    const mongo = new RecordingMongo();
    await new MongoSafetyStore(mongo.db()).migrate();
    expect(mongo.sent()).toEqual([{ call: 'safety_documents.createIndexes', args: [DOCUMENT_INDEXES] }]);
    expect(DOCUMENT_INDEXES.map((i) => i.key)).toEqual([
      { kind: 1, projectId: 1, position: 1 },
      { kind: 1, profileId: 1, position: 1 },
      { kind: 1, companyId: 1, position: 1 },
    ]);
  });

  it('projects in the session: reads the document once, applies every event of the batch, replaces it by _id (upsert)', async () => {
    const mongo = new RecordingMongo();
    const session = new FakeClientSession();
    await new MongoSafetyStore(mongo.db()).project(session as never, recorded('anomaly', [reported, changed]));
    const sent = mongo.sent();
    expect(sent[0]).toEqual({ call: 'safety_documents.find', args: [{ _id: { $in: [`anomaly:${A}`] } }, { projection: { _id: 0, kind: 0 }, session: 'session' }] });
    expect(sent).toHaveLength(2);
    const [ops, options] = sent[1].args as [{ replaceOne: { filter: unknown; replacement: Record<string, unknown>; upsert: boolean } }[], unknown];
    expect(sent[1].call).toBe('safety_documents.bulkWrite');
    expect(options).toEqual({ session: 'session', ordered: true });
    expect(ops).toHaveLength(1);
    expect(ops[0].replaceOne.filter).toEqual({ _id: `anomaly:${A}` });
    expect(ops[0].replaceOne.upsert).toBe(true);
    expect(ops[0].replaceOne.replacement).toMatchObject({ _id: `anomaly:${A}`, kind: 'anomaly', id: A, status: 'IN_PROGRESS', position: 1, streamVersion: 2 });
  });

  it('lists per value in one aggregation: match (filters, values, after), sort by position, the first n per value', async () => {
    const mongo = new RecordingMongo();
    mongo.answer('safety_documents.aggregate', [{ _id: P, docs: [{ _id: `anomaly:${A}`, kind: 'anomaly', id: A }] }]);
    const found = await new MongoSafetyStore(mongo.db()).listBy('anomaly', 'projectId', [P, 'other'], { status: 'OPEN', companyId: 'c1' }, { afterPosition: 7, limit: 21 });
    expect(mongo.sent()).toEqual([
      {
        call: 'safety_documents.aggregate',
        args: [
          [
            { $match: { status: 'OPEN', companyId: 'c1', kind: 'anomaly', projectId: { $in: [P, 'other'] }, position: { $gt: 7 } } },
            { $sort: { position: 1 } },
            { $group: { _id: '$projectId', docs: { $firstN: { input: '$$ROOT', n: 21 } } } },
          ],
        ],
      },
    ]);
    expect(found.get(P)).toEqual([{ id: A }]);
    expect(found.get('other')).toEqual([]);
  });

  it('a filter cannot override the kind, the grouping or the page (they come last)', async () => {
    const mongo = new RecordingMongo();
    await new MongoSafetyStore(mongo.db()).listBy('form', 'profileId', ['w'], { kind: 'anomaly', position: 'x' } as never, { afterPosition: 0, limit: 1 });
    const match = ((mongo.sent()[0].args[0] as object[])[0] as { $match: Record<string, unknown> }).$match;
    expect(match).toMatchObject({ kind: 'form', profileId: { $in: ['w'] }, position: { $gt: 0 } });
  });

  it('keeps checkpoints with an upsert by name', async () => {
    const mongo = new RecordingMongo();
    mongo.answer('safety_checkpoints.findOne', { _id: 'r', transactionId: '3', globalPosition: 9 });
    const store = new MongoSafetyStore(mongo.db());
    await store.saveCheckpoint('r', { transactionId: '3', globalPosition: 9 });
    expect(await store.loadCheckpoint('r')).toEqual({ transactionId: '3', globalPosition: 9 });
    expect(mongo.sent()).toEqual([
      { call: 'safety_checkpoints.updateOne', args: [{ _id: 'r' }, { $set: { transactionId: '3', globalPosition: 9 } }, { upsert: true }] },
      { call: 'safety_checkpoints.findOne', args: [{ _id: 'r' }] },
    ]);
  });
});
