import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { daysFromToday, gqlAs, okAs, role, rut } from './support/workforce.ts';

/**
 * Safety & Compliance through the gateway, beside Workforce and CIAM: templates in
 * versions, forms workers submit for their projects, anomalies and their handling, and
 * compliance, for every role (ADMIN, MANAGER of the company, MANAGER of another, the WORKER,
 * another WORKER), across page boundaries, with non-key fields of every entity another
 * subgraph owns (Project.name, Profile.fullName, License.type) selected next to Safety's.
 */
let stack: TestStack;
const ids: Record<string, string> = {};

const admin = () => role.admin();
const managerA = () => role.manager(ids.A, 'manager.a@a.example');
const managerB = () => role.manager(ids.B, 'manager.b@b.example');
const worker1 = () => role.worker(ids.w1);
const worker2 = () => role.worker(ids.w2);
const workerB = () => role.worker(ids.wB);

/** Events and documents Safety stored: a refused command leaves both as they were. */
async function safetyStored(): Promise<string> {
  const { rows } = await stack.safetyDatabase.db.query<{ events: number; docs: string }>(
    `SELECT (SELECT count(*)::int FROM events) AS events, (SELECT md5(coalesce(string_agg(doc::text, '|' ORDER BY kind, id), '')) FROM safety_documents) AS docs`,
  );
  return JSON.stringify(rows[0]);
}

/** An operation that must fail with `code` and store nothing. */
async function refused(headers: Record<string, string>, query: string, variables: Record<string, unknown>, code: string, field?: string) {
  const before = await safetyStored();
  const res = await gqlAs(stack, headers, query, variables);
  expect(res.errors?.[0]?.extensions, JSON.stringify(res).slice(0, 800)).toMatchObject({ code, ...(field ? { field } : {}) });
  expect(await safetyStored()).toBe(before);
  return res.errors![0];
}

const FIELDS_V1 = [
  { key: 'ppe', label: 'PPE worn', type: 'BOOLEAN', required: true },
  { key: 'shift', label: 'Shift', type: 'CHOICE', required: true, options: ['DAY', 'NIGHT'] },
  { key: 'hours', label: 'Hours worked', type: 'NUMBER' },
  { key: 'notes', label: 'Notes', type: 'TEXT' },
];
const FIELDS_V2 = [
  { key: 'ppe', label: 'Protective equipment worn (v2)', type: 'BOOLEAN', required: true },
  { key: 'harness', label: 'Harness checked', type: 'BOOLEAN', required: true },
];

const PUBLISH = `mutation($i: PublishFormTemplateInput!) { publishFormTemplate(input: $i) { id name version mandatory fields { key label type required options } versions { version } company { id name } } }`;
const SUBMIT = `mutation($i: SubmitSafetyFormInput!) { submitSafetyForm(input: $i) { id templateVersion templateName answers { key label type value } project { id name } profile { id fullName } } }`;
const REPORT = `mutation($i: ReportAnomalyInput!) { reportAnomaly(input: $i) { id status severity description reportedBy reporter { id fullName } project { id name } version } }`;
const STEP = `mutation($id: ID!, $s: AnomalyStatus!, $n: String!) { changeAnomalyStatus(id: $id, status: $s, note: $n) { id status resolvedAt steps { from to note changedBy } version } }`;
const ANOMALIES = `query($p: ID!, $first: Int, $after: String, $status: AnomalyStatus, $severity: Severity) {
  project(id: $p) { id name anomalies(first: $first, after: $after, status: $status, severity: $severity) {
    nodes { id description severity status project { name faenaCode } }
    pageInfo { hasNextPage endCursor } } } }`;
const COMPLIANCE = `query($w: ID!, $p: ID!, $on: Date) { profile(id: $w) { fullName compliance(projectId: $p, on: $on) {
  compliant formsComplete licensesValid on
  requiredForms { submitted template { name version } }
  licenses { validOnDay license { id type expiresOn } }
  testResults { status sources { provider status latest { sourceId } } }
  project { name } profile { rut } } } }`;

const mutate = async (headers: Record<string, string>, query: string, variables: Record<string, unknown>) => Object.values(await okAs(stack, headers, query, variables))[0] as any;

beforeAll(async () => {
  stack = await startTestStack('safety');
  const offering = (await okAs(stack, admin(), `mutation { createOffering(input: {code: "SAF", name: "Safety"}) { id } }`)).createOffering.id;
  for (const [key, taxRut] of [['A', rut(76_400_001)], ['B', rut(76_400_002)]]) {
    ids[key] = (await okAs(stack, admin(), `mutation($r: String!, $n: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { r: taxRut, n: `Company ${key}` })).registerCompany.id;
    await okAs(stack, admin(), `mutation($c: ID!, $o: ID!) { subscribe(input: {companyId: $c, offeringId: $o, seats: 20}) { id } }`, { c: ids[key], o: offering });
    ids[`P${key}`] = (await okAs(stack, admin(), `mutation($c: ID!, $f: String!) { createProject(input: {companyId: $c, name: "Faena ${key}", faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, { c: ids[key], f: `SAF-${key}` })).createProject.id;
    ids[`As${key}`] = (await okAs(stack, admin(), `mutation($p: ID!) { createAssignment(input: {projectId: $p, name: "Rigger", startsOn: "2026-01-01"}) { id } }`, { p: ids[`P${key}`] })).createAssignment.id;
  }
  const person = async (key: string, n: number, company: string, assign: boolean) => {
    ids[key] = (await okAs(stack, admin(), `mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Worker", lastName: "${key}"}) { id } }`, { r: rut(n) })).createProfile.id;
    await okAs(stack, admin(), `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids[company], p: ids[key] });
    if (assign) await okAs(stack, admin(), `mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`, { a: ids[`As${company}`], p: ids[key] });
  };
  await person('w1', 17_400_001, 'A', true);
  await person('w2', 17_400_002, 'A', false);
  await person('wB', 17_400_003, 'B', true);
  const grant = `mutation($p: ID!, $t: String!, $i: Date!, $e: Date!) { grantLicense(input: {profileId: $p, type: $t, number: "N-1", issuedOn: $i, expiresOn: $e}) { id } }`;
  ids.lic1 = (await okAs(stack, admin(), grant, { p: ids.w1, t: 'RIGGING', i: daysFromToday(-300), e: daysFromToday(60) })).grantLicense.id;
  await okAs(stack, admin(), grant, { p: ids.w2, t: 'FORKLIFT', i: daysFromToday(-400), e: daysFromToday(-5) });
}, 120_000);
afterAll(async () => stack?.stop());

describe('form templates', () => {
  it('a MANAGER publishes for their company, then a version 2; other roles cannot, and other companies do not see it', async () => {
    const v1 = await mutate(managerA(), PUBLISH, { i: { name: 'Daily check', mandatory: true, fields: FIELDS_V1 } });
    expect(v1).toMatchObject({ version: 1, mandatory: true, company: { id: ids.A, name: 'Company A' } });
    expect(v1.fields[1]).toEqual({ key: 'shift', label: 'Shift', type: 'CHOICE', required: true, options: ['DAY', 'NIGHT'] });
    ids.tpl = v1.id;
    await refused(worker1(), PUBLISH, { i: { name: 'Mine', fields: FIELDS_V1 } }, 'FORBIDDEN');
    await refused(managerB(), PUBLISH, { i: { templateId: ids.tpl, name: 'Hijack', fields: FIELDS_V1 } }, 'NOT_FOUND');
    await refused(managerA(), PUBLISH, { i: { companyId: ids.B, name: 'For B', fields: FIELDS_V1 } }, 'FORBIDDEN');
    await refused(admin(), PUBLISH, { i: { name: 'No company', fields: FIELDS_V1 } }, 'BAD_USER_INPUT', 'companyId');
    await refused(managerA(), PUBLISH, { i: { name: 'Dup keys', fields: [FIELDS_V1[0], FIELDS_V1[0]] } }, 'BAD_USER_INPUT', 'fields[1].key');
    await refused(managerA(), PUBLISH, { i: { name: 'No options', fields: [{ key: 'c', label: 'C', type: 'CHOICE' }] } }, 'BAD_USER_INPUT', 'fields[0].options');
    expect((await okAs(stack, managerB(), `query($id: ID!) { formTemplate(id: $id) { id } }`, { id: ids.tpl })).formTemplate).toBeNull();
    expect((await okAs(stack, worker1(), `query($c: ID!) { formTemplates(companyId: $c) { nodes { id name } } }`, { c: ids.A })).formTemplates.nodes).toEqual([{ id: ids.tpl, name: 'Daily check' }]);
    expect((await okAs(stack, workerB(), `query($c: ID!) { formTemplates(companyId: $c) { nodes { id } } }`, { c: ids.A })).formTemplates.nodes).toEqual([]);
  });

  it('a version 2 never changes a form already submitted against version 1', async () => {
    const form = await mutate(worker1(), SUBMIT, {
      i: { templateId: ids.tpl, templateVersion: 1, projectId: ids.PA, answers: [{ key: 'ppe', value: true }, { key: 'shift', value: 'NIGHT' }, { key: 'hours', value: 9.5 }] },
    });
    ids.form1 = form.id;
    const v2 = await mutate(admin(), PUBLISH, { i: { templateId: ids.tpl, name: 'Daily check v2', mandatory: true, fields: FIELDS_V2 } });
    expect(v2).toMatchObject({ version: 2, name: 'Daily check v2', versions: [{ version: 1 }, { version: 2 }] });
    const seen = (await okAs(stack, worker1(), `query($id: ID!) { safetyForm(id: $id) { templateVersion templateName answers { key label value } template { version } } }`, { id: ids.form1 })).safetyForm;
    expect(seen).toEqual({
      templateVersion: 1,
      templateName: 'Daily check',
      template: { version: 2 },
      answers: [
        { key: 'ppe', label: 'PPE worn', value: true },
        { key: 'shift', label: 'Shift', value: 'NIGHT' },
        { key: 'hours', label: 'Hours worked', value: 9.5 },
      ],
    });
  });
});

describe('safety forms', () => {
  const submit = (answers: unknown[], extra: Record<string, unknown> = {}) => ({ i: { templateId: ids.tpl, templateVersion: 2, projectId: ids.PA, answers, ...extra } });
  const good = [{ key: 'ppe', value: true }, { key: 'harness', value: false }];

  it('refuses wrong types, missing required answers, unknown templates and versions, and projects the worker is not on, storing nothing', async () => {
    await refused(worker1(), SUBMIT, submit([{ key: 'ppe', value: 'yes' }, { key: 'harness', value: true }]), 'BAD_USER_INPUT', 'answers.ppe');
    await refused(worker1(), SUBMIT, submit([{ key: 'ppe', value: true }]), 'BAD_USER_INPUT', 'answers.harness');
    await refused(worker1(), SUBMIT, submit([...good, { key: 'shift', value: 'DAY' }]), 'BAD_USER_INPUT');
    await refused(worker1(), SUBMIT, submit(good, { templateVersion: 3 }), 'BAD_USER_INPUT', 'templateVersion');
    await refused(worker1(), SUBMIT, submit(good, { templateId: '00000000-0000-4000-8000-00000000dead' }), 'BAD_USER_INPUT', 'templateId');
    await refused(worker1(), SUBMIT, submit(good, { templateId: 'not-an-id' }), 'BAD_USER_INPUT', 'templateId');
    await refused(worker2(), SUBMIT, submit(good), 'FORBIDDEN');
    await refused(workerB(), SUBMIT, submit(good), 'FORBIDDEN');
    await refused(workerB(), SUBMIT, submit(good, { templateId: ids.tpl, projectId: ids.PB }), 'BAD_USER_INPUT', 'templateId');
    await refused(managerA(), SUBMIT, submit(good), 'FORBIDDEN');
    // The platform refuses NUL in any string before Safety sees it.
    await refused(worker1(), SUBMIT, submit([{ key: 'ppe', value: true }, { key: 'harness', value: true }, { key: 'x\u0000', value: 1 }]), 'BAD_USER_INPUT');
  });

  it('keeps hostile text verbatim, and shows each form to its worker, their company\'s managers and ADMINs only', async () => {
    const hostile = `'); DROP TABLE safety_documents; -- <script>alert(1)</script> {"$gt": ""}`;
    // Version 1 has a TEXT field.
    const form = await mutate(worker1(), SUBMIT, { i: { templateId: ids.tpl, templateVersion: 1, projectId: ids.PA, answers: [{ key: 'ppe', value: false }, { key: 'shift', value: 'DAY' }, { key: 'notes', value: hostile }] } });
    expect(form.answers.find((a: { key: string }) => a.key === 'notes').value).toBe(hostile);
    expect(form).toMatchObject({ project: { id: ids.PA, name: 'Faena A' }, profile: { id: ids.w1, fullName: 'Worker w1' } });
    const q = `query($id: ID!) { safetyForm(id: $id) { id } }`;
    for (const who of [admin(), managerA(), worker1()]) expect((await okAs(stack, who, q, { id: form.id })).safetyForm).toEqual({ id: form.id });
    for (const who of [managerB(), worker2(), workerB()]) expect((await okAs(stack, who, q, { id: form.id })).safetyForm).toBeNull();
    const mine = (await okAs(stack, worker1(), `query($w: ID!) { profile(id: $w) { fullName safetyForms(first: 1) { nodes { templateVersion project { name } } pageInfo { hasNextPage endCursor } } } }`, { w: ids.w1 })).profile;
    expect(mine.safetyForms.nodes).toEqual([{ templateVersion: 1, project: { name: 'Faena A' } }]);
    expect(mine.safetyForms.pageInfo.hasNextPage).toBe(true);
    const next = (await okAs(stack, worker1(), `query($w: ID!, $a: String) { profile(id: $w) { safetyForms(first: 1, after: $a) { nodes { id } pageInfo { hasNextPage } } } }`, { w: ids.w1, a: mine.safetyForms.pageInfo.endCursor })).profile;
    expect(next.safetyForms).toEqual({ nodes: [{ id: form.id }], pageInfo: { hasNextPage: false } });
    // Project.safetyForms: the worker sees their own; the manager of A every one; an ADMIN too.
    const byProject = async (who: Record<string, string>) =>
      (await okAs(stack, who, `query($p: ID!) { project(id: $p) { name safetyForms(first: 50) { nodes { id profile { fullName } } } } }`, { p: ids.PA })).project;
    expect((await byProject(managerA())).safetyForms.nodes).toHaveLength(2);
    expect((await byProject(admin())).safetyForms.nodes).toHaveLength(2);
    expect((await byProject(worker1())).safetyForms.nodes.map((n: { profile: { fullName: string } }) => n.profile.fullName)).toEqual(['Worker w1', 'Worker w1']);
    expect(await byProject(managerB())).toBeNull();
  });
});

describe('anomalies', () => {
  it('anyone on the project reports one; others cannot; bad input is refused and stores nothing', async () => {
    const reported = await mutate(worker1(), REPORT, { i: { projectId: ids.PA, severity: 'HIGH', description: 'Loose railing on level 2' } });
    expect(reported).toMatchObject({ status: 'OPEN', severity: 'HIGH', reportedBy: ids.w1, reporter: { id: ids.w1, fullName: 'Worker w1' }, project: { id: ids.PA, name: 'Faena A' }, version: 1 });
    ids.anomaly = reported.id;
    const byManager = await mutate(managerA(), REPORT, { i: { projectId: ids.PA, severity: 'LOW', description: 'Oil spill', occurredAt: '2026-01-05T10:00:00Z' } });
    expect(byManager).toMatchObject({ reporter: null, reportedBy: 'manager.a@a.example' });
    await refused(workerB(), REPORT, { i: { projectId: ids.PA, severity: 'LOW', description: 'x' } }, 'FORBIDDEN');
    await refused(worker2(), REPORT, { i: { projectId: ids.PA, severity: 'LOW', description: 'x' } }, 'FORBIDDEN');
    await refused(managerB(), REPORT, { i: { projectId: ids.PA, severity: 'LOW', description: 'x' } }, 'NOT_FOUND');
    await refused(worker1(), REPORT, { i: { projectId: ids.PA, severity: 'LOW', description: '   ' } }, 'BAD_USER_INPUT', 'description');
    await refused(worker1(), REPORT, { i: { projectId: ids.PA, severity: 'LOW', description: 'x'.repeat(2001) } }, 'BAD_USER_INPUT', 'description');
    await refused(worker1(), REPORT, { i: { projectId: ids.PA, severity: 'LOW', description: 'later', occurredAt: '2999-01-01T00:00:00Z' } }, 'BAD_USER_INPUT', 'occurredAt');
  });

  it('managers move it OPEN → IN_PROGRESS → RESOLVED with notes; skips, steps back, long notes and other roles are refused; each step is in the audit trail', async () => {
    await refused(managerA(), STEP, { id: ids.anomaly, s: 'RESOLVED', n: 'done' }, 'BAD_USER_INPUT', 'status');
    await refused(managerA(), STEP, { id: ids.anomaly, s: 'IN_PROGRESS', n: 'x'.repeat(1001) }, 'BAD_USER_INPUT', 'note');
    await refused(worker1(), STEP, { id: ids.anomaly, s: 'IN_PROGRESS', n: 'me' }, 'FORBIDDEN');
    await refused(managerB(), STEP, { id: ids.anomaly, s: 'IN_PROGRESS', n: 'me' }, 'NOT_FOUND');
    expect(await mutate(managerA(), STEP, { id: ids.anomaly, s: 'IN_PROGRESS', n: 'Crew on the way' })).toMatchObject({ status: 'IN_PROGRESS', resolvedAt: null, version: 2 });
    await refused(managerA(), STEP, { id: ids.anomaly, s: 'OPEN', n: 'back' }, 'BAD_USER_INPUT', 'status');
    await refused(managerA(), STEP, { id: ids.anomaly, s: 'IN_PROGRESS', n: 'again' }, 'BAD_USER_INPUT', 'status');
    const done = await mutate(admin(), STEP, { id: ids.anomaly, s: 'RESOLVED', n: 'Railing welded' });
    expect(done.steps).toEqual([
      { from: 'OPEN', to: 'IN_PROGRESS', note: 'Crew on the way', changedBy: 'manager.a@a.example' },
      { from: 'IN_PROGRESS', to: 'RESOLVED', note: 'Railing welded', changedBy: 'admin@angelis.test' },
    ]);
    expect(done.resolvedAt).toEqual(expect.any(String));
    await refused(managerA(), STEP, { id: ids.anomaly, s: 'RESOLVED', n: 'again' }, 'BAD_USER_INPUT', 'status');
    const trail = (await okAs(stack, managerA(), `query($id: ID!) { anomaly(id: $id) { auditTrail { nodes { action actorId data } } } }`, { id: ids.anomaly })).anomaly.auditTrail.nodes;
    expect(trail.map((t: { action: string; actorId: string }) => [t.action, t.actorId])).toEqual([
      ['AnomalyReported', ids.w1],
      ['AnomalyStatusChanged', 'manager.a@a.example'],
      ['AnomalyStatusChanged', 'admin@angelis.test'],
    ]);
    expect(trail[2].data).toMatchObject({ from: 'IN_PROGRESS', to: 'RESOLVED', note: 'Railing welded' });
  });

  it('Project.anomalies pages and filters, with Project.name beside it and Anomaly.project { name }, per role', async () => {
    for (let i = 0; i < 5; i++) await mutate(worker1(), REPORT, { i: { projectId: ids.PA, severity: i % 2 ? 'CRITICAL' : 'MEDIUM', description: `Paged ${i}` } });
    await mutate(workerB(), REPORT, { i: { projectId: ids.PB, severity: 'CRITICAL', description: 'On B' } });
    const all: { id: string; description: string; project: { name: string; faenaCode: string } }[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const project: any = (await okAs(stack, managerA(), ANOMALIES, { p: ids.PA, first: 3, after })).project;
      expect(project.name).toBe('Faena A');
      all.push(...project.anomalies.nodes);
      after = project.anomalies.pageInfo.hasNextPage ? project.anomalies.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(all.map((a) => a.description)).toEqual(['Loose railing on level 2', 'Oil spill', 'Paged 0', 'Paged 1', 'Paged 2', 'Paged 3', 'Paged 4']);
    expect(new Set(all.map((a) => a.project.name))).toEqual(new Set(['Faena A']));
    expect(all[0].project.faenaCode).toBe('SAF-A');
    const critical = (await okAs(stack, worker1(), ANOMALIES, { p: ids.PA, severity: 'CRITICAL' })).project.anomalies.nodes;
    expect(critical.map((a: { description: string }) => a.description)).toEqual(['Paged 1', 'Paged 3']);
    const resolved = (await okAs(stack, admin(), ANOMALIES, { p: ids.PA, status: 'RESOLVED' })).project.anomalies.nodes;
    expect(resolved.map((a: { id: string }) => a.id)).toEqual([ids.anomaly]);
    // Another company's manager and a worker not on the project do not see it at all.
    expect((await okAs(stack, managerB(), ANOMALIES, { p: ids.PA })).project).toBeNull();
    expect((await okAs(stack, workerB(), `query($id: ID!) { anomaly(id: $id) { id } }`, { id: ids.anomaly })).anomaly).toBeNull();
    expect((await okAs(stack, managerB(), `query($id: ID!) { anomaly(id: $id) { id } }`, { id: ids.anomaly })).anomaly).toBeNull();
    expect((await okAs(stack, worker1(), `query($id: ID!) { anomaly(id: $id) { project { name } } }`, { id: ids.anomaly })).anomaly).toEqual({ project: { name: 'Faena A' } });
    // Batched across projects: both projects' anomalies in one query as an ADMIN.
    const both = await okAs(stack, admin(), `{ projects(first: 10) { nodes { name anomalies(first: 1, severity: CRITICAL) { nodes { description } } } } }`);
    expect(both.projects.nodes.map((p: any) => [p.name, p.anomalies.nodes.map((a: any) => a.description)]).sort()).toEqual([['Faena A', ['Paged 1']], ['Faena B', ['On B']]]);
  });
});

describe('compliance', () => {
  it('required forms, licences valid on the day (from Workforce), test results (none in either source)', async () => {
    const c = (await okAs(stack, managerA(), COMPLIANCE, { w: ids.w1, p: ids.PA })).profile;
    expect(c.fullName).toBe('Worker w1');
    expect(c.compliance).toMatchObject({
      compliant: true,
      formsComplete: true,
      licensesValid: true,
      requiredForms: [{ submitted: true, template: { name: 'Daily check v2', version: 2 } }],
      licenses: [{ validOnDay: true, license: { id: ids.lic1, type: 'RIGGING', expiresOn: daysFromToday(60) } }],
      testResults: { status: 'NO_RESULTS', sources: [{ provider: 'SAFERAPP', status: 'NO_RESULTS', latest: null }, { provider: 'FIT2000', status: 'NO_RESULTS', latest: null }] },
      project: { name: 'Faena A' },
      profile: { rut: rut(17_400_001) },
    });
    // Past the licence's expiry it is no longer valid; before the first form, forms are missing.
    const later = (await okAs(stack, worker1(), COMPLIANCE, { w: ids.w1, p: ids.PA, on: daysFromToday(61) })).profile.compliance;
    expect(later).toMatchObject({ compliant: false, licensesValid: false, formsComplete: true, licenses: [{ validOnDay: false }] });
    const w2 = (await okAs(stack, admin(), COMPLIANCE, { w: ids.w2, p: ids.PA })).profile.compliance;
    expect(w2).toMatchObject({ compliant: false, formsComplete: false, licensesValid: false, requiredForms: [{ submitted: false }], licenses: [{ validOnDay: false, license: { type: 'FORKLIFT' } }] });
  });

  it('is refused to other workers and hidden from other companies', async () => {
    const asOther = await gqlAs(stack, worker2(), COMPLIANCE, { w: ids.w1, p: ids.PA });
    // Workforce hides another worker's profile from a worker: nothing to hang compliance on.
    expect(asOther.data?.profile ?? null).toBeNull();
    const asB = await gqlAs(stack, managerB(), COMPLIANCE, { w: ids.w1, p: ids.PA });
    expect(asB.data?.profile ?? null).toBeNull();
    const bad = await gqlAs(stack, managerA(), COMPLIANCE, { w: ids.w1, p: 'nope' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'projectId' });
    const otherProject = await gqlAs(stack, managerA(), COMPLIANCE, { w: ids.w1, p: ids.PB });
    expect(otherProject.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});
