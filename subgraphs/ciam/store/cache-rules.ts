import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import { eventTags, pointIds, type ReadRules } from '../../../platform/response-cache/reads.ts';
import { internalUserStream } from '../domain/internal-user.ts';
import { workerAccountStream } from '../domain/worker-account.ts';

/** Every table CIAM's projection writes (store/projection.ts). */
export const CIAM_TABLES = ['internal_users', 'worker_accounts', 'signing_keys'] as const;

/** The table an event's projection statement writes (store/projection.ts), by the account's kind; none for a failed login to no account. */
function tablesWritten(event: RecordedEvent): readonly string[] {
  const data = (event.data ?? {}) as { accountKind?: string | null };
  const byKind = () => (data.accountKind === 'internal-user' ? ['internal_users'] : data.accountKind === 'profile' ? ['worker_accounts'] : []);
  switch (event.type) {
    case 'UserInvited':
    case 'PasswordSet':
    case 'RoleChanged':
      return ['internal_users'];
    case 'WorkerLoginEnabled':
      return ['worker_accounts'];
    case 'LoginFailed':
    case 'AccountLocked':
    case 'LoginSucceeded':
    case 'LoginCodeSent':
    case 'SessionRevoked':
      return byKind();
    case 'SigningKeyCreated':
      return ['signing_keys'];
    default:
      return CIAM_TABLES;
  }
}

/**
 * What CIAM's answers may be cached by (platform/response-cache/reads.ts). An account's
 * row belongs to the account's stream (logins, locks and revocations included), so a read
 * by id is tagged with the stream; lists with their tables, which each event bumps as its
 * projection writes them (a failed login to no account writes, and bumps, none).
 * Resolvers decide "my own record" and `me` by the caller's user id: reading it keeps the
 * answer per user (trackCaller). A lock in force ends by time: such answers are not cached
 * (resolvers.ts). Nothing else depends on the date.
 */
export const ciamCacheRules: ReadRules = {
  tables: new Set(CIAM_TABLES),
  personal: new Set(),
  points: {
    ciam_users: (v) => pointIds(v).map(internalUserStream),
    ciam_workers: (v) => pointIds(v).map(workerAccountStream),
  },
  validUntil: () => Number.MAX_SAFE_INTEGER,
  written: (event) => eventTags(event, tablesWritten(event)),
  trackCaller: true,
};
