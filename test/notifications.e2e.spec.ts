import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { daysFromToday, gqlAs, okAs, role, rut } from './support/workforce.ts';
import { collect, sseClient } from './support/sse.ts';
import { MARK_ALL_CHUNK } from '../subgraphs/workforce/resolvers.ts';

/**
 * Notifications through the gateway: who sees which (the worker, the managers of the
 * company, the admins), paging, read state per reader, the delivery feed, raising from
 * another domain, and subjects resolved with the reader's own permissions.
 */
let stack: TestStack;
const ids: Record<string, string> = {};

const admin = () => role.admin('admin@angelis.test');
const otherAdmin = () => role.admin('second.admin@angelis.test');
const managerA = () => role.manager(ids.A, 'manager.a@a.example');
const secondManagerA = () => role.manager(ids.A, 'manager2.a@a.example');
const managerB = () => role.manager(ids.B, 'manager.b@b.example');
const worker = (key: string) => role.worker(ids[key]);
/** The service identities: another domain's relay, and the gateway's delivery (signed, straight to Workforce). */
const safety = () => role.service('safety');
const delivery = () => role.service('notifications');

const FIELDS = `id kind title body createdAt readAt cursor audience`;
const LIST = `query($unread: Boolean, $first: Int, $after: String) {
  notifications(unreadOnly: $unread, first: $first, after: $after) { nodes { ${FIELDS} } pageInfo { hasNextPage endCursor } }
}`;
const ONE = `query($id: ID!) { notification(id: $id) { ${FIELDS} } }`;
const COUNT = `{ unreadNotificationCount }`;
const FEED = `query($after: String, $first: Int) { notificationFeed(after: $after, first: $first) { nodes { id kind cursor audience } endCursor hasMore } }`;
const HEAD = `{ notificationFeedHead }`;
const MARK = `mutation($id: ID!) { markNotificationRead(id: $id) { id readAt } }`;
const MARK_ALL = `mutation { markAllNotificationsRead }`;
const RAISE = `mutation($i: RaiseNotificationInput!) { raiseNotification(input: $i) { ${FIELDS} } }`;
const SUBJECT = `query($id: ID!) { notification(id: $id) { id subject {
  __typename
  ... on Project { id name faenaCode company { name } }
  ... on Profile { id fullName rut licenses { type } }
  ... on License { id type number expiresOn expiresInDays status profile { fullName } }
  ... on CompanySubscription { id seats offering { code } }
  ... on Anomaly { id }
} } }`;

type Note = { id: string; kind: string; title: string; body: string; createdAt: string; readAt: string | null; cursor: string; audience: string[] };

const list = async (headers: Record<string, string>, vars: Record<string, unknown> = {}) =>
  (await okAs(stack, headers, LIST, { first: 100, ...vars })).notifications as { nodes: Note[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
const kinds = (nodes: Note[]) => nodes.map((n) => n.kind).sort();

/** Events and the notification tables' contents: a refused command leaves them as they were. */
async function stored(): Promise<string> {
  const { rows } = await stack.database.db.query(`SELECT (SELECT count(*) FROM events) AS events,
    (SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM notifications x) AS notifications,
    (SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM notification_reads x) AS reads`);
  return JSON.stringify(rows[0]);
}

let raiseCount = 0;
const raise = (input: Record<string, unknown>, headers = safety()) =>
  gqlAs(stack, headers, RAISE, {
    i: { sourceEventId: `anomaly-event-${++raiseCount}`, kind: 'ANOMALY_REPORTED', title: 'Anomaly', body: 'Reported', subjectType: 'Anomaly', subjectId: `anomaly-${raiseCount}`, ...input },
  });

beforeAll(async () => {
  // The licence check is run by hand below (one scan, judged on the real today).
  stack = await startTestStack('notifications', { env: { ANGELIS_NOTIFICATIONS_SCAN_MS: '0' } });
  const offering = (await okAs(stack, admin(), `mutation { createOffering(input: {code: "NOTE", name: "Notes"}) { id } }`)).createOffering.id;
  ids.offering = offering;
  // A has room; B's 2 seats run out at its second hire (2 of 2 is past 90%).
  for (const [key, taxRut, seats] of [['A', rut(76_400_001), 20], ['B', rut(76_400_002), 2]] as const) {
    ids[key] = (await okAs(stack, admin(), `mutation($r: String!, $n: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`, { r: taxRut, n: `Notify ${key}` })).registerCompany.id;
    ids[`sub${key}`] = (await okAs(stack, admin(), `mutation($c: ID!, $o: ID!, $s: Int!) { subscribe(input: {companyId: $c, offeringId: $o, seats: $s}) { id } }`, { c: ids[key], o: offering, s: seats })).subscribe.id;
  }
  const people = [['w1', 'Wanda', 'A'], ['w2', 'Walter', 'A'], ['w3', 'Wilma', 'B'], ['w4', 'Wes', 'B']] as const;
  for (const [i, [key, name, company]] of people.entries()) {
    ids[key] = (await okAs(stack, admin(), `mutation($r: String!, $f: String!) { createProfile(input: {rut: $r, firstName: $f, lastName: "Notified"}) { id } }`, { r: rut(18_400_001 + i), f: name })).createProfile.id;
    await okAs(stack, admin(), `mutation($c: ID!, $p: ID!) { hireProfile(input: {companyId: $c, profileId: $p}) { status } }`, { c: ids[company], p: ids[key] });
  }
  for (const key of ['A', 'B']) {
    ids[`project${key}`] = (await okAs(stack, admin(), `mutation($c: ID!, $f: String!) { createProject(input: {companyId: $c, name: $f, faenaCode: $f, startsOn: "2026-01-01"}) { id } }`, { c: ids[key], f: `FAENA-${key}` })).createProject.id;
    ids[`assignment${key}`] = (await okAs(stack, admin(), `mutation($p: ID!) { createAssignment(input: {projectId: $p, name: "Rigger", startsOn: "2026-01-01"}) { id } }`, { p: ids[`project${key}`] })).createAssignment.id;
  }
  const assign = `mutation($a: ID!, $p: ID!) { assignProfile(assignmentId: $a, profileId: $p) { status } }`;
  await okAs(stack, managerA(), assign, { a: ids.assignmentA, p: ids.w1 });
  await okAs(stack, managerA(), assign, { a: ids.assignmentA, p: ids.w2 });
  await okAs(stack, managerB(), assign, { a: ids.assignmentB, p: ids.w3 });
}, 60_000);
afterAll(async () => stack?.stop());

describe('who sees which notification', () => {
  it('a worker sees their own assignment, about the project, and not a colleague\'s', async () => {
    const own = await list(worker('w1'));
    expect(own.nodes.map((n) => [n.kind, n.title, n.body, n.audience])).toEqual([['PROFILE_ASSIGNED', 'Assigned to FAENA-A', 'Assignment: Rigger', [`profile:${ids.w1}`]]]);
    const colleague = (await list(worker('w2'))).nodes[0];
    expect(colleague.id).not.toBe(own.nodes[0].id);
    const refused = await gqlAs(stack, worker('w1'), ONE, { id: colleague.id });
    expect(refused.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(refused.data?.notification).toBeNull();
    expect((await okAs(stack, worker('w1'), SUBJECT, { id: own.nodes[0].id })).notification.subject).toEqual({
      __typename: 'Project', id: ids.projectA, name: 'FAENA-A', faenaCode: 'FAENA-A', company: { name: 'Notify A' },
    });
  });

  it('a manager sees their company\'s (both assignments), not another company\'s; every manager of the company the same', async () => {
    const a = await list(managerA());
    expect(kinds(a.nodes)).toEqual(['PROFILE_ASSIGNED', 'PROFILE_ASSIGNED']);
    expect(a.nodes.every((n) => n.audience.join() === `managers:${ids.A}`)).toBe(true);
    expect((await list(secondManagerA())).nodes.map((n) => n.id)).toEqual(a.nodes.map((n) => n.id));
    const b = await list(managerB());
    // B: Wilma's assignment, and its second hire used 2 of its 2 seats.
    expect(kinds(b.nodes)).toEqual(['PROFILE_ASSIGNED', 'SEATS_RUNNING_OUT']);
    for (const n of a.nodes) expect((await gqlAs(stack, managerB(), ONE, { id: n.id })).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const seats = b.nodes.find((n) => n.kind === 'SEATS_RUNNING_OUT')!;
    expect(seats.body).toBe('2 of 2 seats are in use');
    expect((await okAs(stack, managerB(), SUBJECT, { id: seats.id })).notification.subject).toEqual({
      __typename: 'CompanySubscription', id: ids.subB, seats: 2, offering: { code: 'NOTE' },
    });
  });

  it('admins see what is addressed to the admins (seats), not the companies\' assignments', async () => {
    const nodes = (await list(admin())).nodes;
    expect(kinds(nodes)).toEqual(['SEATS_RUNNING_OUT']);
    expect(nodes[0].audience).toEqual(['admins']);
    // A worker is never an admin or a manager.
    expect(kinds((await list(worker('w4'))).nodes)).toEqual([]);
  });
});

describe('raiseNotification (another domain\'s hook)', () => {
  it('is FORBIDDEN to users (a manager, a worker, an ordinary admin), and writes nothing', async () => {
    const before = await stored();
    for (const headers of [managerA(), worker('w1'), admin()]) {
      const res = await raise({ projectId: ids.projectA }, headers);
      expect(res.errors?.[0].extensions?.code, JSON.stringify(res)).toBe('FORBIDDEN');
      expect(res.data?.raiseNotification).toBeNull();
    }
    expect(await stored()).toBe(before);
  });

  it('is idempotent on sourceEventId for the service: the second call returns the first notification and writes nothing', async () => {
    const input = { sourceEventId: 'safety:event:42', kind: 'ANOMALY_REPORTED', title: 'Fall risk', body: 'At level 3', subjectType: 'Anomaly', subjectId: 'anomaly-42', projectId: ids.projectA };
    const first = (await okAs(stack, safety(), RAISE, { i: input })).raiseNotification as Note;
    expect(first.audience).toEqual(['admins']);
    const before = await stored();
    const again = (await okAs(stack, safety(), RAISE, { i: { ...input, title: 'Something else' } })).raiseNotification as Note;
    expect(again).toEqual(first);
    expect(await stored()).toBe(before);
    // The project's company's managers are told; the other company's are not.
    expect((await list(managerA())).nodes.map((n) => n.id)).toContain(first.id);
    expect((await list(managerB())).nodes.map((n) => n.id)).not.toContain(first.id);
    expect((await okAs(stack, managerA(), SUBJECT, { id: first.id })).notification.subject).toEqual({ __typename: 'Anomaly', id: 'anomaly-42' });
  });

  it('stores hostile title and body exactly as given', async () => {
    const title = `  '; DROP TABLE notifications; -- <script>alert("x")</script> `;
    const body = `Ω≈ç√ 🦺 \u202Eevil\u202C\n\t${'\\'.repeat(3)} %s %n {{7*7}} \${x} null undefined`;
    const raised = (await raise({ title, body, projectId: ids.projectA })).data!.raiseNotification as Note;
    expect([raised.title, raised.body]).toEqual([title, body]);
    const read = (await okAs(stack, managerA(), ONE, { id: raised.id })).notification as Note;
    expect([read.title, read.body]).toEqual([title, body]);
  });

  it('refuses bad input with a coded error and writes nothing', async () => {
    const before = await stored();
    const cases: [Record<string, unknown>, string][] = [
      [{ title: 'with NUL \u0000' }, 'BAD_USER_INPUT'],
      [{ title: '   ' }, 'BAD_USER_INPUT'],
      [{ subjectType: 'Company' }, 'BAD_USER_INPUT'],
      [{ projectId: 'not-an-id' }, 'BAD_USER_INPUT'],
      [{ projectId: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND'],
      [{ kind: 'NOPE' }, 'BAD_USER_INPUT'],
    ];
    for (const [input, code] of cases) {
      const res = await raise(input);
      expect(res.errors?.[0].extensions?.code, JSON.stringify(input)).toBe(code);
    }
    expect(await stored()).toBe(before);
  });

  it('a subject the reader may see resolves with its fields; one they may not is null', async () => {
    const raised = (await raise({ subjectType: 'Profile', subjectId: ids.w1, projectId: ids.projectA })).data!.raiseNotification as Note;
    expect((await okAs(stack, managerA(), SUBJECT, { id: raised.id })).notification.subject).toEqual({
      __typename: 'Profile', id: ids.w1, fullName: 'Wanda Notified', rut: rut(18_400_001), licenses: [],
    });
    // Addressed to company B's managers too? No: B's managers cannot read it at all.
    expect((await gqlAs(stack, managerB(), SUBJECT, { id: raised.id })).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    // A Profile subject of another company's worker, raised to A's managers: the notification is theirs, the profile is not.
    const foreign = (await raise({ subjectType: 'Profile', subjectId: ids.w3, projectId: ids.projectA })).data!.raiseNotification as Note;
    expect((await okAs(stack, managerA(), SUBJECT, { id: foreign.id })).notification.subject).toBeNull();
  });
});

describe('licence expiry notices', () => {
  it('tells the holder and their companies\' managers, with the licence as subject', async () => {
    const license = (await okAs(stack, managerA(), `mutation($p: ID!, $e: Date!) { grantLicense(input: {profileId: $p, type: "Crane", number: "CR-9", expiresOn: $e}) { id } }`, { p: ids.w1, e: daysFromToday(5) })).grantLicense.id;
    expect(await stack.workforce.notifications.scanLicenses()).toBe(1);
    expect(await stack.workforce.notifications.scanLicenses()).toBe(0);
    const own = (await list(worker('w1'))).nodes.find((n) => n.kind === 'LICENSE_EXPIRING')!;
    expect(own.title).toBe('Crane expires in 5 days');
    expect((await list(managerA())).nodes.map((n) => n.id)).toContain(own.id);
    expect((await list(managerB())).nodes.map((n) => n.id)).not.toContain(own.id);
    // Its audience (every company the holder works for) stays out of the licence's audit trail.
    const trail = (await okAs(stack, managerA(), `query($id: ID!) { auditTrail(entityId: $id, first: 100) { nodes { action } } }`, { id: license })).auditTrail.nodes;
    expect(trail.map((e: { action: string }) => e.action)).toEqual(['LicenseGranted']);
    expect((await okAs(stack, worker('w1'), SUBJECT, { id: own.id })).notification.subject).toEqual({
      __typename: 'License', id: license, type: 'Crane', number: 'CR-9', expiresOn: daysFromToday(5), expiresInDays: 5, status: 'VALID', profile: { fullName: 'Wanda Notified' },
    });
  });
});

describe('paging, unread and read state', () => {
  it('pages newest first across page boundaries without gaps or repeats, unreadOnly too', async () => {
    for (let i = 0; i < 5; i++) await raise({ projectId: ids.projectA, title: `Paged ${i}` });
    const all = (await list(managerA())).nodes;
    expect(all.length).toBeGreaterThanOrEqual(10);
    const createdAt = all.map((n) => n.createdAt);
    expect(createdAt).toEqual([...createdAt].sort().reverse());
    const paged: Note[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await list(managerA(), { first: 3, after });
      expect(page.nodes.length).toBeLessThanOrEqual(3);
      paged.push(...page.nodes);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(Math.ceil(all.length / 3));
    expect(paged.map((n) => n.id)).toEqual(all.map((n) => n.id));

    // Read two (one on each of the first two pages): unreadOnly pages skip exactly those.
    await okAs(stack, managerA(), MARK, { id: all[1].id });
    await okAs(stack, managerA(), MARK, { id: all[4].id });
    const unread: Note[] = [];
    after = null;
    do {
      const page = await list(managerA(), { unread: true, first: 2, after });
      unread.push(...page.nodes);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(unread.map((n) => n.id)).toEqual(all.filter((_, i) => i !== 1 && i !== 4).map((n) => n.id));
    expect((await okAs(stack, managerA(), COUNT)).unreadNotificationCount).toBe(all.length - 2);
  });

  it('read state is per reader: markNotificationRead keeps the first readAt; someone else\'s is NOT_FOUND and writes nothing', async () => {
    const [first] = (await list(secondManagerA(), { unread: true })).nodes;
    const marked = (await okAs(stack, secondManagerA(), MARK, { id: first.id })).markNotificationRead;
    expect(marked.readAt).not.toBeNull();
    const before = await stored();
    expect((await okAs(stack, secondManagerA(), MARK, { id: first.id })).markNotificationRead).toEqual(marked);
    expect(await stored()).toBe(before);
    // The first manager's read state is their own.
    expect((await okAs(stack, managerA(), ONE, { id: first.id })).notification.readAt === marked.readAt).toBe(false);
    for (const headers of [managerB(), worker('w3'), worker('w1')]) {
      const res = await gqlAs(stack, headers, MARK, { id: first.id });
      expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
    const bad = await gqlAs(stack, managerB(), MARK, { id: 'nope' });
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await stored()).toBe(before);
  });

  it('markAllNotificationsRead marks the caller\'s unread ones and answers how many; again 0', async () => {
    const unread = (await okAs(stack, managerB(), COUNT)).unreadNotificationCount;
    expect(unread).toBeGreaterThan(0);
    expect((await okAs(stack, managerB(), MARK_ALL)).markAllNotificationsRead).toBe(unread);
    expect((await okAs(stack, managerB(), COUNT)).unreadNotificationCount).toBe(0);
    expect((await list(managerB(), { unread: true })).nodes).toEqual([]);
    expect((await okAs(stack, managerB(), MARK_ALL)).markAllNotificationsRead).toBe(0);
    // Another reader of the same notifications (an admin: the seats one) is untouched.
    expect((await list(otherAdmin(), { unread: true })).nodes.map((n) => n.kind)).toContain('SEATS_RUNNING_OUT');
  });

  it('anonymous callers are refused', async () => {
    for (const q of [LIST, COUNT, FEED, MARK_ALL]) {
      const res = await gqlAs(stack, {}, q, { id: ids.A });
      expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('notificationFeed (delivery order)', () => {
  it('gives the delivery principal every notification with its whole audience, in cursor order, page by page', async () => {
    const { rows } = await stack.database.db.query<{ id: string; audience: string[] }>('SELECT id::text, audience FROM notifications ORDER BY transaction_id, position');
    const seen: { id: string; cursor: string; audience: string[] }[] = [];
    let after: string | null = null;
    // The feed gives only what committed before every running transaction on the server
    // (other tests' too): read until it has caught up with the table.
    for (let tries = 0; seen.length < rows.length && tries < 100; tries++) {
      const page: { nodes: typeof seen; hasMore: boolean; endCursor: string | null } = (await okAs(stack, delivery(), FEED, { after, first: 4 })).notificationFeed;
      seen.push(...page.nodes);
      after = page.endCursor;
      if (!page.hasMore && seen.length < rows.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.map((n) => [n.id, n.audience])).toEqual(rows.map((r) => [r.id, r.audience]));
    expect(new Set(seen.map((n) => n.cursor)).size).toBe(seen.length);
    // Cursors are fixed width: as plain strings they sort in delivery order.
    const cursors = seen.map((n) => n.cursor);
    expect([...cursors].sort()).toEqual(cursors);
    // Nothing after the end, and the cursor stays where it was.
    const end = (await okAs(stack, delivery(), FEED, { after })).notificationFeed;
    expect(end).toEqual({ nodes: [], endCursor: after, hasMore: false });
    // A later notification comes after the last cursor.
    const later = (await raise({ projectId: ids.projectB })).data!.raiseNotification as Note;
    let next: string[] = [];
    for (let tries = 0; next.length === 0 && tries < 100; tries++) {
      if (tries) await new Promise((r) => setTimeout(r, 100));
      next = (await okAs(stack, delivery(), FEED, { after })).notificationFeed.nodes.map((n: Note) => n.id);
    }
    expect(next).toEqual([later.id]);
  });

  it('gives anyone else only their own, with only their matching audience entries', async () => {
    const listed = (await list(worker('w1'))).nodes;
    let mine: Note[] = [];
    for (let tries = 0; mine.length < listed.length && tries < 100; tries++) {
      if (tries) await new Promise((r) => setTimeout(r, 100));
      mine = (await okAs(stack, worker('w1'), FEED, { first: 100 })).notificationFeed.nodes;
    }
    expect(mine.map((n) => n.id).sort()).toEqual(listed.map((n) => n.id).sort());
    expect(mine.every((n) => n.audience.join() === `profile:${ids.w1}`)).toBe(true);
    // An ordinary admin is not the delivery principal.
    const adminFeed = (await okAs(stack, admin(), FEED, { first: 100 })).notificationFeed.nodes as Note[];
    expect(adminFeed.every((n) => n.audience.join() === 'admins')).toBe(true);
  });

  it('refuses a cursor it did not issue and page sizes out of range', async () => {
    const issued = (await okAs(stack, delivery(), FEED, { first: 1 })).notificationFeed.endCursor as string;
    for (const vars of [{ after: 'garbage' }, { after: Buffer.from('p:1').toString('base64url') }, { after: issued.toUpperCase() }, { after: `${issued}0` }, { first: 0 }, { first: 1001 }]) {
      const res = await gqlAs(stack, delivery(), FEED, vars);
      expect(res.errors?.[0].extensions?.code, JSON.stringify(vars)).toBe('BAD_USER_INPUT');
    }
  });
});

describe('notificationFeedHead (where a starting gateway instance begins)', () => {
  /** The feed read to its end by the delivery principal, once it has caught up with the table. */
  async function feedEnd(): Promise<{ endCursor: string | null; ids: string[] }> {
    const { rows } = await stack.database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications');
    let ids: string[] = [];
    let endCursor: string | null = null;
    for (let tries = 0; tries < 100; tries++) {
      if (tries) await new Promise((r) => setTimeout(r, 100));
      let page: { nodes: Note[]; endCursor: string | null; hasMore: boolean };
      do {
        page = (await okAs(stack, delivery(), FEED, { after: endCursor, first: 1000 })).notificationFeed;
        ids.push(...page.nodes.map((n) => n.id));
        endCursor = page.endCursor;
      } while (page.hasMore);
      if (ids.length >= rows[0].n) break;
    }
    return { endCursor, ids };
  }

  it('is the cursor the delivery principal\'s feed ends at, and moves to the next notification', async () => {
    const { endCursor, ids: all } = await feedEnd();
    expect(all.length).toBeGreaterThan(10);
    expect((await okAs(stack, delivery(), HEAD)).notificationFeedHead).toBe(endCursor);
    // Nothing in the feed after it.
    expect((await okAs(stack, delivery(), FEED, { after: endCursor })).notificationFeed.nodes).toEqual([]);
    const later = (await raise({ projectId: ids.projectA })).data!.raiseNotification as Note;
    let head: string | null = endCursor;
    for (let tries = 0; head === endCursor && tries < 100; tries++) {
      if (tries) await new Promise((r) => setTimeout(r, 100));
      head = (await okAs(stack, delivery(), HEAD)).notificationFeedHead;
    }
    expect(head).toBe(later.cursor);
    expect((await okAs(stack, delivery(), FEED, { after: endCursor })).notificationFeed.nodes.map((n: Note) => n.id)).toEqual([later.id]);
  });

  it('is FORBIDDEN to everyone but the delivery principal (admins, managers, workers, other services), UNAUTHENTICATED anonymously', async () => {
    for (const headers of [admin(), managerA(), managerB(), worker('w1'), worker('w3'), safety()]) {
      const res = await gqlAs(stack, headers, HEAD);
      expect(res.errors?.[0].extensions?.code, JSON.stringify(headers)).toBe('FORBIDDEN');
      expect(res.data?.notificationFeedHead ?? null).toBeNull();
    }
    expect((await gqlAs(stack, {}, HEAD)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    // No development header can claim a service identity (development is the default NODE_ENV).
    for (const user of ['system:notifications', 'system:safety']) {
      expect((await gqlAs(stack, role.admin(user), HEAD)).errors?.[0].extensions?.code, user).toBe('UNAUTHENTICATED');
      expect((await raise({}, role.admin(user))).errors?.[0].extensions?.code, user).toBe('UNAUTHENTICATED');
    }
  });

  it('a gateway instance that starts delivers from the head: the next notification, none of the ones before', async () => {
    // Start once the head has caught up with the table (the horizon is server-wide: other tests' transactions hold it back).
    const { endCursor } = await feedEnd();
    for (let tries = 0; (await okAs(stack, delivery(), HEAD)).notificationFeedHead !== endCursor && tries < 100; tries++) await new Promise((r) => setTimeout(r, 100));
    const instance = await stack.startGateway();
    const stream = collect(sseClient(instance.url, managerA()), `subscription { notificationAdded { id title } }`);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const next = (await raise({ projectId: ids.projectA, title: 'After the start' })).data!.raiseNotification as Note;
      await stream.waitFor(1, 10_000);
      // Time for anything older to arrive too, if the instance had started before the head.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(stream.results.map((r) => r.data.notificationAdded)).toEqual([{ id: next.id, title: 'After the start' }]);
    } finally {
      stream.dispose();
    }
  });
});

describe('markAllNotificationsRead with many unread', () => {
  it('marks them all, in read events of at most MARK_ALL_CHUNK ids each', async () => {
    // A company of its own, so these notifications reach one manager (and the admins) only.
    const company = (await okAs(stack, admin(), `mutation($r: String!) { registerCompany(input: {name: "Bulk", taxRut: $r}) { id } }`, { r: rut(76_400_009) })).registerCompany.id;
    const project = (await okAs(stack, admin(), `mutation($c: ID!) { createProject(input: {companyId: $c, name: "Bulk faena", faenaCode: "BULK-1", startsOn: "2026-01-01"}) { id } }`, { c: company })).createProject.id;
    const total = MARK_ALL_CHUNK * 2 + 7;
    for (let start = 0; start < total; start += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, total - start) }, (_, k) =>
          raise({ sourceEventId: `bulk-${start + k}`, projectId: project, subjectType: 'Project', subjectId: project }).then((r) => expect(r.errors).toBeUndefined()),
        ),
      );
    }
    const bulkManager = role.manager(company, 'bulk.manager@bulk.example');
    expect((await okAs(stack, bulkManager, COUNT)).unreadNotificationCount).toBe(total);
    expect((await okAs(stack, bulkManager, MARK_ALL)).markAllNotificationsRead).toBe(total);
    expect((await okAs(stack, bulkManager, COUNT)).unreadNotificationCount).toBe(0);
    const { rows } = await stack.database.db.query<{ ids: number }>(
      `SELECT jsonb_array_length(data->'notificationIds') AS ids FROM events WHERE event_type = 'NotificationsRead' AND stream_id = $1 ORDER BY global_position`,
      [`notification-reads-bulk.manager@bulk.example`],
    );
    expect(rows.map((r) => r.ids)).toEqual([MARK_ALL_CHUNK, MARK_ALL_CHUNK, 7]);
  }, 120_000);
});
