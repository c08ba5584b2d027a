import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventStoreMigration } from '../platform/event-store/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../platform/testing/postgres.ts';
import { readCommitLog } from './lake/commit-log.ts';
import { azureLakeStorage } from './storage/azure.ts';
import { parseAzureLakeUrl } from './storage/azure-url.ts';
import type { LakeStorage } from './storage/lake-storage.ts';
import { startAzurite, AZURITE_KEY, type Azurite } from './testing/azurite.ts';
import { queryLake, testConsumer } from './testing/consumer-harness.ts';
import { insertSyntheticEvents } from './testing/synthetic-events.ts';

let t: TestDatabase;
let azurite: Azurite;
let dir: string;
let lake: LakeStorage;

beforeAll(async () => {
  [t, azurite] = await Promise.all([createTestDatabase('proj_azure', [{ service: 'es', migrations: [eventStoreMigration] }]), startAzurite()]);
  await insertSyntheticEvents(t.db.pool, 3_000, 1_000);
  dir = await mkdtemp(join(tmpdir(), 'projector-azure-'));
  lake = await azureLakeStorage(parseAzureLakeUrl(azurite.lakeUrl()), AZURITE_KEY);
});
afterAll(async () => {
  await Promise.all([t?.drop(), azurite?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('projector into Azure Blob storage (Azurite)', () => {
  it('projects, recovers and serves the views through the Blob endpoint only', async () => {
    await lake.put('raw/workforce/ProfileCreated/date=2030-01-01/000000009999-000000009999.parquet', 'orphan');
    await testConsumer(t.settings, lake, dir, { untilCaughtUp: true, batchSize: 1_000 }).start();
    expect(await lake.get('raw/workforce/ProfileCreated/date=2030-01-01/000000009999-000000009999.parquet')).toBeUndefined();
    const state = await readCommitLog(lake, 'workforce');
    expect(state.events).toBe(3_000);
    const rows = await queryLake(lake, `SELECT (SELECT count(*) FROM lake.raw.workforce)::INT AS raw,
      (SELECT count(DISTINCT global_position) FROM lake.raw.workforce)::INT AS distinct_raw,
      (SELECT count(*) FROM angelis.profiles)::INT AS profiles`, join(dir, 'q'));
    // Profiles 1..300 are created; profile 0 only gets an update (event 1), which still makes a row.
    expect(rows).toEqual([{ raw: 3_000, distinct_raw: 3_000, profiles: 301 }]);
  });
});
