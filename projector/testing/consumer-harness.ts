import { hostname } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../platform/logger.ts';
import type { EventConnection } from '../source/open-reader.ts';
import type { LakeSource } from '../../schema/lake/contract.ts';
import { workforceLakeSource } from '../../schema/lake/workforce.ts';
import { SourceConsumer, type SourceConsumerOptions } from '../consumer.ts';
import { openDuckDb } from '../lake/duckdb.ts';
import type { LakeStorage } from '../storage/lake-storage.ts';
import { defineLakeViews } from '../views/duckdb-session.ts';

export const TEST_PSEUDONYM_KEY = 'test-pseudonym-key-0123456789';

/** A consumer with test-sized settings; override what a test cares about. */
export function testConsumer(
  connection: EventConnection,
  storage: LakeStorage,
  workDir: string,
  overrides: Partial<SourceConsumerOptions> = {},
): SourceConsumer {
  return new SourceConsumer({
    source: workforceLakeSource, connection, storage, workDir: join(workDir, 'work'), pseudonymKey: TEST_PSEUDONYM_KEY,
    batchSize: 1000, leaseTtlMs: 3000, pollMs: 200, owner: `${hostname()}-${process.pid}-${Math.random()}`,
    compactMinFiles: 1000, compactIntervalMs: 0, log: createLogger('projector-test', 'silent'), ...overrides,
  });
}

/** Runs SQL over the lake as `npm run projector -- query` does (commit-log files, generated views). */
export async function queryLake(storage: LakeStorage, sql: string, scratchDir: string, sources: LakeSource[] = [workforceLakeSource]) {
  const duck = await openDuckDb({ pseudonymKey: TEST_PSEUDONYM_KEY });
  try {
    await defineLakeViews(duck.connection, storage, sources, scratchDir);
    return (await duck.connection.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    duck.close();
  }
}
