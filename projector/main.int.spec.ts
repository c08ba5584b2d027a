import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.ts';
import { eventStoreMigration } from '../platform/event-store/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../platform/testing/postgres.ts';
import { loadConfig } from '../platform/config.ts';
import { workforceLakeSource } from '../schema/lake/workforce.ts';
import { startProjector } from './main.ts';
import { insertSyntheticEvents } from './testing/synthetic-events.ts';

let t: TestDatabase;
let dir: string;
beforeAll(async () => {
  t = await createTestDatabase('proj_main', [{ service: 'es', migrations: [eventStoreMigration] }]);
  await insertSyntheticEvents(t.db.pool, 500);
  dir = await mkdtemp(join(tmpdir(), 'projector-main-'));
});
afterAll(async () => {
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('startProjector', () => {
  it('writes the Dremio views, projects, and serves Prometheus metrics', async () => {
    const config = loadConfig({
      ANGELIS_LAKE_DIR: join(dir, 'lake'), ANGELIS_PROJECTOR_METRICS_PORT: '0', ANGELIS_PSEUDONYM_KEY: 'main-test-key-0123456789',
    });
    const projector = await startProjector({ sources: [{ source: workforceLakeSource, connection: t.settings }], config, log: createLogger('t', 'silent') });
    try {
      for (let i = 0; i < 100; i++) {
        const body = await (await fetch(`http://127.0.0.1:${projector.metricsPort}/metrics`)).text();
        if (/angelis_projector_events_total\{source="workforce"\} 500/.test(body)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const body = await (await fetch(`http://127.0.0.1:${projector.metricsPort}/metrics`)).text();
      expect(body).toMatch(/angelis_projector_events_total\{source="workforce"\} 500/);
      expect(body).toMatch(/angelis_projector_batch_events_count\{source="workforce"\} [1-9]/);
      expect(body).toContain('angelis_projector_write_seconds_bucket');
      expect(await readFile(join(dir, 'lake', '_views', 'dremio.sql'), 'utf8')).toContain('CREATE OR REPLACE VIEW angelis."profiles"');
    } finally {
      await projector.stop();
    }
  });

  it('refuses an unknown source and a bad configuration with a clear message', async () => {
    await expect(startProjector({ sources: [], config: loadConfig({}) })).rejects.toThrow(/at least one source/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ANGELIS_PSEUDONYM_KEY.*required in production/);
    expect(() => loadConfig({ ANGELIS_LAKE_URL: 'https://a.blob.core.windows.net/lake' })).toThrow(/ANGELIS_LAKE_AZURE_KEY/);
  });
});
