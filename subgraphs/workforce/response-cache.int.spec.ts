import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { IDENTITY_HEADER, identitySecret, serviceIdentity, signIdentity, type Identity } from '../../platform/auth/identity.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/postgres.ts';
import { MemoryPubSub } from '../../platform/redis/pubsub.ts';
import type { TagVersions } from '../../platform/response-cache/versions.ts';
import { CACHE_START_HEADER, formatCacheStart } from '../../platform/response-cache/reads.ts';
import { checkDigit } from '../../platform/domain/rut.ts';
import { bootSubgraph } from '../../platform/service/boot.ts';
import { workforce, workforceConfig } from './subgraph.ts';

/**
 * Workforce's side of the response cache, at the subgraph: which answers carry tags and
 * which do not, and that a write's tags are bumped before its mutation is answered, even
 * when bumping takes retries (and that the write stands when it never succeeds).
 */
const rut = (body: number) => `${body}-${checkDigit(String(body))}`;
const config = loadConfig({ NODE_ENV: 'test', ANGELIS_NOTIFICATIONS_SCAN_MS: '0' }, [workforceConfig]);
const admin: Identity = { userId: 'admin@test', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 's' };

/** Tag versions kept in memory that record each bump (a test double for Redis), and can be told to fail. */
class RecordingVersions implements TagVersions {
  count = 0;
  bumps: { tags: readonly string[]; at: number }[] = [];
  failures = 0;
  async start() {
    return { epoch: 'e', count: this.count };
  }
  async read(tags: readonly string[]) {
    return { epoch: 'e', versions: tags.map(() => 0) };
  }
  dropped = 0;
  /** While set, bumps wait for it. */
  gate: Promise<void> | null = null;
  async dropEverything() {
    this.dropped++;
  }
  async bump(tags: readonly string[]) {
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('Redis is down');
    }
    this.count++;
    this.bumps.push({ tags, at: Date.now() });
  }
}

let t: TestDatabase;
let service: Awaited<ReturnType<typeof bootSubgraph<any, any, any, any>>>;
const versions = new RecordingVersions();

async function ask(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(service.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: signIdentity(admin, identitySecret(config)) },
    body: JSON.stringify({ query, variables }),
  });
  return { at: Date.now(), ...((await res.json()) as { data?: any; errors?: unknown[]; extensions?: { angelisCache?: { tags: string[]; count: number; personal: boolean } } }) };
}
const REGISTER = `mutation($n: String!, $r: String!) { registerCompany(input: {name: $n, taxRut: $r}) { id } }`;

beforeAll(async () => {
  t = await createTestDatabase('wf_cache_tags', [], 5);
  service = await bootSubgraph(workforce, config, createLogger('test', 'silent'), { db: t.db, port: 0, pubsub: new MemoryPubSub(), cacheVersions: versions });
});
afterAll(async () => {
  await service?.stop();
  await t?.drop();
});

describe("Workforce's answers and writes", () => {
  it('drops every answer cached before it started (its whole read model)', () => {
    expect(versions.bumps[0].tags).toEqual(['workforce/all']);
  });

  it('a by-id read is tagged with its stream, a list with its tables, each with the count read before it', async () => {
    const id = (await ask(REGISTER, { n: 'Tagged Ltda', r: rut(77_100_001) })).data.registerCompany.id;
    const byId = await ask(`query($id: ID!) { company(id: $id) { id name } }`, { id });
    expect(byId.extensions?.angelisCache).toEqual({ tags: ['workforce/all', `workforce/s:company-${id}`], epoch: 'e', count: versions.count, personal: false, validUntil: expect.any(Number) });
    const list = await ask(`query { companies(first: 5) { nodes { id } } }`);
    expect(list.extensions?.angelisCache?.tags).toEqual(expect.arrayContaining(['workforce/all', 'workforce/t:companies']));
  });

  it('the notification feed is never cached: what it shows depends on which transactions are still running', async () => {
    const feed = await fetch(service.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: signIdentity(serviceIdentity('notifications'), identitySecret(config)) },
      body: JSON.stringify({ query: `query { notificationFeed(first: 5) { nodes { id } } }` }),
    }).then((r) => r.json() as Promise<{ errors?: unknown; extensions?: { angelisCache?: { refused?: string } } }>);
    expect(feed.errors).toBeUndefined();
    expect(feed.extensions?.angelisCache?.refused).toMatch(/not a plain read/);
  });

  it('mutations carry nothing; errors and reads of the event log say why they carry no tags', async () => {
    expect((await ask(REGISTER, { n: 'Untagged Ltda', r: rut(77_100_002) })).extensions?.angelisCache).toBeUndefined();
    expect((await ask(`query { profiles(first: -1) { nodes { id } } }`)).extensions?.angelisCache).toEqual({ refused: 'an error' });
    const id = (await ask(`query { companies(first: 1) { nodes { id } } }`)).data.companies.nodes[0].id;
    const audit = await ask(`query($id: ID!) { company(id: $id) { auditTrail { nodes { action } } } }`, { id });
    expect(audit.errors).toBeUndefined();
    expect(audit.extensions?.angelisCache).toEqual({ refused: expect.stringMatching(/not a plain read|reads events/) });
  });

  it('does not answer a mutation until its bump is done', async () => {
    let open!: () => void;
    versions.gate = new Promise((r) => (open = r));
    let answered = false;
    const pending = ask(REGISTER, { n: 'Gated Ltda', r: rut(77_100_005) }).then((a) => ((answered = true), a));
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false);
    versions.gate = null;
    open();
    expect((await pending).errors).toBeUndefined();
  });

  it('reads the count before the first statement of the answer', async () => {
    const id = (await ask(`query { companies(first: 1) { nodes { id } } }`)).data.companies.nodes[0].id;
    const start = versions.start.bind(versions);
    const order: string[] = [];
    const statements = t.db.statements;
    versions.start = async () => {
      order.push(`count read after ${t.db.statements - statements} statements`);
      return start();
    };
    try {
      await ask(`query($id: ID!) { company(id: $id) { name projects { nodes { id } } } }`, { id });
    } finally {
      versions.start = start;
    }
    expect(order).toEqual(['count read after 0 statements']);
    expect(t.db.statements - statements).toBeGreaterThan(0);
  });

  it("takes the count the gateway sent instead of reading it, and reads it when what was sent is not a count", async () => {
    const id = (await ask(`query { companies(first: 1) { nodes { id } } }`)).data.companies.nodes[0].id;
    const start = versions.start.bind(versions);
    let reads = 0;
    versions.start = async () => (reads++, start());
    const asked = async (sent: string) => {
      const res = await fetch(service.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: signIdentity(admin, identitySecret(config)), [CACHE_START_HEADER]: sent },
        body: JSON.stringify({ query: `query($id: ID!) { company(id: $id) { name } }`, variables: { id } }),
      });
      return ((await res.json()) as { extensions: { angelisCache: { epoch: string; count: number } } }).extensions.angelisCache;
    };
    try {
      const sent = formatCacheStart({ epoch: 'gateway-epoch:run1', count: 41 });
      expect(await asked(sent)).toMatchObject({ epoch: 'gateway-epoch:run1', count: 41 });
      expect(reads).toBe(0);
      for (const junk of ['', '41', 'x gateway-epoch', '-1 e', '41 e/x', `41 ${'e'.repeat(201)}`, '1e3 e', '41  e']) {
        expect(await asked(junk), JSON.stringify(junk)).toMatchObject({ epoch: 'e', count: versions.count });
      }
      expect(reads).toBe(8);
    } finally {
      versions.start = start;
    }
  });

  it("bumps a write's stream and tables before answering it, retrying while Redis fails, and the write stands when it never succeeds", async () => {
    versions.failures = 2;
    const before = versions.bumps.length;
    const answered = await ask(REGISTER, { n: 'Retried Ltda', r: rut(77_100_003) });
    const id = answered.data.registerCompany.id;
    const bump = versions.bumps.slice(before).find((b) => b.tags.includes(`workforce/s:company-${id}`));
    expect(bump?.tags).toEqual(expect.arrayContaining(['workforce/t:companies']));
    expect(bump!.at).toBeLessThanOrEqual(answered.at);

    versions.failures = 100;
    const unbumped = await ask(REGISTER, { n: 'Unbumped Ltda', r: rut(77_100_004) });
    versions.failures = 0;
    expect(unbumped.errors).toBeUndefined();
    // Every cached answer was dropped instead (a new epoch).
    expect(versions.dropped).toBe(1);
    const lost = unbumped.data.registerCompany.id;
    expect(versions.bumps.some((b) => b.tags.includes(`workforce/s:company-${lost}`))).toBe(false);
    expect((await ask(`query($id: ID!) { company(id: $id) { name } }`, { id: lost })).data.company.name).toBe('Unbumped Ltda');
  }, 20_000);

  it("reads merged across concurrent requests are tagged per request: each answer with its own company's stream only", async () => {
    const ids: string[] = (await ask(`query { companies(first: 6) { nodes { id } } }`)).data.companies.nodes.map((n: { id: string }) => n.id);
    expect(ids.length).toBeGreaterThan(2);
    const merged = t.db.merging.statements;
    for (let round = 0; round < 5 && t.db.merging.statements === merged; round++) {
      const answers = await Promise.all(ids.map((id) => ask(`query($id: ID!) { company(id: $id) { id name } }`, { id })));
      answers.forEach((a, n) => expect(a.extensions?.angelisCache?.tags).toEqual(['workforce/all', `workforce/s:company-${ids[n]}`]));
    }
    expect(t.db.merging.statements).toBeGreaterThan(merged);
  });
});
