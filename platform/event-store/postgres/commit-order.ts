/**
 * Commit order over the `events` table: the one place its SQL is written (the event store's
 * readAll, the projector's COPY reader and rebuild all use it).
 *
 * Positions come from a sequence, so concurrent transactions commit out of position
 * order: ordering by `global_position` alone would skip an event whose transaction
 * committed after a later position was read. Ordering by (transaction_id, global_position)
 * and reading only transactions older than every transaction still running
 * (`pg_snapshot_xmin`) gives an order in which nothing can appear behind a checkpoint.
 * The price: a transaction left open anywhere on the server holds back every reader.
 */

/** Events after a checkpoint, given as SQL expressions (bind parameters or settings). */
export function afterCheckpoint(transactionId: string, globalPosition: string): string {
  return `(transaction_id, global_position) > (${transactionId}::xid8, ${globalPosition}::bigint)`;
}

/** Only events whose transaction, and every one before it, has finished. */
export const COMMITTED_BEFORE_EVERY_RUNNING = 'transaction_id < pg_snapshot_xmin(pg_current_snapshot())';

/**
 * SELECT `columns` of events after a checkpoint, in commit order, at most `limit`.
 * `visibleOnly: false` drops the running-transaction guard, for readers that hold appends
 * off themselves (rebuild locks the table). The LIMIT should be a bound parameter or a
 * constant: with an expression the planner guesses and picks a full scan and sort.
 */
export function commitOrderSelect(o: { columns: string; after: [transactionId: string, globalPosition: string]; limit: string; visibleOnly?: boolean }): string {
  return `SELECT ${o.columns} FROM events
   WHERE ${afterCheckpoint(o.after[0], o.after[1])}${o.visibleOnly === false ? '' : `\n     AND ${COMMITTED_BEFORE_EVERY_RUNNING}`}
   -- Qualified: unqualified, ORDER BY could pick a text alias of the select list
   -- and sort '10' before '9' (and skip the index).
   ORDER BY events.transaction_id, events.global_position
   LIMIT ${o.limit}`;
}
