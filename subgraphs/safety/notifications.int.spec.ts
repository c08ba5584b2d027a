import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER, identitySecret, verifyIdentity, type Identity } from '../../platform/auth/identity.ts';
import { loadConfig } from '../../platform/config.ts';
import { START } from '../../platform/event-store/types.ts';
import { createLogger } from '../../platform/logger.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/postgres.ts';
import { bootSubgraph } from '../../platform/service/boot.ts';
import type { CommandContext } from './commands.ts';
import { ANOMALY_RELAY, safety as safetySubgraph, type SafetyOptions } from './subgraph.ts';

/**
 * TEST DOUBLE: a tiny HTTP "Workforce" that answers only `raiseNotification` as the
 * notifications contract says (service identity only, idempotent on sourceEventId), and
 * can pretend the mutation has not landed yet (a validation error, as a real Workforce
 * without it would answer). The real end-to-end path is wired after the merge.
 */
class FakeNotificationsSubgraph {
  readonly calls: { identity: Identity; input: Record<string, unknown> }[] = [];
  readonly notifications = new Map<string, string>();
  landed = true;
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const send = (payload: object) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (!this.landed) return send({ errors: [{ message: 'Cannot query field "raiseNotification" on type "Mutation".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
      const identity = verifyIdentity(String(req.headers[IDENTITY_HEADER]), this.secret);
      if (identity.role !== 'ADMIN' || !identity.userId.startsWith('system:')) return send({ errors: [{ message: 'service only', extensions: { code: 'FORBIDDEN' } }] });
      const { query, variables } = JSON.parse(body) as { query: string; variables: { input: Record<string, unknown> } };
      expect(query).toContain('raiseNotification');
      this.calls.push({ identity, input: variables.input });
      const key = String(variables.input.sourceEventId);
      if (!this.notifications.has(key)) this.notifications.set(key, `n-${this.notifications.size + 1}`);
      send({ data: { raiseNotification: { id: this.notifications.get(key) } } });
    });
  });
  private readonly secret: string;

  constructor(secret: string) {
    this.secret = secret;
  }
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/graphql`;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const config = loadConfig({ NODE_ENV: 'test' });
const log = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
const ctx: CommandContext = { actor: { id: 'reporter', kind: 'dev' }, correlationId: 'relay-test' };
const project = { id: '00000000-0000-4000-8000-0000000000b1', companyId: '00000000-0000-4000-8000-0000000000c1' };
let db: TestDatabase;
let fake: FakeNotificationsSubgraph;
const startSafety = (o: SafetyOptions & { port?: number }) => bootSubgraph(safetySubgraph, config, log, o);
let safety: Awaited<ReturnType<typeof startSafety>>;

/** Bounded wait: readers in commit order wait for transactions open anywhere on the server (other test files run beside this one). */
async function until(done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
const report = (description: string) => safety.commands.reportAnomaly(ctx, { project, reporterProfileId: null, severity: 'CRITICAL', description });

beforeAll(async () => {
  db = await createTestDatabase('safety_relay', [], 5);
  fake = new FakeNotificationsSubgraph(identitySecret(config));
  const url = await fake.start();
  safety = await startSafety({ db: db.db, port: 0, workforceUrl: url, relayPollMs: 100 });
});
afterAll(async () => {
  await safety?.stop();
  await fake?.stop();
  await db?.drop();
});

describe('anomaly notifications relay (to Workforce raiseNotification)', () => {
  it('relays each committed AnomalyReported once, as the service identity, and saves its checkpoint in Safety\'s store', async () => {
    const first = await report('Gas leak near the compressor');
    const second = await report('x'.repeat(400));
    await safety.commands.publishTemplate(ctx, { templateId: null, companyId: project.companyId, name: 'Not relayed', fields: [{ key: 'a', label: 'A', type: 'BOOLEAN' }] });
    await until(() => fake.notifications.size === 2);
    await until(async () => (await safety.storage.store.readAll(START, 100)).length === 3);
    const events = await safety.storage.store.readAll(START, 100);
    const reported = events.filter((e) => e.type === 'AnomalyReported');
    expect(fake.calls.map((c) => c.input)).toEqual([
      { sourceEventId: reported[0].eventId, kind: 'ANOMALY_REPORTED', title: 'CRITICAL anomaly reported', body: 'Gas leak near the compressor', subjectType: 'Anomaly', subjectId: first, projectId: project.id },
      expect.objectContaining({ sourceEventId: reported[1].eventId, subjectId: second, body: `${'x'.repeat(279)}…` }),
    ]);
    expect(fake.calls[0].identity).toMatchObject({ userId: 'system:safety', role: 'ADMIN', companyId: null });
    await until(async () => (await safety.storage.documents.loadCheckpoint(ANOMALY_RELAY))?.globalPosition === events[events.length - 1].globalPosition);
  });

  it('keeps the event while Workforce has no raiseNotification yet, and delivers it once it has', async () => {
    fake.landed = false;
    const before = fake.calls.length;
    const waiting = await report('Scaffold tag missing');
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.calls.length).toBe(before);
    const isWaiting = (e: { type: string; data: unknown }) => e.type === 'AnomalyReported' && (e.data as { anomalyId: string }).anomalyId === waiting;
    await until(async () => (await safety.storage.store.readAll(START, 100)).some(isWaiting));
    const event = (await safety.storage.store.readAll(START, 100)).find(isWaiting)!;
    const checkpoint = await safety.storage.documents.loadCheckpoint(ANOMALY_RELAY);
    expect(checkpoint!.globalPosition).toBeLessThan(event.globalPosition);
    fake.landed = true;
    await until(() => fake.calls.some((c) => c.input.subjectId === waiting));
    expect(fake.notifications.size).toBe(3);
  });

  it('at least once: a relay that lost its checkpoint (a crash before saving) calls again, and the idempotent receiver notifies once', async () => {
    // Once the relay has caught up (its checkpoint at the last event), nothing else saves one.
    const all = await safety.storage.store.readAll(START, 100);
    await until(async () => (await safety.storage.documents.loadCheckpoint(ANOMALY_RELAY))?.globalPosition === all[all.length - 1].globalPosition);
    const calls = fake.calls.length;
    await safety.storage.documents.saveCheckpoint(ANOMALY_RELAY, START);
    safety.relay.wake();
    await until(() => fake.calls.length >= calls + 3);
    expect(fake.notifications.size).toBe(3);
    const ids = fake.calls.map((c) => c.input.sourceEventId);
    expect(new Set(ids).size).toBe(3);
  });
});
