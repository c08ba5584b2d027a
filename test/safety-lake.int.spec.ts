import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { bootDomain } from '../platform/service/boot.ts';
import { createTestDatabase, type TestDatabase } from '../platform/testing/postgres.ts';
import { openDuckDb } from '../projector/lake/duckdb.ts';
import { checkLakeSource } from '../projector/mapping/check-contracts.ts';
import { startProjector } from '../projector/main.ts';
import { safetyLakeSource } from '../schema/lake/safety.ts';
import { safety } from '../subgraphs/safety/subgraph.ts';
import type { CommandContext } from '../subgraphs/safety/commands.ts';

/**
 * Safety's events reach the lake like every domain's: the projector reads its event log
 * where the registry's eventSource says (here its PostgreSQL fallback; MongoDB with
 * ANGELIS_MONGO_URL, see projector/source/mongodb-event-reader.*.spec.ts) and writes raw
 * events and the typed tables of schema/lake/safety.ts.
 */
let t: TestDatabase;
let dir: string;
const ctx: CommandContext = { actor: { id: 'lake-test', kind: 'dev' }, correlationId: 'lake-test' };
const project = { id: '00000000-0000-4000-8000-0000000000b1', companyId: '00000000-0000-4000-8000-0000000000c1' };
const profileId = '00000000-0000-4000-8000-0000000000d1';

beforeAll(async () => {
  t = await createTestDatabase('safety_lake', [], 5);
  dir = await mkdtemp(join(tmpdir(), 'safety-lake-'));
});
afterAll(async () => {
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Safety in the lake', () => {
  it('its lake tables agree with its event contracts', () => {
    expect(checkLakeSource(safetyLakeSource)).toEqual([]);
  });

  it('projects templates (one row per version), forms and anomalies with their latest status', async () => {
    const config = loadConfig({ NODE_ENV: 'test', ANGELIS_LAKE_DIR: join(dir, 'lake'), ANGELIS_PROJECTOR_METRICS_PORT: '0', ANGELIS_PSEUDONYM_KEY: 'safety-lake-key-0123456789' }, [safety.config!]);
    const log = createLogger('t', 'silent');
    const domain = await bootDomain(safety, config, log, { db: t.db, relay: false });
    try {
      const { commands } = domain.parts;
      const templateId = await commands.publishTemplate(ctx, { templateId: null, companyId: project.companyId, name: 'Check', mandatory: true, fields: [{ key: 'ok', label: 'OK', type: 'BOOLEAN', required: true }] });
      await commands.publishTemplate(ctx, { templateId, companyId: project.companyId, name: 'Check v2', fields: [{ key: 'ok', label: 'OK', type: 'BOOLEAN', required: true }] });
      const [tpl] = await commands.store.get('template', [templateId]);
      const formId = await commands.submitForm(ctx, { tpl, templateVersion: 2, project, profileId, answers: [{ key: 'ok', value: true }] });
      const anomalyId = await commands.reportAnomaly(ctx, { project, reporterProfileId: profileId, severity: 'HIGH', description: 'Open trench' });
      await commands.changeAnomalyStatus(ctx, { anomalyId, projectId: project.id, to: 'IN_PROGRESS', note: 'Fenced' });
    } finally {
      await domain.close();
    }
    const projector = await startProjector({ sources: [{ source: safetyLakeSource, connection: t.settings }], config, log });
    try {
      for (let i = 0; i < 100; i++) {
        const body = await (await fetch(`http://127.0.0.1:${projector.metricsPort}/metrics`)).text();
        if (/angelis_projector_events_total\{source="safety"\} 5/.test(body)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await projector.stop();
    }
    const duck = await openDuckDb({ pseudonymKey: 'x' });
    try {
      const rows = async (sql: string) => (await duck.connection.runAndReadAll(sql)).getRowObjectsJson();
      const lake = join(dir, 'lake');
      expect(await rows(`SELECT template_id, template_version::INT AS v, name, mandatory FROM read_parquet('${lake}/tables/form_templates/**/*.parquet') ORDER BY v`)).toEqual([
        expect.objectContaining({ v: 1, name: 'Check', mandatory: true }),
        expect.objectContaining({ v: 2, name: 'Check v2', mandatory: false }),
      ]);
      expect(await rows(`SELECT template_version::INT AS v, profile_id FROM read_parquet('${lake}/tables/safety_forms/**/*.parquet')`)).toEqual([{ v: 2, profile_id: profileId }]);
      const anomalies = await rows(`SELECT _event_type, status, severity, status_note FROM read_parquet('${lake}/tables/anomalies/**/*.parquet') ORDER BY _position`);
      expect(anomalies).toEqual([
        { _event_type: 'AnomalyReported', status: 'OPEN', severity: 'HIGH', status_note: null },
        { _event_type: 'AnomalyStatusChanged', status: 'IN_PROGRESS', severity: null, status_note: 'Fenced' },
      ]);
      const raw = await rows(`SELECT count(*)::INT AS n FROM read_parquet('${lake}/raw/safety/**/*.parquet')`);
      expect(raw).toEqual([{ n: 5 }]);
    } finally {
      duck.close();
    }
  });

  it('with ANGELIS_MONGO_URL set the projector reads Safety from MongoDB (no refusal): status lists it beside Workforce, its lag unknown while MongoDB is unreachable', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/projector.ts', 'status'], {
      env: { ...process.env, ANGELIS_MONGO_URL: 'mongodb://127.0.0.1:1/?replicaSet=rs0', ANGELIS_LAKE_DIR: join(dir, 'mongo'), ANGELIS_LOG_LEVEL: 'error' },
      timeout: 60_000,
    });
    expect(stdout).toContain('source workforce');
    // Read through the MongoDB reader: nothing answers on port 1, so its lag is unknown (not a PostgreSQL fallback's).
    expect(stdout).toMatch(/source safety\n(?:.*\n){3}\s+lag\s+unknown \(source database unreachable\)/);
  }, 120_000);
});
