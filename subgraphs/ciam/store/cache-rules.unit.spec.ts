import { describe, expect, it } from 'vitest';
import { tablesRead } from '../../../platform/response-cache/reads.ts';
import type { RecordedEvent } from '../../../platform/event-store/types.ts';
import { ciamCacheRules as rules, CIAM_TABLES } from './cache-rules.ts';
import { readModel } from './read-model.ts';

/** The statement a read-model function sends (a Queryable that only records). */
function statementOf(call: (q: never) => Promise<unknown>): Promise<{ name?: string; text: string }> {
  let sent: { name?: string; text: string } | undefined;
  const q = { query: async (s: unknown) => ((sent = typeof s === 'string' ? { text: s } : (s as { name: string; text: string })), { rows: [], rowCount: 0 }) };
  return call(q as never).then(() => sent!);
}
const ID = ['00000000-0000-4000-8000-000000000001'];
const page = { afterPosition: 0, limit: 10 };

describe("CIAM's cache rules", () => {
  it('point reads are the by-id statements of account tables, tagged with the account streams', async () => {
    const users = await statementOf((q) => readModel.users(q, ID));
    const workers = await statementOf((q) => readModel.workers(q, ID));
    expect([users.name, workers.name].sort()).toEqual(Object.keys(rules.points).sort());
    expect(tablesRead(users.text)).toEqual(['internal_users']);
    expect(tablesRead(workers.text)).toEqual(['worker_accounts']);
    expect(rules.points.ciam_users([ID])).toEqual([`internal-user-${ID[0]}`]);
    expect(rules.points.ciam_workers([ID])).toEqual([`worker-account-${ID[0]}`]);
  });

  it('every table the read model reads is one the projection writes, and each event bumps its stream and the tables it writes', async () => {
    for (const call of [(q: never) => readModel.listUsers(q, page, null, 'x'), (q: never) => readModel.listWorkers(q, page, null), (q: never) => readModel.userByEmail(q, 'a@b.c')]) {
      for (const t of tablesRead((await statementOf(call)).text)!) expect(rules.tables.has(t), t).toBe(true);
    }
    const event = (type: string, streamId: string, data: object = {}) => ({ type, streamId, data }) as RecordedEvent;
    // Each event bumps its stream and the table its projection statement writes.
    expect(rules.written(event('LoginSucceeded', 'internal-user-1', { accountKind: 'internal-user' }))).toEqual(['s:internal-user-1', 't:internal_users']);
    expect(rules.written(event('AccountLocked', 'worker-account-1', { accountKind: 'profile' }))).toEqual(['s:worker-account-1', 't:worker_accounts']);
    expect(rules.written(event('RoleChanged', 'internal-user-1'))).toEqual(['s:internal-user-1', 't:internal_users']);
    expect(rules.written(event('SigningKeyCreated', 'signing-keys'))).toEqual(['s:signing-keys', 't:signing_keys']);
    // A failed login to no account writes no row: anonymous traffic cannot drop cached lists.
    expect(rules.written(event('LoginFailed', 'unknown-login-x', { accountId: null, accountKind: null }))).toEqual(['s:unknown-login-x']);
    // An event type the rules do not know bumps every table.
    expect(rules.written(event('Unknown', 's'))).toEqual(['s:s', ...CIAM_TABLES.map((t) => `t:${t}`)]);
    expect(rules.trackCaller).toBe(true);
  });
});
