/** The channel every domain database notifies on commit; readers of the log listen to it. */
export const EVENTS_CHANNEL = 'angelis_events';

/**
 * Wakes listeners after commits, outside the command transactions: NOTIFY takes a
 * cluster-wide lock held through the commit's WAL flush, so notifying in every
 * transaction serializes all commits. One NOTIFY in flight at a time, and at most one per
 * `intervalMs`: pokes in between coalesce into one more, sent when the interval is up (a
 * listener reads everything committed since its checkpoint, so one wake-up covers many
 * commits, and under load the round trip is not paid per batch).
 */
export class CommitNotifier {
  private busy = false;
  private pending = false;
  private readonly db: { query(text: string): Promise<unknown> };
  private readonly intervalMs;

  constructor(
    db: { query(text: string): Promise<unknown> },
    intervalMs = 5,
  ) {
    this.db = db;
    this.intervalMs = intervalMs;
  }
  poke(): void {
    if (this.busy) {
      this.pending = true;
      return;
    }
    this.busy = true;
    const started = Date.now();
    this.db
      .query(`SELECT pg_notify('${EVENTS_CHANNEL}', '')`)
      .catch(() => {})
      .finally(() => {
        setTimeout(() => {
          this.busy = false;
          if (this.pending) {
            this.pending = false;
            this.poke();
          }
        }, Math.max(0, this.intervalMs - (Date.now() - started))).unref();
      });
  }
}
