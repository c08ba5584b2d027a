/** A notification as a reader sees it (store/notifications.ts reads them). */
export interface NotificationRow {
  id: string;
  kind: string;
  title: string;
  body: string;
  subjectType: string;
  subjectId: string;
  createdAt: Date;
  /** Delivery (commit) order position, opaque to clients. */
  cursor: string;
  /** The audience entries: all of them for the delivery principal, the caller's matching ones otherwise. */
  audience: string[];
  /** The caller's read time; null while unread. */
  readAt: Date | null;
}
