import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { bootDomain } from '../../platform/service/boot.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/postgres.ts';
import type { CommandContext } from './commands.ts';
import { safety } from './subgraph.ts';

/** `npm run rebuild -- safety` on the PostgreSQL fallback: the documents come back exactly from the events. */
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('safety_rebuild', [], 5);
});
afterAll(async () => t?.drop());

describe('rebuilding Safety\'s documents', () => {
  it('clears them and replays every event through the same projection', async () => {
    const domain = await bootDomain(safety, loadConfig({ NODE_ENV: 'test' }, [safety.config!]), createLogger('t', 'silent'), { db: t.db, relay: false });
    try {
      const ctx: CommandContext = { actor: { id: 'r', kind: 'dev' }, correlationId: 'rebuild-test' };
      const project = { id: '00000000-0000-4000-8000-0000000000b1', companyId: '00000000-0000-4000-8000-0000000000c1' };
      const { commands } = domain.parts;
      const templateId = await commands.publishTemplate(ctx, { templateId: null, companyId: project.companyId, name: 'T', fields: [{ key: 'a', label: 'A', type: 'TEXT' }] });
      await commands.publishTemplate(ctx, { templateId, companyId: project.companyId, name: 'T2', fields: [{ key: 'a', label: 'A', type: 'TEXT', required: true }] });
      const anomalyId = await commands.reportAnomaly(ctx, { project, reporterProfileId: null, severity: 'MEDIUM', description: 'd' });
      await commands.changeAnomalyStatus(ctx, { anomalyId, projectId: project.id, to: 'IN_PROGRESS', note: 'n' });
      const snapshot = async () => (await t.db.query('SELECT kind, id, position, doc FROM safety_documents ORDER BY kind, id')).rows;
      const before = await snapshot();
      expect(before).toHaveLength(2);
      await t.db.query(`UPDATE safety_documents SET doc = jsonb_set(doc, '{status}', '"RESOLVED"')`);
      await t.db.query(`DELETE FROM safety_documents WHERE kind = 'template'`);
      expect(await domain.storage.rebuild()).toBe(4);
      expect(await snapshot()).toEqual(before);
    } finally {
      await domain.close();
    }
  });
});
