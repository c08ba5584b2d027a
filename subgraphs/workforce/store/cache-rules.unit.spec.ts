import { describe, expect, it } from 'vitest';
import { tablesRead } from '../../../platform/response-cache/reads.ts';
import { workforceCacheRules as rules } from './cache-rules.ts';
import { TABLES_WRITTEN } from './projection.ts';
import { readModel } from './read-model.ts';
import { EVERYTHING } from './visible-rows.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';

/** The statement a read-model function sends (a Queryable that only records). */
function statementOf(call: (q: never) => Promise<unknown>): Promise<{ name?: string; text: string }> {
  let sent: { name?: string; text: string } | undefined;
  const q = { query: async (s: unknown) => ((sent = typeof s === 'string' ? { text: s } : (s as { name: string; text: string })), { rows: [], rowCount: 0 }) };
  return call(q as never).then(() => sent!);
}

const page = { afterPosition: 0, limit: 10 };
const filter = { today: '2026-12-01', status: null, expiringUntil: null };
const ID = ['00000000-0000-4000-8000-000000000001'];

describe("Workforce's cache rules", () => {
  it('point reads are the by-id statements of tables keyed by their stream id, and read nothing else', async () => {
    const points = {
      wf_rm_companies: ['companies', (q: never) => readModel.companies(q, ID)],
      wf_rm_projects: ['projects', (q: never) => readModel.projects(q, ID)],
      wf_rm_profiles: ['profiles', (q: never) => readModel.profiles(q, ID)],
      wf_rm_personal_data: ['profile_personal_data', (q: never) => readModel.personalData(q, ID, ID[0])],
      wf_rm_offerings: ['offerings', (q: never) => readModel.offerings(q, ID)],
    } as const;
    expect(Object.keys(rules.points).sort()).toEqual(Object.keys(points).sort());
    for (const [name, [table, call]] of Object.entries(points)) {
      const s = await statementOf(call);
      expect(s.name).toBe(name);
      expect(tablesRead(s.text)).toEqual([table]);
      // Keyed by the first parameter, the stream's id.
      expect(s.text).toMatch(/WHERE (id|profile_id) = ANY\(\$1::uuid\[\]\)/);
      expect(rules.points[name]([ID])).toHaveLength(1);
    }
    expect(rules.points.wf_rm_profiles([ID])).toEqual([`profile-${ID[0]}`]);
  });

  it('every table the read model reads is one the projection writes (so every write to it bumps its tag)', async () => {
    const calls = [
      (q: never) => readModel.listProfiles(q, page, 'x', ID[0], EVERYTHING),
      (q: never) => readModel.listLicenses(q, page, filter, ID[0], EVERYTHING),
      (q: never) => readModel.listCompanies(q, page, null, EVERYTHING),
      (q: never) => readModel.listProjects(q, page, null, null, EVERYTHING),
      (q: never) => readModel.projectsByCompany(q, ID, page, null, EVERYTHING),
      (q: never) => readModel.employeesByCompany(q, ID, page, null, EVERYTHING),
      (q: never) => readModel.assignmentsByProject(q, ID, page, EVERYTHING),
      (q: never) => readModel.licensesByProfile(q, ID, filter, EVERYTHING),
      (q: never) => readModel.profileAssignmentsByAssignment(q, ID, 'ASSIGNED', EVERYTHING),
      (q: never) => readModel.activeCounts(q, ID),
      (q: never) => readModel.subscriptionsByCompany(q, ID, EVERYTHING),
    ];
    for (const call of calls) {
      const tables = tablesRead((await statementOf(call)).text)!;
      expect(tables.length).toBeGreaterThan(0);
      for (const t of tables) expect(rules.tables.has(t), t).toBe(true);
    }
  });

  it("an event bumps its stream and every table its projection writes (a hire: the employment, the company's version, a seat notice)", () => {
    const event = { type: 'ProfileHired', streamId: 'company-1' } as RecordedEvent;
    expect(rules.written(event).sort()).toEqual(['s:company-1', 't:companies', 't:notifications', 't:profile_companies']);
    expect(TABLES_WRITTEN.ProfileUpdated).toEqual(['profiles', 'profile_personal_data']);
    // ON CONFLICT ... DO UPDATE SET names no table.
    expect(Object.values(TABLES_WRITTEN).flat()).not.toContain('set');
    // An event type the projection does not know bumps every table.
    expect(rules.written({ type: 'Unknown', streamId: 's' } as RecordedEvent)).toHaveLength(1 + rules.tables.size);
  });

  it('answers hold until the next UTC midnight (statuses are judged on today)', () => {
    const until = rules.validUntil();
    expect(new Date(until).toISOString()).toMatch(/T00:00:00.000Z$/);
    expect(until - Date.now()).toBeGreaterThan(0);
    expect(until - Date.now()).toBeLessThanOrEqual(86_400_000);
  });
});
