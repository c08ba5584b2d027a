import { BadUserInputError } from '../../../platform/errors.ts';
import { isServiceIdentity, NOTIFICATION_DELIVERY, serviceIdentity, type Identity } from '../../../platform/auth/identity.ts';
import { COMMITTED_BEFORE_EVERY_RUNNING } from '../../../platform/event-store/postgres.ts';
import { prepared, run, type Queryable } from '../../../platform/postgres/pool.ts';

/** A notification as a reader sees it. */
export interface NotificationRow {
  id: string;
  kind: string;
  title: string;
  body: string;
  subjectType: string;
  subjectId: string;
  createdAt: Date;
  /** Delivery (commit) order position, opaque to clients: its event's transaction id and global position. */
  cursor: string;
  /** The notification event's global position (newest-first paging). */
  position: number;
  /** The audience entries: all of them for the delivery principal, the caller's matching ones otherwise. */
  audience: string[];
  /** The caller's read time; null while unread. */
  readAt: Date | null;
}

/** The gateway's delivery principal: reads every notification with its whole audience (notificationFeed). */
export const DELIVERY_PRINCIPAL = serviceIdentity(NOTIFICATION_DELIVERY).userId;

export const isDeliveryPrincipal = (identity: Identity): boolean => isServiceIdentity(identity, NOTIFICATION_DELIVERY);

/** A service identity (another domain's relay). */
export { isServiceIdentity };

/** The audience entries that address this identity (notifications-contract: profile:, managers:, admins, user:). */
export function audienceEntriesOf(identity: Identity): string[] {
  const entries: string[] = [];
  if (identity.kind === 'internal-user') entries.push(`user:${identity.userId}`);
  if (identity.kind === 'profile' && identity.profileId) entries.push(`profile:${identity.profileId}`);
  if (identity.role === 'MANAGER' && identity.companyId) entries.push(`managers:${identity.companyId}`);
  if (identity.role === 'ADMIN') entries.push('admins');
  return entries;
}

/** A position in delivery order: the NotificationRaised event's transaction id (xid8) and global position. */
export interface FeedPosition {
  transactionId: string;
  position: number;
}

/**
 * Cursors are fixed width: the transaction id (xid8, 64 bits) and the position (bigint) as
 * 16 lowercase hex digits each, so cursors compare as plain strings in commit order.
 */
const HEX_WIDTH = 16;

export function encodeNotificationCursor(p: FeedPosition): string {
  return [BigInt(p.transactionId), BigInt(p.position)].map((n) => n.toString(16).padStart(HEX_WIDTH, '0')).join('');
}

/** The position a cursor names (one spelling per position: lowercase, full width), or BAD_USER_INPUT. */
export function decodeNotificationCursor(cursor: string, field = 'after'): FeedPosition {
  const m = /^([0-9a-f]{16})([0-9a-f]{16})$/.exec(cursor);
  const position = m ? Number.parseInt(m[2], 16) : NaN;
  if (!m || !Number.isSafeInteger(position)) throw new BadUserInputError(`${field} is not a notification cursor this API returned`, field);
  return { transactionId: BigInt(`0x${m[1]}`).toString(), position };
}

/**
 * A reader's view of notifications: $1 the reader's entries (null: every notification, whole
 * audiences), $2 the reader's userId (their read state).
 */
const COLUMNS = `n.id, n.kind, n.title, n.body, n.subject_type AS "subjectType", n.subject_id AS "subjectId", n.created_at AS "createdAt",
  n.transaction_id::text AS "transactionId", n.position,
  CASE WHEN $1::text[] IS NULL THEN n.audience ELSE ARRAY(SELECT a FROM unnest(n.audience) a WHERE a = ANY($1::text[])) END AS audience,
  r.read_at AS "readAt"`;
const FROM = `notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.reader_id = $2`;
const ADDRESSED = `($1::text[] IS NULL OR n.audience && $1::text[])`;

/**
 * The feed's end for the delivery principal: the highest (transaction_id, position) below
 * the commit-order horizon, read backwards on notifications_commit_order (one index row,
 * never a scan of the table). Exported for the plan check in notifications.int.spec.ts.
 */
export const FEED_HEAD = prepared(
  'wf_nt_feed_head',
  `SELECT transaction_id::text AS "transactionId", position FROM notifications
   WHERE ${COMMITTED_BEFORE_EVERY_RUNNING}
   ORDER BY transaction_id DESC, position DESC LIMIT 1`,
);

const Q = {
  byIds: prepared('wf_nt_by_ids', `SELECT ${COLUMNS} FROM ${FROM} WHERE n.id = ANY($3::uuid[]) AND ${ADDRESSED}`),
  // Newest first: $3 before this position (0: from the newest), $4 rows, $5 unread only.
  page: prepared(
    'wf_nt_page',
    `SELECT ${COLUMNS} FROM ${FROM}
     WHERE ${ADDRESSED} AND ($3::bigint = 0 OR n.position < $3) AND (NOT $5::boolean OR r.read_at IS NULL)
     ORDER BY n.position DESC LIMIT $4`,
  ),
  unreadCount: prepared(
    'wf_nt_unread_count',
    `SELECT count(*)::int AS n FROM ${FROM} WHERE n.audience && $1::text[] AND r.read_at IS NULL`,
  ),
  unreadIds: prepared('wf_nt_unread_ids', `SELECT n.id FROM ${FROM} WHERE n.audience && $1::text[] AND r.read_at IS NULL ORDER BY n.position LIMIT $3`),
  // Commit order after ($3, $4), only transactions older than every running one (commit-order.ts), $5 rows.
  feed: prepared(
    'wf_nt_feed',
    `SELECT ${COLUMNS} FROM ${FROM}
     WHERE ${ADDRESSED} AND (n.transaction_id, n.position) > ($3::xid8, $4::bigint) AND ${COMMITTED_BEFORE_EVERY_RUNNING.replace('transaction_id', 'n.transaction_id')}
     ORDER BY n.transaction_id, n.position LIMIT $5`,
  ),
  highest: prepared(
    'wf_nt_highest',
    `SELECT transaction_id::text AS "transactionId", position FROM notifications WHERE id = ANY($1::uuid[]) ORDER BY transaction_id DESC, position DESC LIMIT 1`,
  ),
  // Licences expiring from $1 to $2 (today + 30 days) whose notice for their threshold
  // (7 days left or fewer: 7; else 30) is not raised yet; the key is licenseExpiryKey's.
  dueLicenses: prepared(
    'wf_nt_due_licenses',
    `SELECT d.* FROM (
       SELECT l.id, l.profile_id AS "profileId", l.type, l.expires_on::text AS "expiresOn", (l.expires_on - $1::date) AS "daysLeft",
              CASE WHEN l.expires_on - $1::date <= 7 THEN 7 ELSE 30 END AS threshold, l.position,
              ARRAY(SELECT pc.company_id::text FROM profile_companies pc WHERE pc.profile_id = l.profile_id AND pc.status = 'ACTIVE' ORDER BY pc.position) AS "companyIds"
       FROM licenses l WHERE NOT l.revoked AND l.expires_on >= $1::date AND l.expires_on <= $2::date
     ) d
     WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.source_event_id = 'license:' || d.id || ':' || d."expiresOn" || ':' || d.threshold)
     ORDER BY d."expiresOn", d.position LIMIT $3`,
  ),
};

type Raw = Omit<NotificationRow, 'cursor'> & { transactionId: string };
const toRow = ({ transactionId, ...r }: Raw): NotificationRow => ({ ...r, cursor: encodeNotificationCursor({ transactionId, position: r.position }) });
const rows = async (q: Queryable, stmt: Parameters<typeof run>[1], values: unknown[]) => ((await run<Raw>(q, stmt, values)).rows).map(toRow);

/** A licence due for an expiry notice. */
export interface DueLicense {
  id: string;
  profileId: string;
  type: string;
  expiresOn: string;
  daysLeft: number;
  /** The notice it is due for: 30 or 7 (days before expiry). */
  threshold: number;
  /** Companies the holder works for now. */
  companyIds: string[];
}

/** `entries` null: every notification with its whole audience (the delivery principal). */
export const notificationStore = {
  byIds: (q: Queryable, entries: string[] | null, readerId: string, ids: readonly string[]) => rows(q, Q.byIds, [entries, readerId, ids]),
  /** Newest first; `beforePosition` 0 starts at the newest; `limit` rows. */
  page: (q: Queryable, entries: string[], readerId: string, o: { beforePosition: number; limit: number; unreadOnly: boolean }) =>
    rows(q, Q.page, [entries, readerId, o.beforePosition, o.limit, o.unreadOnly]),
  unreadCount: async (q: Queryable, entries: string[], readerId: string) => (await run<{ n: number }>(q, Q.unreadCount, [entries, readerId])).rows[0].n,
  /** At most `limit` of the reader's unread ids, oldest first. */
  unreadIds: async (q: Queryable, entries: string[], readerId: string, limit: number) =>
    (await run<{ id: string }>(q, Q.unreadIds, [entries, readerId, limit])).rows.map((r) => r.id),
  /** Delivery order after `after` (null: from the start), committed below every running transaction. */
  feed: (q: Queryable, entries: string[] | null, readerId: string, after: FeedPosition | null, limit: number) =>
    rows(q, Q.feed, [entries, readerId, after?.transactionId ?? '0', after?.position ?? 0, limit]),
  /** The last position the feed gives now, over every notification (null: it gives none yet). */
  head: async (q: Queryable): Promise<FeedPosition | null> => (await run<FeedPosition>(q, FEED_HEAD, [])).rows[0] ?? null,
  /** The latest in delivery order of these notifications (null: none of them exists). */
  highest: async (q: Queryable, ids: readonly string[]): Promise<FeedPosition | null> =>
    (await run<FeedPosition>(q, Q.highest, [ids])).rows[0] ?? null,
  /** Licences expiring from `today` to `until` without the notice they are due for (30 days, or 7 when 7 or fewer are left). */
  dueLicenses: async (q: Queryable, today: string, until: string, limit: number): Promise<DueLicense[]> =>
    (await run<DueLicense>(q, Q.dueLicenses, [today, until, limit])).rows,
};
