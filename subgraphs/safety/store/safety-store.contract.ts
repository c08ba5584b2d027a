import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../../platform/event-store/port.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import { recorded } from '../../../platform/testing/decider.ts';
import type { SafetyEvent } from '../../../schema/events/safety.ts';
import type { AnomalyDoc, TemplateDoc } from './documents.ts';
import type { SafetyStore } from './port.ts';

/**
 * The Safety store port's contract: every adapter runs it against a real server
 * (PostgreSQL always; MongoDB when ANGELIS_MONGO_URL points at a replica set). Documents are
 * written in the event store's unit of work, so they commit or roll back with the events.
 */
export interface SafetyStoreHarness<Tx> {
  /** On a fresh, empty database. */
  documents: SafetyStore<Tx>;
  /** The event store of the same database: its units of work are the documents' transactions. */
  events: EventStore<Tx, unknown>;
  cleanup(): Promise<void>;
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const C1 = id(9001);
const C2 = id(9002);
const P1 = id(8001);
const P2 = id(8002);
const W1 = id(7001);
const T1 = id(6001);
const at = '2026-06-15T12:00:00.000Z';

/** Events as the store recorded them, at global positions from `from`. */
function events(list: SafetyEvent[], from: number): RecordedEvent[] {
  return recorded('contract', list).map((e, i) => ({ ...e, globalPosition: from + i, streamVersion: 1 }) as RecordedEvent);
}
const published = (templateVersion: number, name: string, mandatory = true): SafetyEvent => ({
  type: 'FormTemplatePublished',
  data: { templateId: T1, companyId: C1, templateVersion, name, mandatory, fields: [{ key: 'ok', label: 'OK', type: 'BOOLEAN', required: true, options: [] }], publishedAt: at },
});
const reported = (n: number, projectId: string, severity: 'LOW' | 'HIGH'): SafetyEvent => ({
  type: 'AnomalyReported',
  data: { anomalyId: id(n), projectId, companyId: projectId === P1 ? C1 : C2, reportedBy: W1, reporterProfileId: W1, severity, description: `a${n}`, status: 'OPEN', occurredAt: at, reportedAt: at },
});
const submitted = (n: number, projectId: string): SafetyEvent => ({
  type: 'SafetyFormSubmitted',
  data: { formId: id(n), templateId: T1, templateVersion: 1, projectId, companyId: C1, profileId: W1, answers: [{ key: 'ok', value: true }], submittedAt: at },
});

export function safetyStoreContract<Tx>(adapter: string, setup: () => Promise<SafetyStoreHarness<Tx>>): void {
  describe(`safety store contract: ${adapter}`, () => {
    let h: SafetyStoreHarness<Tx>;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => h?.cleanup());

    async function project(list: RecordedEvent[], commit = true) {
      const uow = await h.events.begin();
      try {
        await h.documents.project(uow.tx, list);
        if (commit) await uow.commit();
        else await uow.abort(new Error('test'));
      } catch (err) {
        await uow.abort(err);
        throw err;
      }
    }

    it('writes documents in the unit of work: committed ones are read back, aborted ones never appear', async () => {
      await project(events([reported(1, P1, 'HIGH')], 10), false);
      expect(await h.documents.get('anomaly', [id(1)])).toEqual([]);
      await project(events([reported(1, P1, 'HIGH')], 10));
      const [doc] = await h.documents.get('anomaly', [id(1), id(404)]);
      expect(doc).toMatchObject({ id: id(1), projectId: P1, status: 'OPEN', severity: 'HIGH', position: 10, steps: [] });
    });

    it('applies several events of one document in one batch, and later batches on top, keeping its first position', async () => {
      await project(events([published(1, 'v1'), published(2, 'v2')], 20));
      await project(events([published(3, 'v3', false)], 30));
      const [t] = (await h.documents.get('template', [T1])) as TemplateDoc[];
      expect(t).toMatchObject({ name: 'v3', mandatory: false, latestVersion: 3, position: 20 });
      expect(t.versions.map((v) => v.name)).toEqual(['v1', 'v2', 'v3']);
      const change: SafetyEvent = { type: 'AnomalyStatusChanged', data: { anomalyId: id(1), companyId: C1, from: 'OPEN', to: 'IN_PROGRESS', note: 'n', changedBy: 'm', changedAt: at } };
      await project(events([change], 31));
      const [a] = (await h.documents.get('anomaly', [id(1)])) as AnomalyDoc[];
      expect(a).toMatchObject({ status: 'IN_PROGRESS', position: 10, steps: [{ from: 'OPEN', to: 'IN_PROGRESS', note: 'n' }] });
    });

    it('lists per value in one call, filtered, in position order, a page per value', async () => {
      await project(events([reported(2, P1, 'LOW'), reported(3, P2, 'HIGH'), reported(4, P1, 'HIGH'), reported(5, P1, 'LOW'), submitted(50, P1), submitted(51, P2)], 40));
      const page = (afterPosition: number, limit: number) => ({ afterPosition, limit });
      const all = await h.documents.listBy('anomaly', 'projectId', [P1, P2, id(404)], {}, page(0, 10));
      expect(all.get(P1)!.map((d) => d.id)).toEqual([id(1), id(2), id(4), id(5)]);
      expect(all.get(P2)!.map((d) => d.id)).toEqual([id(3)]);
      expect(all.get(id(404))).toEqual([]);
      const first = await h.documents.listBy('anomaly', 'projectId', [P1, P2], {}, page(0, 2));
      expect(first.get(P1)!.map((d) => d.id)).toEqual([id(1), id(2)]);
      const next = await h.documents.listBy('anomaly', 'projectId', [P1], {}, page(first.get(P1)![1].position, 2));
      expect(next.get(P1)!.map((d) => d.id)).toEqual([id(4), id(5)]);
      const high = await h.documents.listBy('anomaly', 'projectId', [P1, P2], { severity: 'HIGH', companyId: C1 }, page(0, 10));
      expect(high.get(P1)!.map((d) => d.id)).toEqual([id(1), id(4)]);
      expect(high.get(P2)).toEqual([]);
      const mandatory = await h.documents.listBy('template', 'companyId', [C1], { mandatory: false }, page(0, 10));
      expect(mandatory.get(C1)!.map((d) => d.id)).toEqual([T1]);
      expect((await h.documents.listBy('template', 'companyId', [C1], { mandatory: true }, page(0, 10))).get(C1)).toEqual([]);
      const forms = await h.documents.listBy('form', 'profileId', [W1], { projectId: P2 }, page(0, 10));
      expect(forms.get(W1)!.map((d) => d.id)).toEqual([id(51)]);
      await expect(h.documents.listBy('anomaly', 'description', [P1], {}, page(0, 1))).rejects.toThrow('cannot be listed by description');
    });

    it('keeps hostile strings as data, in values and filters', async () => {
      const hostile = `x' OR '1'='1"; {"$ne": null} \\ ${'$'}where`;
      const list = await h.documents.listBy('anomaly', 'projectId', [hostile], { severity: hostile }, { afterPosition: 0, limit: 5 });
      expect(list.get(hostile)).toEqual([]);
      expect(await h.documents.get('anomaly', [hostile])).toEqual([]);
    });

    it('keeps checkpoints by name', async () => {
      expect(await h.documents.loadCheckpoint('relay')).toBeNull();
      await h.documents.saveCheckpoint('relay', { transactionId: '7', globalPosition: 12 });
      await h.documents.saveCheckpoint('other', { transactionId: '1', globalPosition: 1 });
      await h.documents.saveCheckpoint('relay', { transactionId: '9', globalPosition: 40 });
      expect(await h.documents.loadCheckpoint('relay')).toEqual({ transactionId: '9', globalPosition: 40 });
      expect(await h.documents.loadCheckpoint('other')).toEqual({ transactionId: '1', globalPosition: 1 });
    });

    it('clears every document for a rebuild', async () => {
      await h.documents.clear();
      expect(await h.documents.get('anomaly', [id(1)])).toEqual([]);
      expect(await h.documents.get('template', [T1])).toEqual([]);
    });
  });
}
