import { defineLakeTable, type LakeSource } from './contract.ts';

/**
 * The lake's one table of test results across the external sources (SaferApp, Fit2000),
 * extracted incrementally from each source by a watermark (not from events): a change row
 * per extracted version of a source row; the view keeps the latest per provider and id.
 */
export const testResultsTable = defineLakeTable({
  name: 'test_results',
  source: 'sources',
  description: 'Test results read from the external sources, one row per provider and source id (latest version)',
  key: ['provider', 'source_id'],
  columns: {
    provider: { type: 'VARCHAR', description: 'SAFERAPP or FIT2000' },
    source_id: { type: 'VARCHAR', description: "the row's id in its source" },
    rut: { type: 'VARCHAR', personal: 'rut', description: "the worker's RUT, pseudonymised like every RUT in the lake" },
    faena_code: { type: 'VARCHAR' },
    taken_at: { type: 'TIMESTAMP', description: 'UTC' },
    result: { type: 'VARCHAR', description: 'APPROVED, REJECTED or PENDING' },
    score: { type: 'DOUBLE' },
    source_updated_at: { type: 'TIMESTAMP', description: 'when the source last changed the row, when it says so (UTC)' },
  },
  // Extracted, not event-fed: one pseudo event type names the single upsert the view reads.
  events: {
    TestResultExtracted: {
      op: 'upsert',
      set: { provider: 'provider', source_id: 'source_id', rut: 'rut', faena_code: 'faena_code', taken_at: 'taken_at', result: 'result', score: 'score', source_updated_at: 'source_updated_at' },
    },
  },
});

/** A source's part of the lake: its commit log and lease under its own name, its rows in test_results. */
export function testResultsLakeSource(name: string): LakeSource {
  return { name, events: {}, tables: [testResultsTable] };
}
