import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../platform/config.ts';
import { createLogger } from '../../../platform/logger.ts';
import { MemoryKeyValueStore } from '../../../platform/redis/memory.ts';
import { createTestDatabase, type TestDatabase } from '../../../platform/testing/postgres.ts';
import { seedCiam } from '../seed.ts';
import { startCiam, type CiamService } from '../../../test/support/subgraphs.ts';
import { ciamReadTables } from './migrations.ts';
import { rebuildCiam } from './rebuild.ts';

let t: TestDatabase;
let ciam: CiamService;

beforeAll(async () => {
  t = await createTestDatabase('ciam_rebuild');
  const config = loadConfig({ NODE_ENV: 'test', ANGELIS_POSTGRES_DB_HOST: t.settings.host, ANGELIS_POSTGRES_DB_PORT: String(t.settings.port) });
  ciam = await startCiam(config, createLogger('test', 'silent'), { db: t.db, port: 0, store: new MemoryKeyValueStore(), keyActivationDelayMs: 0 });
  const companies = [
    { id: '00000000-0000-4000-8000-00000000000a', name: 'Alpha' },
    { id: '00000000-0000-4000-8000-00000000000b', name: 'Beta' },
  ];
  await seedCiam(ciam, { companies, profiles: [{ id: '00000000-0000-4000-8000-0000000000f1', rut: '12.345.678-5', companyId: companies[0].id }] });
  await ciam.keys.rotate({ actor: { id: 'test', kind: 'system' }, correlationId: 'rotate' }, true);
  // A failed and a successful password step change the users' rows too.
  await expect(ciam.auth.login('rebuild-test', '127.0.0.1', 'admin@angelis.dev', 'wrong password!')).rejects.toBeTruthy();
  await ciam.auth.login('rebuild-test', '127.0.0.1', 'admin@angelis.dev', 'angelis-dev-password');
});
afterAll(async () => {
  await ciam?.stop();
  await t?.drop();
});

describe('CIAM rebuild', () => {
  it('truncates the read tables and replays the events into identical rows', async () => {
    const snapshot = async () => {
      const out: Record<string, unknown[]> = {};
      for (const table of ciamReadTables) out[table] = (await t.db.query(`SELECT * FROM ${table} ORDER BY position`)).rows;
      return out;
    };
    const before = await snapshot();
    expect(before.internal_users.length).toBe(3);
    expect(before.worker_accounts.length).toBe(1);
    expect(before.signing_keys.length).toBe(2);
    await t.db.query(`UPDATE internal_users SET name = 'garbage'`);
    const events = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n;
    expect(await rebuildCiam(t.db)).toBe(events);
    expect(await snapshot()).toEqual(before);
  });
});
