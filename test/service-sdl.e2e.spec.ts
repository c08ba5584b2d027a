import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { IDENTITY_HEADER, signIdentity } from '../platform/auth/identity.ts';
import { MemoryKeyValueStore } from '../platform/redis/memory.ts';
import { createTestDatabase, type TestDatabase } from '../platform/testing/postgres.ts';
import { startCiam } from './support/subgraphs.ts';
import { startWorkforce } from './support/subgraphs.ts';

/**
 * `{ _service { sdl } }` is federation's way to read a subgraph's schema. Production turns
 * introspection off, so the SDL must not be handed to anyone who asks either: only to a
 * request carrying an identity signed with ANGELIS_IDENTITY_SECRET (the gateway's kind).
 * Outside production it stays open, for tools.
 */

const SECRET = 'a-production-identity-secret-of-32+chars';
const log = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
const stops: (() => Promise<void>)[] = [];
let workforceDb: TestDatabase;
let ciamDb: TestDatabase;
const urls = {} as Record<'production' | 'development', { workforce: string; ciam: string }>;

function configFor(nodeEnv: 'production' | 'development'): Config {
  return loadConfig({
    NODE_ENV: nodeEnv,
    ANGELIS_POSTGRES_DB_HOST: workforceDb.settings.host,
    ANGELIS_POSTGRES_DB_PORT: String(workforceDb.settings.port),
    ANGELIS_IDENTITY_SECRET: SECRET,
    ANGELIS_CIAM_KEY_SECRET: 'a-production-key-secret-of-32+characters',
    ANGELIS_PSEUDONYM_KEY: 'a-pseudonym-key-16+',
  });
}

beforeAll(async () => {
  workforceDb = await createTestDatabase('sdl_wf', [], 3);
  ciamDb = await createTestDatabase('sdl_ciam', [], 3);
  for (const env of ['production', 'development'] as const) {
    const config = configFor(env);
    const workforce = await startWorkforce(config, log, { db: workforceDb.db, port: 0 });
    const ciam = await startCiam(config, log, { db: ciamDb.db, port: 0, store: new MemoryKeyValueStore(), keyActivationDelayMs: 0 });
    stops.push(() => workforce.stop(), () => ciam.stop());
    urls[env] = { workforce: workforce.server.url, ciam: ciam.server.url };
  }
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await workforceDb?.drop();
  await ciamDb?.drop();
});

async function post(url: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}

const ASKS = {
  plain: '{ _service { sdl } }',
  aliased: '{ schema: _service { sdl } }',
  'in a fragment': 'query Q { ...S } fragment S on Query { ... on Query { _service { sdl } } }',
};

const admin = { userId: 'ops@angelis.test', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 's1' } as const;

describe.each(['workforce', 'ciam'] as const)('%s subgraph', (subgraph) => {
  it.each(Object.entries(ASKS))('production refuses the SDL to an anonymous caller (%s)', async (_, query) => {
    const { status, text, body } = await post(urls.production[subgraph], query);
    expect(body.errors?.[0]?.extensions?.code, text.slice(0, 300)).toBe('UNAUTHENTICATED');
    expect(status).toBe(401);
    expect(body.data ?? null).toBeNull();
    expect(text).not.toMatch(/type Query|extend schema|@key/);
  });

  it('production ignores the development header for the SDL', async () => {
    const { body, text } = await post(urls.production[subgraph], ASKS.plain, { 'x-angelis-dev-user': 'someone@example.com' });
    expect(body.errors?.[0]?.extensions?.code, text.slice(0, 300)).toBe('UNAUTHENTICATED');
    expect(text).not.toMatch(/type Query/);
  });

  it('production refuses an identity signed with another secret', async () => {
    const { body, text } = await post(urls.production[subgraph], ASKS.plain, { [IDENTITY_HEADER]: signIdentity(admin, 'not-the-secret-but-long-enough-to-pass') });
    expect(body.errors?.[0]?.extensions?.code, text.slice(0, 300)).toBe('UNAUTHENTICATED');
    expect(text).not.toMatch(/type Query/);
  });

  it('production serves the SDL to a request with an identity signed by the gateway secret', async () => {
    const { body, text } = await post(urls.production[subgraph], ASKS.plain, { [IDENTITY_HEADER]: signIdentity(admin, SECRET) });
    expect(body.errors, text.slice(0, 300)).toBeUndefined();
    expect(body.data._service.sdl).toMatch(/type Query/);
  });

  it('production still answers an anonymous { __typename } (readiness checks use it)', async () => {
    const { body, text } = await post(urls.production[subgraph], '{ __typename }');
    expect(body.errors, text.slice(0, 300)).toBeUndefined();
    expect(body.data.__typename).toBe('Query');
  });

  it.each(Object.entries(ASKS))('development serves the SDL to anyone (%s)', async (_, query) => {
    const { body, text } = await post(urls.development[subgraph], query);
    expect(body.errors, text.slice(0, 300)).toBeUndefined();
    expect(Object.values(body.data as Record<string, { sdl: string }>)[0].sdl).toMatch(/type Query/);
  });
});
