import { createHash } from 'node:crypto';
import { addDays, todayUtc } from '../domain/input.ts';
import { OUTCOMES, type TestResult } from './results.ts';

/**
 * Development sample results, so a newcomer's `npm start` shows results without the
 * external databases: built from the people and faenas Workforce holds (its seeded RUTs and
 * faena codes), deterministic for a given provider, person and faena. Logged and documented
 * as SAMPLE data; never used in production.
 */

/** A worker and the faenas they are assigned to. */
export interface SamplePerson {
  rut: string;
  faenaCodes: string[];
}

/** Two to four results per person and faena over the last 200 days (ids in order). */
export function sampleResults(provider: string, people: SamplePerson[], today = todayUtc()): TestResult[] {
  const out: TestResult[] = [];
  let id = 0;
  for (const person of people) {
    for (const faenaCode of person.faenaCodes) {
      const h = createHash('sha256').update(`${provider}:${person.rut}:${faenaCode}`).digest();
      const count = 2 + (h[0] % 3);
      for (let i = 0; i < count; i++) {
        const day = addDays(today, -((h[1 + i] * 7 + i * 37) % 200));
        const takenAt = new Date(`${day}T${String(7 + (h[5 + i] % 10)).padStart(2, '0')}:${String(h[9 + i] % 60).padStart(2, '0')}:00Z`);
        const score = 40 + (h[13 + i] % 61);
        id++;
        out.push({
          provider,
          sourceId: String(id),
          position: id,
          rut: person.rut,
          faenaCode,
          takenAt,
          result: score >= 60 ? OUTCOMES[0] : h[17 + i] % 4 === 0 ? OUTCOMES[2] : OUTCOMES[1],
          score,
          updatedAt: takenAt,
        });
      }
    }
  }
  return out;
}

/** The GraphQL query that lists people and their faenas (Workforce's API, one page). */
export const SAMPLE_PEOPLE_QUERY = `query($after: String) {
  profiles(first: 100, after: $after) {
    nodes { rut assignments { assignment { project { faenaCode } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** One page of people as Workforce answers it. */
export interface PeoplePage {
  profiles: { nodes: { rut: string; assignments: { assignment: { project: { faenaCode: string } } }[] }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } | null;
}

/** Every person and their faenas, page by page, through `query` (Workforce's API as the system). */
export async function samplePeople(query: (after: string | null) => Promise<PeoplePage>): Promise<SamplePerson[]> {
  const people: SamplePerson[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1_000; pages++) {
    const page: PeoplePage['profiles'] = (await query(after)).profiles;
    if (!page) break;
    for (const n of page.nodes) {
      const faenaCodes = [...new Set(n.assignments.map((a) => a.assignment.project.faenaCode))];
      if (faenaCodes.length) people.push({ rut: n.rut, faenaCodes });
    }
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return people;
}
