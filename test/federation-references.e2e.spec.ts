import { readFileSync } from 'node:fs';
import { Kind, parse, type ConstDirectiveNode, type ObjectTypeDefinitionNode, type TypeNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { rut } from './support/workforce.ts';
import { InMemoryResultSource } from '../platform/sources/memory.ts';
import type { TestResult } from '../platform/sources/results.ts';

/**
 * Every field one subgraph serves whose type is an entity another subgraph resolves,
 * reached through the gateway with a NON-key field of that entity selected, so the other
 * subgraph's `__resolveReference` really runs. Key fields alone are answered by the first
 * subgraph and never test the hop. The list comes from the supergraph: a new reference
 * fails here until REACH says how to reach it.
 */

interface Reference {
  /** The subgraph that serves the field. */
  subgraph: string;
  parent: string;
  field: string;
  entity: string;
  /** The subgraph whose `__resolveReference` answers the entity's other fields. */
  resolvedBy: string;
}

const directives = (node: { directives?: readonly ConstDirectiveNode[] }, name: string) => (node.directives ?? []).filter((d) => d.name.value === name);
const argument = (d: ConstDirectiveNode, name: string) => {
  const v = d.arguments?.find((a) => a.name.value === name)?.value;
  return v && (v.kind === Kind.ENUM || v.kind === Kind.STRING || v.kind === Kind.BOOLEAN) ? v.value : undefined;
};
const namedType = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type));

/** The cross-subgraph entity references of a supergraph, from its join__type / join__field directives. */
function crossSubgraphReferences(supergraphSdl: string): Reference[] {
  const types = parse(supergraphSdl).definitions.filter((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION);
  const graphs = new Map<string, string>();
  for (const d of parse(supergraphSdl).definitions) {
    if (d.kind !== Kind.ENUM_TYPE_DEFINITION || d.name.value !== 'join__Graph') continue;
    for (const v of d.values ?? []) graphs.set(v.name.value, String(argument(directives(v, 'join__graph')[0], 'name')));
  }
  const graphOf = (d: ConstDirectiveNode) => graphs.get(String(argument(d, 'graph')))!;
  const byName = new Map(types.map((t) => [t.name.value, t]));
  // Which subgraphs serve a field: its join__field graphs (not external), else every graph of its type.
  const owners = (type: ObjectTypeDefinitionNode, field: NonNullable<ObjectTypeDefinitionNode['fields']>[number]) => {
    const joins = directives(field, 'join__field');
    if (joins.length === 0) return new Set(directives(type, 'join__type').map(graphOf));
    return new Set(joins.filter((j) => argument(j, 'external') !== true && argument(j, 'graph') !== undefined).map(graphOf));
  };
  const references: Reference[] = [];
  for (const parent of types) {
    for (const field of parent.fields ?? []) {
      const entity = byName.get(namedType(field.type));
      if (!entity) continue;
      // A set: an entity with several keys has one join__type per key.
      const resolvers = new Set(directives(entity, 'join__type').filter((j) => argument(j, 'key') !== undefined && argument(j, 'resolvable') !== false).map(graphOf));
      for (const subgraph of owners(parent, field)) {
        for (const resolvedBy of resolvers) {
          if (resolvedBy === subgraph) continue;
          // A reference matters only if the other subgraph has fields this one cannot answer.
          const theirs = (entity.fields ?? []).some((f) => owners(entity, f).has(resolvedBy) && !owners(entity, f).has(subgraph));
          if (theirs) references.push({ subgraph, parent: parent.name.value, field: field.name.value, entity: entity.name.value, resolvedBy });
        }
      }
    }
  }
  return references;
}

const keyOf = (r: Reference) => `${r.subgraph}:${r.parent}.${r.field} -> ${r.resolvedBy}:${r.entity}`;

type Role = 'ADMIN' | 'MANAGER' | 'WORKER';
const ROLES: Role[] = ['ADMIN', 'MANAGER', 'WORKER'];

/** What the test set up: a company, its MANAGER (a real internal user), a worker they created and enabled. */
interface Fixture {
  companyId: string;
  companyName: string;
  managerName: string;
  workerId: string;
  workerName: string;
}

/**
 * How to reach each reference: a query selecting a non-key field of the entity, and the
 * data each role must get (MANAGER of the fixture's company, WORKER seeing their own data).
 * Variables available: $worker, $company.
 */
interface Reach {
  query: string;
  expect: Record<Role, (f: Fixture) => unknown>;
  /** Roles the operation refuses before the hop (e.g. a WORKER creating a profile): the error code they get. */
  refused?: Partial<Record<Role, string>>;
  /** Variables of one call (fresh values for operations that create something). */
  variables?: (role: Role, via: string) => Record<string, unknown>;
}

const REACH: Record<string, Reach> = {
  'ciam:Me.company -> workforce:Company': {
    query: `{ me { company { name } } }`,
    expect: {
      // An ADMIN belongs to no company.
      ADMIN: () => ({ me: { company: null } }),
      MANAGER: (f) => ({ me: { company: { name: f.companyName } } }),
      WORKER: (f) => ({ me: { company: { name: f.companyName } } }),
    },
  },
  'ciam:Me.profile -> workforce:Profile': {
    query: `{ me { profile { fullName } } }`,
    expect: {
      ADMIN: () => ({ me: { profile: null } }),
      MANAGER: () => ({ me: { profile: null } }),
      WORKER: (f) => ({ me: { profile: { fullName: f.workerName } } }),
    },
  },
  'ciam:InternalUser.company -> workforce:Company': {
    // Through createdBy so a WORKER reaches an internal user too (they may not list users).
    query: `query($worker: ID!) { profile(id: $worker) { createdBy { name company { name } } } }`,
    expect: Object.fromEntries(ROLES.map((r) => [r, (f: Fixture) => ({ profile: { createdBy: { name: f.managerName, company: { name: f.companyName } } } })])) as Record<Role, (f: Fixture) => unknown>,
  },
  'ciam:WorkerAccount.profile -> workforce:Profile': {
    query: `query($worker: ID!) { workerAccount(profileId: $worker) { profile { fullName } } }`,
    expect: Object.fromEntries(ROLES.map((r) => [r, (f: Fixture) => ({ workerAccount: { profile: { fullName: f.workerName } } })])) as Record<Role, (f: Fixture) => unknown>,
  },
  'ciam:WorkerAccount.company -> workforce:Company': {
    query: `query($worker: ID!) { workerAccount(profileId: $worker) { company { name } } }`,
    expect: Object.fromEntries(ROLES.map((r) => [r, (f: Fixture) => ({ workerAccount: { company: { name: f.companyName } } })])) as Record<Role, (f: Fixture) => unknown>,
  },
  'workforce:Profile.createdBy -> ciam:InternalUser': {
    query: `query($worker: ID!) { profile(id: $worker) { createdBy { name } } }`,
    expect: Object.fromEntries(ROLES.map((r) => [r, (f: Fixture) => ({ profile: { createdBy: { name: f.managerName } } })])) as Record<Role, (f: Fixture) => unknown>,
  },
};


/**
 * The read-only sources (SaferApp, Fit2000) add their results field to Profile and Project:
 * every path to a Profile or Project reaches them. Each source holds one result of the
 * fixture's worker at the fixture's faena (in-memory doubles), so the hop returns a row;
 * a path to someone else's results is FORBIDDEN for a WORKER (only their own).
 */
const FAENA = 'FEDREF-1';
const SOURCE_FIELDS = { saferapp: 'saferAppResults', fit2000: 'fit2000Results' } as const;
const one = { nodes: [{ sourceId: '1' }] };
const none = { nodes: [] };
const all = (value: (f: Fixture) => unknown) => Object.fromEntries(ROLES.map((r) => [r, value])) as Record<Role, (f: Fixture) => unknown>;
for (const [source, F] of Object.entries(SOURCE_FIELDS)) {
  const R = `${F}(first: 5) { nodes { sourceId } }`;
  const entries: Record<string, Reach> = {
    [`ciam:Me.profile -> ${source}:Profile`]: {
      query: `{ me { profile { ${R} } } }`,
      expect: { ADMIN: () => ({ me: { profile: null } }), MANAGER: () => ({ me: { profile: null } }), WORKER: () => ({ me: { profile: { [F]: one } } }) },
    },
    [`ciam:WorkerAccount.profile -> ${source}:Profile`]: {
      query: `query($worker: ID!) { workerAccount(profileId: $worker) { profile { ${R} } } }`,
      expect: all(() => ({ workerAccount: { profile: { [F]: one } } })),
    },
    [`workforce:Query.profile -> ${source}:Profile`]: { query: `query($worker: ID!) { profile(id: $worker) { ${R} } }`, expect: all(() => ({ profile: { [F]: one } })) },
    [`workforce:License.profile -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { licenses { profile { ${R} } } } }`,
      expect: all(() => ({ profile: { licenses: [{ profile: { [F]: one } }] } })),
    },
    [`workforce:ProfileAssignment.profile -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { assignments { profile { ${R} } } } }`,
      expect: all(() => ({ profile: { assignments: [{ profile: { [F]: one } }] } })),
    },
    [`workforce:ProfileCompany.profile -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { companies { profile { ${R} } } } }`,
      expect: all(() => ({ profile: { companies: [{ profile: { [F]: one } }] } })),
    },
    // The worker's supervisor is another person: Workforce shows a WORKER no supervisor at all.
    [`workforce:ProfileCompany.supervisor -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { companies { supervisor { ${R} } } } }`,
      expect: { ADMIN: () => ({ profile: { companies: [{ supervisor: { [F]: none } }] } }), MANAGER: () => ({ profile: { companies: [{ supervisor: { [F]: none } }] } }), WORKER: () => ({ profile: { companies: [{ supervisor: null }] } }) },
    },
    [`workforce:ProfileCompany.reports -> ${source}:Profile`]: {
      query: `query($worker: ID!) { profile(id: $worker) { companies { supervisor { companies { reports { ${R} } } } } } }`,
      expect: {
        ADMIN: () => ({ profile: { companies: [{ supervisor: { companies: [{ reports: [{ [F]: one }] }] } }] } }),
        MANAGER: () => ({ profile: { companies: [{ supervisor: { companies: [{ reports: [{ [F]: one }] }] } }] } }),
        WORKER: () => ({ profile: { companies: [{ supervisor: null }] } }),
      },
    },
    [`workforce:ProfileConnection.nodes -> ${source}:Profile`]: {
      query: `{ profiles(first: 5, search: "Wilma") { nodes { ${R} } } }`,
      expect: all(() => ({ profiles: { nodes: [{ [F]: one }] } })),
    },
    [`workforce:Mutation.updateProfile -> ${source}:Profile`]: {
      query: `mutation($worker: ID!) { updateProfile(id: $worker, input: {firstName: "Wilma"}) { ${R} } }`,
      expect: { ADMIN: () => ({ updateProfile: { [F]: one } }), MANAGER: () => ({ updateProfile: { [F]: one } }), WORKER: () => ({ updateProfile: null }) },
      refused: { WORKER: 'FORBIDDEN' },
    },
    [`workforce:Mutation.createProfile -> ${source}:Profile`]: {
      query: `mutation($rut: String!) { createProfile(input: {rut: $rut, firstName: "Nuevo", lastName: "Perfil"}) { ${R} } }`,
      // A manager's new profile is not yet employed by their company: its results are not theirs to see.
      expect: { ADMIN: () => ({ createProfile: { [F]: none } }), MANAGER: () => ({ createProfile: { [F]: null } }), WORKER: () => ({ createProfile: null }) },
      refused: { MANAGER: 'FORBIDDEN', WORKER: 'FORBIDDEN' },
      variables: () => ({ rut: rut(17_310_000 + fresh++) }),
    },
    [`workforce:Query.project -> ${source}:Project`]: { query: `{ project(faenaCode: "${FAENA}") { ${R} } }`, expect: all(() => ({ project: { [F]: one } })) },
    [`workforce:Assignment.project -> ${source}:Project`]: {
      query: `query($worker: ID!) { profile(id: $worker) { assignments { assignment { project { ${R} } } } } }`,
      expect: all(() => ({ profile: { assignments: [{ assignment: { project: { [F]: one } } }] } })),
    },
    [`workforce:ProjectConnection.nodes -> ${source}:Project`]: {
      // The first project is the faena (the others were created after it, to be closed).
      query: `{ projects(first: 1) { nodes { faenaCode ${R} } } }`,
      expect: all(() => ({ projects: { nodes: [{ faenaCode: FAENA, [F]: one }] } })),
    },
    [`workforce:Mutation.createProject -> ${source}:Project`]: {
      query: `mutation($company: ID!, $faena: String!) { createProject(input: {companyId: $company, name: "Nueva", faenaCode: $faena, startsOn: "2026-01-01"}) { ${R} } }`,
      expect: { ADMIN: () => ({ createProject: { [F]: none } }), MANAGER: () => ({ createProject: { [F]: none } }), WORKER: () => ({ createProject: null }) },
      refused: { WORKER: 'FORBIDDEN' },
      variables: () => ({ faena: `FEDREF-NEW-${fresh++}` }),
    },
    [`workforce:Mutation.closeProject -> ${source}:Project`]: {
      query: `mutation($closable: ID!) { closeProject(id: $closable) { ${R} } }`,
      expect: { ADMIN: () => ({ closeProject: { [F]: none } }), MANAGER: () => ({ closeProject: { [F]: none } }), WORKER: () => ({ closeProject: null }) },
      refused: { WORKER: 'FORBIDDEN' },
      variables: (role, via) => ({ closable: closable[`${source}:${via}:${role}`] ?? closable.any }),
    },
  };
  for (const other of Object.keys(SOURCE_FIELDS).filter((o) => o !== source)) {
    const G = SOURCE_FIELDS[other as keyof typeof SOURCE_FIELDS];
    // Results of one source link the Profile/Project that Workforce and the other source resolve.
    entries[`${source}:TestResult.profile -> workforce:Profile`] = {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { profile { fullName } } } } }`,
      expect: all((f) => ({ profile: { [F]: { nodes: [{ profile: { fullName: f.workerName } }] } } })),
    };
    entries[`${source}:TestResult.profile -> ${other}:Profile`] = {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { profile { ${G} { nodes { sourceId } } } } } } }`,
      expect: all(() => ({ profile: { [F]: { nodes: [{ profile: { [G]: one } }] } } })),
    };
    entries[`${source}:TestResult.project -> workforce:Project`] = {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { project { name } } } } }`,
      expect: all(() => ({ profile: { [F]: { nodes: [{ project: { name: 'Faena Referencias' } }] } } })),
    };
    entries[`${source}:TestResult.project -> ${other}:Project`] = {
      query: `query($worker: ID!) { profile(id: $worker) { ${F} { nodes { project { ${G} { nodes { sourceId } } } } } } }`,
      expect: all(() => ({ profile: { [F]: { nodes: [{ project: { [G]: one } }] } } })),
    };
  }
  Object.assign(REACH, entries);
}
/** Fresh values for operations that create something, and projects each call may close. */
let fresh = 0;
const closable: Record<string, string> = {};

const REFERENCES = crossSubgraphReferences(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));

let stack: TestStack;
const fixture = {} as Fixture;
/** Per role, the headers of each way to sign in: the development headers and a real CIAM access token. */
const credentials = {} as Record<'development headers' | 'CIAM token', Record<Role, Record<string, string>>>;
const PASSWORD = 'correct horse battery staple';

async function gql(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const res = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[] }) };
}

async function ok(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const res = await gql(query, variables, headers);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data;
}

const DEV_ADMIN = { 'x-angelis-dev-user': 'admin@references.test' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const lastCode = () => [...stack.inbox.values()].at(-1)!;

async function verify(challengeId: string): Promise<string> {
  const data = await ok(`mutation($c: ID!, $code: String!) { verifyLoginCode(challengeId: $c, code: $code) { accessToken } }`, { c: challengeId, code: lastCode() }, {});
  return data.verifyLoginCode.accessToken;
}

/** An invited internal user who set a password and signed in: their access token. */
async function internalUser(email: string, name: string, role: 'ADMIN' | 'MANAGER', companyId: string | null): Promise<string> {
  const invite = await ok(
    `mutation($i: InviteUserInput!) { inviteUser(input: $i) { inviteToken } }`,
    { i: { email, name, role, companyId } },
    DEV_ADMIN,
  );
  await ok(`mutation($t: String!, $p: String!) { setPassword(inviteToken: $t, password: $p) { id } }`, { t: invite.inviteUser.inviteToken, p: PASSWORD }, {});
  const challenge = await ok(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { challengeId } }`, { e: email, p: PASSWORD }, {});
  return verify(challenge.login.challengeId);
}

beforeAll(async () => {
  const workerRut = rut(17_300_001);
  const resultOf = (provider: string): TestResult => {
    const takenAt = new Date('2026-11-01T08:00:00Z');
    return { provider, sourceId: '1', position: 1, rut: workerRut, faenaCode: FAENA, takenAt, result: 'APPROVED', score: 90, updatedAt: takenAt };
  };
  stack = await startTestStack('fedrefs', {
    sources: { saferapp: new InMemoryResultSource('SAFERAPP', 'sql', 'SaferApp', [resultOf('SAFERAPP')]), fit2000: new InMemoryResultSource('FIT2000', 'sql', 'Fit2000', [resultOf('FIT2000')]) },
  });
  fixture.companyName = 'Referencias Federadas SpA';
  fixture.managerName = 'Marta Manager';
  const offering = (await ok(`mutation { createOffering(input: {code: "FEDREF", name: "References"}) { id } }`, {}, DEV_ADMIN)).createOffering.id;
  fixture.companyId = (await ok(`mutation($n: String!, $r: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { n: fixture.companyName, r: rut(76_300_001) }, DEV_ADMIN)).registerCompany.id;
  await ok(`mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 5}) { id } }`, { c: fixture.companyId, o: offering }, DEV_ADMIN);

  const managerToken = await internalUser('marta@references.test', fixture.managerName, 'MANAGER', fixture.companyId);
  const adminToken = await internalUser('ada@references.test', 'Ada Admin', 'ADMIN', null);

  // The manager, signed in for real, creates the worker: so Profile.createdBy is a real internal user.
  const created = await ok(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Wilma", lastName: "Worker"}) { id fullName } }`, { r: workerRut }, bearer(managerToken));
  fixture.workerId = created.createProfile.id;
  fixture.workerName = created.createProfile.fullName;
  await ok(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: fixture.companyId, p: fixture.workerId }, DEV_ADMIN);
  await ok(`mutation($p: ID!, $r: String!, $c: ID!) { enableWorkerLogin(profileId: $p, rut: $r, companyId: $c) { rut } }`, { p: fixture.workerId, r: workerRut, c: fixture.companyId }, bearer(managerToken));
  // The faena the sources' results name, the worker on it, a licence, a supervisor; projects to close.
  const project = await ok(`mutation($c: ID!, $f: String!) { createProject(input: {companyId: $c, name: "Faena Referencias", faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, { c: fixture.companyId, f: FAENA }, DEV_ADMIN);
  const assignment = await ok(`mutation($p: ID!) { createAssignment(input: {projectId: $p, name: "Turno", startsOn: "2026-01-01"}) { id } }`, { p: project.createProject.id }, DEV_ADMIN);
  await ok(`mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`, { a: assignment.createAssignment.id, p: fixture.workerId }, DEV_ADMIN);
  await ok(`mutation($p: ID!) { grantLicense(input: {profileId: $p, type: "Rigger", number: "FR-1", expiresOn: "2030-01-01"}) { id } }`, { p: fixture.workerId }, DEV_ADMIN);
  const supervisor = await ok(`mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Sara", lastName: "Supervisora"}) { id } }`, { r: rut(17_300_002) }, DEV_ADMIN);
  await ok(`mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: fixture.companyId, p: supervisor.createProfile.id }, DEV_ADMIN);
  await ok(`mutation($c: ID!, $p: ID!, $s: ID) { setSupervisor(companyId: $c, profileId: $p, supervisorId: $s) { status } }`, { c: fixture.companyId, p: fixture.workerId, s: supervisor.createProfile.id }, DEV_ADMIN);
  for (const source of Object.keys(SOURCE_FIELDS)) {
    for (const via of ['development headers', 'CIAM token']) {
      for (const role of ['ADMIN', 'MANAGER', 'WORKER']) {
        const created = await ok(`mutation($c: ID!, $f: String!) { createProject(input: {companyId: $c, name: "Cerrable", faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, { c: fixture.companyId, f: `FEDREF-C-${fresh++}` }, DEV_ADMIN);
        closable[`${source}:${via}:${role}`] = created.createProject.id;
      }
    }
  }
  const challenge = await ok(`mutation($r: String!) { requestWorkerCode(rut: $r) { challengeId } }`, { r: workerRut }, {});
  const workerToken = await verify(challenge.requestWorkerCode.challengeId);

  credentials['development headers'] = {
    ADMIN: DEV_ADMIN,
    MANAGER: { 'x-angelis-dev-user': 'manager@references.test', 'x-angelis-dev-role': 'MANAGER', 'x-angelis-dev-company': fixture.companyId },
    WORKER: { 'x-angelis-dev-user': 'w', 'x-angelis-dev-role': 'WORKER', 'x-angelis-dev-profile': fixture.workerId, 'x-angelis-dev-company': fixture.companyId },
  };
  credentials['CIAM token'] = { ADMIN: bearer(adminToken), MANAGER: bearer(managerToken), WORKER: bearer(workerToken) };
});
afterAll(async () => stack?.stop());

describe('entity references across subgraphs', () => {
  it('the supergraph has references, and REACH covers exactly them', () => {
    expect(REFERENCES.length).toBeGreaterThan(0);
    const found = REFERENCES.map(keyOf).sort();
    const missing = found.filter((k) => !(k in REACH));
    expect(missing, `add to REACH how to reach: ${missing.join(', ')}`).toEqual([]);
    expect(Object.keys(REACH).sort(), 'REACH names references the supergraph no longer has').toEqual(found);
  });

  for (const via of ['development headers', 'CIAM token'] as const) {
    describe(`signed in with ${via}`, () => {
      for (const reference of REFERENCES) {
        for (const role of ROLES) {
          it(`${keyOf(reference)} as ${role}`, async () => {
            const reach = REACH[keyOf(reference)];
            expect(reach, `no way to reach ${keyOf(reference)} in REACH`).toBeDefined();
            const res = await gql(reach.query, { worker: fixture.workerId, company: fixture.companyId, ...reach.variables?.(role, via) }, credentials[via][role]);
            const refused = reach.refused?.[role];
            if (refused) expect(res.errors?.map((e) => e.extensions?.code), JSON.stringify(res)).toEqual([refused]);
            else expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
            expect(res.data, JSON.stringify(res.data)).toEqual(reach.expect[role](fixture));
          });
        }
      }
    });
  }
});
