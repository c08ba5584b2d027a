import type pg from 'pg';
import type { Db } from '../postgres/pool.ts';
import { run } from '../postgres/pool.ts';
import { commitOrderSelect } from './postgres/commit-order.ts';
import type { RecordedEvent } from './types.ts';

const BATCH = 5_000;

const COLUMNS = `global_position AS "globalPosition", transaction_id::text AS "transactionId", stream_id AS "streamId",
  stream_version AS "streamVersion", event_id AS "eventId", event_type AS type, event_version AS version, data, metadata,
  occurred_at AS "occurredAt"`;
// With appends paused every event is committed, so plain commit order is complete.
const REPLAY = commitOrderSelect({ columns: COLUMNS, after: ['$1', '$2'], limit: '$3', visibleOnly: false });

/**
 * Rebuilds a domain's read tables from its events: one transaction that pauses appends
 * (EXCLUSIVE lock on `events`), truncates the tables and replays every event in commit
 * order through the same projection the commands use. Readers keep the old rows until commit.
 */
export async function rebuildReadModel(
  db: Db,
  readTables: string[],
  project: (tx: pg.PoolClient, events: RecordedEvent[]) => Promise<unknown>,
  onProgress?: (replayed: number) => void,
): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('LOCK TABLE events IN EXCLUSIVE MODE');
    await tx.query(`TRUNCATE ${readTables.map((t) => `"${t}"`).join(', ')}`);
    let after = { tx: '0', pos: 0 };
    let replayed = 0;
    for (;;) {
      const { rows } = await run<RecordedEvent>(tx, REPLAY, [after.tx, after.pos, BATCH]);
      if (rows.length === 0) break;
      await project(tx, rows);
      replayed += rows.length;
      const last = rows[rows.length - 1];
      after = { tx: last.transactionId, pos: last.globalPosition };
      onProgress?.(replayed);
    }
    return replayed;
  });
}
