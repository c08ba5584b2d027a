import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMergedCursor, LATEST_MAX_PAGES, latestVerdict, mergedResults, combinedStatus, PROVIDERS, type Provider, type ResultRow, type SourceRef, type TestResultLookups } from './test-results.ts';

/**
 * The merge and the latest-result rule over a stand-in for the sources' GraphQL answers
 * (a function answering pages exactly as the source kit pages: source id order, `first`
 * rows after the cursor's id, whether more follow). The real round trip is in
 * test/compliance-results.e2e.spec.ts.
 */

const PROJECT: SourceRef = { __typename: 'Project', faenaCode: 'F1', company: { id: 'c' } };
const PERSON = { __typename: 'Profile' as const, rut: '1-9', id: 'p', companies: [] };

function row(provider: Provider, id: number, day: string, result: ResultRow['result'] = 'APPROVED', faenaCode = 'F1'): ResultRow {
  return { provider, sourceId: String(id), rut: '1-9', faenaCode, takenAt: `${day}T00:00:00.000Z`, result, score: null };
}

/** Pages as a source does; `calls` counts them; `down` providers answer UNAVAILABLE. */
function fakeSources(rows: Record<Provider, ResultRow[]>, down: Provider[] = []) {
  const calls: string[] = [];
  const lookups: TestResultLookups = {
    async page(provider, _ref, q) {
      calls.push(provider);
      if (down.includes(provider)) return { failed: 'UNAVAILABLE' };
      const after = q.after ? Number(/^p:(\d+)$/.exec(Buffer.from(q.after, 'base64url').toString())![1]) : 0;
      const all = rows[provider].filter((r) => Number(r.sourceId) > after && (!q.to || r.takenAt.slice(0, 10) <= q.to)).sort((a, b) => Number(a.sourceId) - Number(b.sourceId));
      return { page: { rows: all.slice(0, q.first), hasNextPage: all.length > q.first } };
    },
  };
  return { lookups, calls };
}

async function walk(lookups: TestResultLookups, first: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const c = await mergedResults(lookups, PROJECT, { first, after });
    pages++;
    ids.push(...c.nodes.map((n) => `${n.provider}:${n.sourceId}`));
    if (!c.pageInfo.hasNextPage) return { ids, pages };
    after = c.pageInfo.endCursor;
  }
}

describe('mergedResults', () => {
  it('pages of any size together are the full merge, each row once, every page full but the last', async () => {
    const day = fc.integer({ min: 1, max: 28 }).map((d) => `2026-03-${String(d).padStart(2, '0')}`);
    await fc.assert(
      fc.asyncProperty(fc.array(day, { maxLength: 12 }), fc.array(day, { maxLength: 12 }), fc.integer({ min: 1, max: 7 }), async (s, f, first) => {
        const rows = { SAFERAPP: s.map((d, i) => row('SAFERAPP', i + 1, d)), FIT2000: f.map((d, i) => row('FIT2000', i + 1, d)) };
        const { lookups } = fakeSources(rows);
        const full = (await mergedResults(lookups, PROJECT, { first: 100 })).nodes.map((n) => `${n.provider}:${n.sourceId}`);
        const { ids, pages } = await walk(lookups, first);
        expect(ids).toEqual(full);
        expect(new Set(ids).size).toBe(s.length + f.length);
        expect(pages).toBe(Math.max(1, Math.ceil(ids.length / first)));
        // Each provider's rows keep their own (id) order.
        for (const p of PROVIDERS) expect(ids.filter((x) => x.startsWith(p)).map((x) => Number(x.split(':')[1]))).toEqual(rows[p].map((r) => Number(r.sourceId)));
      }),
    );
  });

  it('merges by taken-at, SAFERAPP first on a tie', async () => {
    const { lookups } = fakeSources({ SAFERAPP: [row('SAFERAPP', 1, '2026-01-02'), row('SAFERAPP', 2, '2026-01-05')], FIT2000: [row('FIT2000', 7, '2026-01-01'), row('FIT2000', 8, '2026-01-02')] });
    const c = await mergedResults(lookups, PROJECT, {});
    expect(c.nodes.map((n) => `${n.provider}:${n.sourceId}`)).toEqual(['FIT2000:7', 'SAFERAPP:1', 'FIT2000:8', 'SAFERAPP:2']);
    expect(decodeMergedCursor(c.pageInfo.endCursor!)).toEqual({ SAFERAPP: 2, FIT2000: 8 });
  });

  it('a provider down: the other\'s rows, the missing one named, its position kept', async () => {
    const { lookups } = fakeSources({ SAFERAPP: [row('SAFERAPP', 1, '2026-01-02')], FIT2000: [row('FIT2000', 7, '2026-01-01'), row('FIT2000', 8, '2026-01-03')] }, ['SAFERAPP']);
    const c = await mergedResults(lookups, PROJECT, { first: 1 });
    expect(c.nodes.map((n) => n.sourceId)).toEqual(['7']);
    expect(c.unavailableProviders).toEqual(['SAFERAPP']);
    expect(decodeMergedCursor(c.pageInfo.endCursor!)).toEqual({ SAFERAPP: 0, FIT2000: 7 });
  });

  it('refuses cursors it did not make and bad filters', async () => {
    const { lookups, calls } = fakeSources({ SAFERAPP: [], FIT2000: [] });
    for (const args of [{ after: Buffer.from('p:3').toString('base64url') }, { after: '%%%' }, { first: 101 }, { from: '2026-02-01', to: '2026-01-01' }, { result: 'MAYBE' }]) {
      await expect(mergedResults(lookups, PROJECT, args)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    }
    expect(calls).toEqual([]);
  });
});

describe('latestVerdict and combinedStatus', () => {
  it('reads every page up to the day and keeps the latest at the faena', async () => {
    // One result a day from 2026-01-01 (id 1) on, alternating faenas F1 (odd ids) and F2; id 151 (2026-05-31, F1) rejected.
    const day = (i: number) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10);
    const many = Array.from({ length: 230 }, (_, i) => row('FIT2000', i + 1, day(i), i + 1 === 151 ? 'REJECTED' : 'APPROVED', i % 2 === 0 ? 'F1' : 'F2'));
    const { lookups, calls } = fakeSources({ SAFERAPP: [], FIT2000: many });
    const v = await latestVerdict(lookups, 'FIT2000', PERSON, 'F1', '2026-05-31');
    expect(v).toMatchObject({ status: 'NOT_APPROVED', latest: { sourceId: '151', takenAt: '2026-05-31T00:00:00.000Z' } });
    expect(calls.length).toBe(2); // 151 results up to the day: two pages of 100
    // A day earlier the latest at F1 is id 149 (approved); F2's id 150 does not count.
    expect(await latestVerdict(lookups, 'FIT2000', PERSON, 'F1', '2026-05-30')).toMatchObject({ status: 'APPROVED', latest: { sourceId: '149' } });
    expect((await latestVerdict(lookups, 'FIT2000', PERSON, 'F1', '2025-12-31')).status).toBe('NO_RESULTS');
    expect((await latestVerdict(lookups, 'FIT2000', PERSON, 'F3', '2026-12-31')).status).toBe('NO_RESULTS');
  });

  it(`reads at most ${LATEST_MAX_PAGES} pages per person and source: beyond, that source is NOT_AVAILABLE`, async () => {
    const results = (n: number) => Array.from({ length: n }, (_, i) => row('SAFERAPP', i + 1, '2026-01-01', 'APPROVED'));
    const full = fakeSources({ SAFERAPP: results(LATEST_MAX_PAGES * 100), FIT2000: [] });
    expect(await latestVerdict(full.lookups, 'SAFERAPP', PERSON, 'F1', '2026-12-31')).toMatchObject({ status: 'APPROVED', latest: { sourceId: String(LATEST_MAX_PAGES * 100) } });
    expect(full.calls).toHaveLength(LATEST_MAX_PAGES);
    const over = fakeSources({ SAFERAPP: results(LATEST_MAX_PAGES * 100 + 1), FIT2000: [] });
    expect(await latestVerdict(over.lookups, 'SAFERAPP', PERSON, 'F1', '2026-12-31')).toEqual({ provider: 'SAFERAPP', status: 'NOT_AVAILABLE', latest: null });
    expect(over.calls).toHaveLength(LATEST_MAX_PAGES);
  });

  it('combines: NOT_APPROVED over APPROVED over NO_RESULTS over NOT_AVAILABLE', () => {
    const v = (...s: ('APPROVED' | 'NOT_APPROVED' | 'NO_RESULTS' | 'NOT_AVAILABLE')[]) => combinedStatus(s.map((status, i) => ({ provider: PROVIDERS[i], status, latest: null })));
    expect(v('APPROVED', 'NOT_APPROVED')).toBe('NOT_APPROVED');
    expect(v('APPROVED', 'NO_RESULTS')).toBe('APPROVED');
    expect(v('APPROVED', 'NOT_AVAILABLE')).toBe('APPROVED');
    expect(v('NO_RESULTS', 'NOT_AVAILABLE')).toBe('NO_RESULTS');
    expect(v('NOT_AVAILABLE', 'NOT_AVAILABLE')).toBe('NOT_AVAILABLE');
  });
});
