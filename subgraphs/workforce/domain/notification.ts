import { createHash } from 'node:crypto';
import { BadUserInputError } from '../../../platform/errors.ts';
import * as input from '../../../platform/domain/input.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import { NOTIFICATION_KINDS, NOTIFICATION_SUBJECTS, type WorkforceEvent } from '../../../schema/events/workforce.ts';

/**
 * Notifications (NotificationRaised) and read markers (NotificationsRead).
 *
 * How they are modelled:
 * - A notification caused by a Workforce change is derived from that change's event by the
 *   projection, in the same statement (store/projection.ts): ProfileAssigned gives
 *   PROFILE_ASSIGNED; a ProfileHired that brings the seats in use to 90% gives
 *   SEATS_RUNNING_OUT. Same commit, the event's id is the notification's, and the event's
 *   place in the log is its delivery order; a rebuild derives the same rows. Not a second
 *   event in the aggregate's stream: that would bump the aggregate's version, and the
 *   clients' expectedVersion, for something that did not change it.
 * - A notification raised on its own (another domain's through raiseNotification, a
 *   licence expiring) is the only event of its own stream `notification-<id>`, its id
 *   derived from what raised it (notificationIdFor): raising it again finds the stream
 *   there and decides nothing, so it is idempotent, and two instances racing to raise it
 *   meet at the stream's version check (one appends, the other decides again and stops).
 * - Read state is per reader (the identity's userId), in the reader's stream
 *   `notification-reads-<userId>`: one NotificationsRead per mark, listing the ids newly read.
 */

export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export type SubjectType = (typeof NOTIFICATION_SUBJECTS)[number];

export const notificationStream = (notificationId: string) => `notification-${notificationId}`;
export const readsStream = (readerId: string) => `notification-reads-${readerId}`;

/** A stable UUID for what raised a notification (sha-256 of the key, shaped as a version-5-style UUID). */
export function notificationIdFor(key: string): string {
  const h = createHash('sha256').update(`angelis-notification:${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The key a licence's expiry notice is raised under: once per licence, expiry date and threshold. */
export const licenseExpiryKey = (licenseId: string, expiresOn: string, thresholdDays: number) => `license:${licenseId}:${expiresOn}:${thresholdDays}`;

/** Free text as given (hostile strings are stored and returned intact, not trimmed); PostgreSQL text cannot hold NUL. */
function freeText(value: unknown, field: string, max: number, allowEmpty: boolean): string {
  if (typeof value !== 'string') throw new BadUserInputError(`${field} must be text`, field);
  if (!allowEmpty && value.trim().length === 0) throw new BadUserInputError(`${field} must not be empty`, field);
  if (value.length > max) throw new BadUserInputError(`${field} must be at most ${max} characters`, field);
  if (value.includes('\u0000')) throw new BadUserInputError(`${field} must not contain NUL characters`, field);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw new BadUserInputError(`${field} must be one of ${allowed.join(', ')}`, field);
  return value as T;
}

export interface NotificationState {
  raised: boolean;
}

/** A stream of its own (`notification-<id>`): raised or not. */
export const notification = {
  initialState: (): NotificationState => ({ raised: false }),
  evolve(state: NotificationState, event: RecordedEvent<WorkforceEvent>): NotificationState {
    return event.type === 'NotificationRaised' ? { raised: true } : state;
  },
};

export interface ReadsState {
  read: ReadonlySet<string>;
}

/** A reader's stream: what they marked read. */
export const reads = {
  initialState: (): ReadsState => ({ read: new Set() }),
  evolve(state: ReadsState, event: RecordedEvent<WorkforceEvent>): ReadsState {
    const e = event as unknown as WorkforceEvent;
    if (e.type !== 'NotificationsRead') return state;
    return { read: new Set([...state.read, ...e.data.notificationIds]) };
  },
};

export interface RaiseCommand {
  notificationId: string;
  kind: unknown;
  title: unknown;
  body: unknown;
  subjectType: unknown;
  subjectId: unknown;
  audience: string[];
  sourceEventId: string | null;
}

function raised(cmd: RaiseCommand): WorkforceEvent {
  const subjectType = oneOf(cmd.subjectType, NOTIFICATION_SUBJECTS, 'subjectType');
  // Workforce's own entities are named by UUID; Safety's anomalies by whatever id Safety gives them.
  const subjectId = subjectType === 'Anomaly' ? freeText(cmd.subjectId, 'subjectId', 200, false) : input.id(cmd.subjectId, 'subjectId');
  return {
    type: 'NotificationRaised',
    data: {
      notificationId: cmd.notificationId,
      kind: oneOf(cmd.kind, NOTIFICATION_KINDS, 'kind'),
      title: freeText(cmd.title, 'title', 200, false),
      body: freeText(cmd.body, 'body', 4000, true),
      subjectType,
      subjectId,
      audience: [...new Set(cmd.audience)],
      sourceEventId: cmd.sourceEventId,
    },
    // Not listed in the subject's audit trail: its audience names every company the person
    // works for, which a manager of one of them must not learn from that trail.
    subjects: [cmd.notificationId],
  };
}

/** Decisions about notifications. Pure: ids, audiences and names come in as arguments. */
export const decideNotification = {
  /** A notification in a stream of its own: nothing when it was raised already (idempotent). */
  raise(state: NotificationState, cmd: RaiseCommand): WorkforceEvent[] {
    if (state.raised) return [];
    return [raised(cmd)];
  },

  /**
   * LICENSE_EXPIRING, in the notice's own stream: to the holder and the managers of every
   * company they work for now. `thresholdDays` is the notice (30, or 7 when 7 or fewer days are left).
   */
  licenseExpiring(
    state: NotificationState,
    cmd: { notificationId: string; licenseId: string; profileId: string; type: string; expiresOn: string; daysLeft: number; thresholdDays: number; companyIds: string[] },
  ): WorkforceEvent[] {
    return decideNotification.raise(state, {
      notificationId: cmd.notificationId,
      kind: 'LICENSE_EXPIRING',
      title: `${cmd.type} expires ${cmd.daysLeft === 0 ? 'today' : `in ${cmd.daysLeft} day${cmd.daysLeft === 1 ? '' : 's'}`}`.slice(0, 200),
      body: `Licence ${cmd.type} expires on ${cmd.expiresOn} (the ${cmd.thresholdDays}-day notice).`,
      subjectType: 'License',
      subjectId: cmd.licenseId,
      audience: [`profile:${cmd.profileId}`, ...cmd.companyIds.map((c) => `managers:${c}`)],
      sourceEventId: licenseExpiryKey(cmd.licenseId, cmd.expiresOn, cmd.thresholdDays),
    });
  },

  /** Marks notifications read for a reader: only those not read before (nothing when none). */
  markRead(state: ReadsState, cmd: { readerId: string; notificationIds: string[] }): WorkforceEvent[] {
    const fresh = [...new Set(cmd.notificationIds)].filter((id) => !state.read.has(id));
    if (fresh.length === 0) return [];
    return [{ type: 'NotificationsRead', data: { readerId: cmd.readerId, notificationIds: fresh } }];
  },
};
