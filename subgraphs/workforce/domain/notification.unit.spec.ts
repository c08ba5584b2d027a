import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../../platform/testing/decider.ts';
import type { WorkforceEvent } from '../../../schema/events/workforce.ts';
import { decideNotification, licenseExpiryKey, notification, notificationIdFor, reads } from './notification.ts';

const N = '00000000-0000-4000-8000-0000000000a1';
const N2 = '00000000-0000-4000-8000-0000000000a2';
const L = '00000000-0000-4000-8000-0000000000b1';
const P = '00000000-0000-4000-8000-0000000000c1';
const C1 = '00000000-0000-4000-8000-0000000000d1';
const C2 = '00000000-0000-4000-8000-0000000000d2';

const raise = (cmd: Record<string, unknown> = {}) => ({
  notificationId: N, kind: 'ANOMALY_REPORTED', title: 'Fall risk', body: 'Level 3', subjectType: 'Anomaly', subjectId: 'anomaly-7',
  audience: [`managers:${C1}`, 'admins', 'admins'], sourceEventId: 'safety-1', ...cmd,
});
const raised: WorkforceEvent = {
  type: 'NotificationRaised',
  data: {
    notificationId: N, kind: 'ANOMALY_REPORTED', title: 'Fall risk', body: 'Level 3', subjectType: 'Anomaly', subjectId: 'anomaly-7',
    audience: [`managers:${C1}`, 'admins'], sourceEventId: 'safety-1',
  },
};

describe('a notification in its own stream', () => {
  const spec = deciderSpec(notification);

  it('is raised once: the audience without repeats, title and body exactly as given', () => {
    spec.given().when((s) => decideNotification.raise(s, raise())).then([raised]);
    const hostile = `  <b>'; DROP TABLE x; --</b> 🦺\n `;
    spec.given().when((s) => decideNotification.raise(s, raise({ title: hostile, body: '' }))).then((events) => {
      expect(events[0].data).toMatchObject({ title: hostile, body: '' });
    });
  });

  it('raising it again decides nothing (idempotent), whatever the second call says', () => {
    spec.given(raised).when((s) => decideNotification.raise(s, raise({ title: 'Different' }))).then([]);
  });

  it('refuses what it cannot store or does not know, naming the field', () => {
    const when = (cmd: Record<string, unknown>) => spec.given().when((s) => decideNotification.raise(s, raise(cmd)));
    when({ title: '  ' }).thenRefuses('BAD_USER_INPUT', 'title');
    when({ title: 'x'.repeat(201) }).thenRefuses('BAD_USER_INPUT', 'title');
    when({ body: 'nul \u0000' }).thenRefuses('BAD_USER_INPUT', 'body');
    when({ body: 42 }).thenRefuses('BAD_USER_INPUT', 'body');
    when({ kind: 'SOMETHING' }).thenRefuses('BAD_USER_INPUT', 'kind');
    when({ subjectType: 'Company' }).thenRefuses('BAD_USER_INPUT', 'subjectType');
    when({ subjectId: '' }).thenRefuses('BAD_USER_INPUT', 'subjectId');
    when({ subjectType: 'Profile', subjectId: 'not-a-uuid' }).thenRefuses('BAD_USER_INPUT', 'subjectId');
  });

  it('a licence notice goes to the holder and the managers of each company they work for', () => {
    const cmd = { notificationId: N, licenseId: L, profileId: P, type: 'Crane', expiresOn: '2026-07-01', daysLeft: 7, thresholdDays: 7, companyIds: [C1, C2] };
    spec.given().when((s) => decideNotification.licenseExpiring(s, cmd)).then([
      {
        type: 'NotificationRaised',
        data: {
          notificationId: N, kind: 'LICENSE_EXPIRING', title: 'Crane expires in 7 days', body: 'Licence Crane expires on 2026-07-01 (the 7-day notice).',
          subjectType: 'License', subjectId: L, audience: [`profile:${P}`, `managers:${C1}`, `managers:${C2}`], sourceEventId: licenseExpiryKey(L, '2026-07-01', 7),
        },
      },
    ]);
    spec.given().when((s) => decideNotification.licenseExpiring(s, { ...cmd, daysLeft: 0, companyIds: [] })).then((events) => {
      expect(events[0].data).toMatchObject({ title: 'Crane expires today', audience: [`profile:${P}`] });
    });
  });
});

describe('notification ids derived from what raised them', () => {
  it('are stable UUIDs, different for different sources, licences, expiry dates and thresholds', () => {
    const keys = ['source:safety-1', 'source:safety-2', licenseExpiryKey(L, '2026-07-01', 30), licenseExpiryKey(L, '2026-07-01', 7), licenseExpiryKey(L, '2026-08-01', 7)];
    const ids = keys.map(notificationIdFor);
    expect(new Set(ids).size).toBe(keys.length);
    expect(keys.map(notificationIdFor)).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('read markers (per reader)', () => {
  const spec = deciderSpec(reads);
  const read = (ids: string[]): WorkforceEvent => ({ type: 'NotificationsRead', data: { readerId: 'u1', notificationIds: ids } });

  it('marks only what the reader has not read yet, once each', () => {
    spec.given().when((s) => decideNotification.markRead(s, { readerId: 'u1', notificationIds: [N, N] })).then([read([N])]);
    spec.given(read([N])).when((s) => decideNotification.markRead(s, { readerId: 'u1', notificationIds: [N, N2] })).then([read([N2])]);
  });

  it('decides nothing when all were read already', () => {
    spec.given(read([N]), read([N2])).when((s) => decideNotification.markRead(s, { readerId: 'u1', notificationIds: [N2, N] })).then([]);
  });
});
