import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb';

/** Whether a MongoDB error means the connection was lost (a commit then has an unknown outcome). */
export function isMongoConnectionError(err: unknown): boolean {
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return true;
  return err instanceof MongoError && err.hasErrorLabel('UnknownTransactionCommitResult');
}

/** A write that lost to a concurrent transaction (WriteConflict): retrying it from the start may succeed. */
export function isTransientTransactionError(err: unknown): boolean {
  return err instanceof MongoError && err.hasErrorLabel('TransientTransactionError');
}

/** The unique index a duplicate-key error (11000) broke, else null. */
export function duplicateKeyIndex(err: unknown): string | null {
  const e = err as { code?: unknown; errmsg?: unknown; message?: unknown };
  if (e?.code !== 11000) return null;
  const text = String(e.errmsg ?? e.message ?? '');
  return /index: (\S+)/.exec(text)?.[1] ?? 'unknown';
}
