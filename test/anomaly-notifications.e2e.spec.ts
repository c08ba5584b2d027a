import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, companyWithProject, sseClient } from './support/sse.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { okAs, role, rut, today } from './support/workforce.ts';

/**
 * An anomaly reported in Safety reaches the project's managers as a notification, end to
 * end: Safety commits AnomalyReported, its relay (a reactor on Safety's own event log) calls
 * Workforce's raiseNotification as the service, Workforce persists the notification and wakes
 * the gateways, and a manager's open stream receives it with the anomaly's own fields (owned
 * by Safety) resolved through the federated graph. The other company's manager and the
 * reporting worker are not told; a second relay round notifies no one twice.
 */
let stack: TestStack;
const ids: Record<string, string> = {};

const REPORT = `mutation($i: ReportAnomalyInput!) { reportAnomaly(input: $i) { id } }`;
const SELECTION = `kind title body subject { __typename ... on Anomaly { id severity description status project { name company { name } } } }`;
const anomalyNotices = async (headers: Record<string, string>) =>
  ((await okAs(stack, headers, `query { notifications(first: 50) { nodes { id ${SELECTION} } } }`)).notifications.nodes as any[]).filter((n) => n.kind === 'ANOMALY_REPORTED');

async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

beforeAll(async () => {
  stack = await startTestStack('anomaly_notice', { safety: { relay: true, relayPollMs: 200 } });
  const offering = (await okAs(stack, role.admin(), `mutation { createOffering(input: {code: "AN", name: "Anomalies"}) { id } }`)).createOffering.id;
  const a = await companyWithProject(stack, 'Anomaly A', rut(76_500_001), offering);
  const b = await companyWithProject(stack, 'Anomaly B', rut(76_500_002), offering);
  Object.assign(ids, { A: a.companyId, PA: a.projectId, B: b.companyId });
  const assignment = (await okAs(stack, role.admin(), `mutation($p: ID!, $s: Date!) { createAssignment(input: {projectId: $p, name: "Rigger", startsOn: $s}) { id } }`, { p: ids.PA, s: today() })).createAssignment.id;
  ids.w = (await okAs(stack, role.admin(), `mutation($r: String!) { createProfile(input: {rut: $r, firstName: "Ana", lastName: "Reporter"}) { id } }`, { r: rut(17_500_001) })).createProfile.id;
  await okAs(stack, role.admin(), `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids.A, p: ids.w });
  await okAs(stack, role.admin(), `mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`, { a: assignment, p: ids.w });
}, 120_000);
afterAll(async () => stack?.stop());

describe('an anomaly reported in Safety', () => {
  it('notifies the project\'s managers (live on their stream, and in their list) and the admins, once, and nobody else', async () => {
    const managerA = role.manager(ids.A, 'manager.a@anomaly.example');
    const stream = collect(sseClient(stack.gateway.url, managerA), `subscription { notificationAdded { ${SELECTION} } }`);
    // The stream is open once the gateway has registered it: give it a moment before the report.
    await new Promise((r) => setTimeout(r, 500));

    const description = 'Loose scaffolding on level 3 — "quoted" <b>text</b> ☢';
    const anomaly = (await okAs(stack, role.worker(ids.w), REPORT, { i: { projectId: ids.PA, severity: 'HIGH', description } })).reportAnomaly.id;

    // The stream may first deliver the setup's PROFILE_ASSIGNED notice (also addressed to manager A).
    let live: any;
    for (let n = 1; !live; n++) live = (await stream.waitFor(n, 20_000)).find((r) => r.data?.notificationAdded?.kind === 'ANOMALY_REPORTED');
    stream.dispose();
    expect(live.errors).toBeUndefined();
    expect(live.data.notificationAdded).toMatchObject({
      kind: 'ANOMALY_REPORTED',
      subject: { __typename: 'Anomaly', id: anomaly, severity: 'HIGH', description, status: 'OPEN', project: { name: 'Anomaly A Project', company: { name: 'Anomaly A' } } },
    });

    const listed = await until('manager A told', () => anomalyNotices(managerA), (n) => n.length > 0);
    expect(listed.map((n) => n.subject?.id)).toEqual([anomaly]);
    expect((await anomalyNotices(role.admin())).map((n) => n.subject?.id)).toContain(anomaly);
    expect(await anomalyNotices(role.manager(ids.B, 'manager.b@anomaly.example'))).toEqual([]);
    expect(await anomalyNotices(role.worker(ids.w))).toEqual([]);

    // More relay rounds (its poll runs every 200 ms) raise nothing again.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await anomalyNotices(managerA)).length).toBe(1);
  }, 60_000);
});
