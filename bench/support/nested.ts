import { readFileSync } from 'node:fs';
import type { WorkforceCommands } from '../../subgraphs/workforce/commands.ts';
import { mapLimit, rutFor, seedContext } from './seed.ts';

/**
 * The data of the nested read (company -> projects -> assignments -> profiles -> licences),
 * seeded with the domain commands in this process: the same events and projections as
 * mutations, without HTTP. Shared by bench:read and bench:gateway.
 */
export interface NestedShape {
  /** Companies, each with the whole structure below (the profiles are shared: each company hires all of them). */
  companies: number;
  profiles: number;
  projects: number;
  assignmentsPerProject: number;
  licensesPerProfile: number;
}

export interface NestedSeed {
  companyIds: string[];
  profileIds: string[];
}

/** bench/operations/nested-read.graphql */
export const NESTED_READ = readFileSync(new URL('../operations/nested-read.graphql', import.meta.url), 'utf8');

interface NestedRead {
  company: {
    projects: { nodes: { assignments: { nodes: { profiles: { profile: { id: string; licenses: unknown[] } }[] }[] } }[] };
  } | null;
}

/** Profiles and licences in a response, to check a benchmark reads what it claims. */
export function countNestedRead(data: NestedRead): { profiles: number; licenses: number } {
  let profiles = 0;
  let licenses = 0;
  for (const p of data.company?.projects.nodes ?? []) {
    for (const a of p.assignments.nodes) {
      for (const pa of a.profiles) {
        profiles++;
        licenses += pa.profile.licenses.length;
      }
    }
  }
  return { profiles, licenses };
}

/** A check for runLoad: the text of a response that is not the whole nested read, else undefined. */
export function nestedReadCheck(shape: NestedShape): (text: string) => string | undefined {
  const expected = { profiles: shape.profiles, licenses: shape.profiles * shape.licensesPerProfile };
  return (text) => {
    const parsed = JSON.parse(text) as { data?: NestedRead; errors?: unknown[] };
    if (parsed.errors?.length || !parsed.data) return text.slice(0, 300);
    const got = countNestedRead(parsed.data);
    return got.profiles === expected.profiles && got.licenses === expected.licenses ? undefined : `read ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`;
  };
}

export async function seedNested(commands: WorkforceCommands, shape: NestedShape): Promise<NestedSeed> {
  const assignments = shape.projects * shape.assignmentsPerProject;
  if (shape.profiles % assignments !== 0) throw new Error(`profiles must be a multiple of ${assignments} (projects x assignments)`);
  const ctx = seedContext();
  const offeringId = await commands.createOffering(ctx, { code: 'BENCH', name: 'Bench offering', description: null });
  const profileIds = await mapLimit(Array.from({ length: shape.profiles }, (_, i) => i), 8, async (i) => {
    const id = await commands.createProfile(ctx, { rut: rutFor(i), firstName: 'Worker', lastName: `Number ${i}`, email: `worker${i}@bench.test` });
    for (let l = 0; l < shape.licensesPerProfile; l++) {
      await commands.grantLicense(ctx, { profileId: id, type: `Type ${l}`, number: `L-${i}-${l}`, expiresOn: `203${l}-06-30` });
    }
    return id;
  });
  // Companies in parallel; within one company stream, commands run one after another
  // (concurrent ones would only retry).
  const companyIds = await mapLimit(Array.from({ length: shape.companies }, (_, c) => c), 4, async (c) => {
    const companyId = await commands.registerCompany(ctx, { name: `Bench Mining ${c} SpA`, taxRut: rutFor(99_000_000 + c) });
    await commands.subscribe(ctx, { companyId, offeringId, seats: shape.profiles });
    for (const profileId of profileIds) await commands.hireProfile(ctx, { companyId, profileId });
    let next = 0;
    for (let p = 0; p < shape.projects; p++) {
      const projectId = await commands.createProject(ctx, {
        companyId, name: `Faena ${p}`, faenaCode: `BENCH-${c}-${p}`, startsOn: '2024-01-01', endsOn: '2035-12-31',
      });
      for (let a = 0; a < shape.assignmentsPerProject; a++) {
        const assignmentId = await commands.createAssignment(ctx, { projectId, name: `Crew ${a}`, startsOn: '2024-02-01' });
        for (let k = 0; k < shape.profiles / assignments; k++) await commands.assignProfile(ctx, { assignmentId, profileId: profileIds[next++] });
      }
    }
    return companyId;
  });
  return { companyIds, profileIds };
}
