import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { startGateway } from '../gateway/server.ts';
import { startWorkforce } from './support/subgraphs.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack('gateway');
});
afterAll(async () => stack?.stop());

const base = () => stack.gateway.url.replace(/\/graphql$/, '');

describe('gateway', () => {
  it('answers /healthz, and /readyz only while every subgraph answers', async () => {
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
    expect((await fetch(`${base()}/readyz`)).status).toBe(200);
    const log = createLogger('test', 'silent');
    const lonely = await startGateway(stack.config, log, { port: 0, subgraphUrls: { workforce: 'http://127.0.0.1:1/graphql' } });
    try {
      const res = await fetch(lonely.url.replace(/\/graphql$/, '/readyz'));
      expect(res.status).toBe(503);
    } finally {
      await lonely.stop();
    }
  });

  it('masks internal errors: the client gets a correlation id, not the cause', async () => {
    // Break the read model under the running service: the SQL error must not leak.
    await stack.database.db.query('ALTER TABLE companies RENAME COLUMN name TO name_broken');
    try {
      const res = await stack.gql('{ companies { nodes { name } } }');
      const error = res.errors![0];
      expect(error.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(error.message).toBe('Internal server error');
      expect(JSON.stringify(res)).not.toMatch(/name_broken|column|SELECT|stacktrace/i);
      expect(typeof error.extensions?.correlationId).toBe('string');
    } finally {
      await stack.database.db.query('ALTER TABLE companies RENAME COLUMN name_broken TO name');
    }
  });

  it('passes the correlation id a client sends through to the events it causes', async () => {
    const res = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'corr@test', 'x-correlation-id': 'corr-1234567890' },
      body: JSON.stringify({ query: 'mutation { createOffering(input: {code: "CORR", name: "Corr"}) { id } }' }),
    });
    const body = (await res.json()) as any;
    const { rows } = await stack.database.db.query(`SELECT metadata FROM events WHERE data->>'offeringId' = $1`, [body.data.createOffering.id]);
    expect(rows[0].metadata).toMatchObject({ correlationId: 'corr-1234567890', actor: { id: 'corr@test', kind: 'dev' } });
  });

  it('refuses a request body over the limit and a body that is not JSON, as client errors', async () => {
    const big = await fetch(stack.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(1_100_000) });
    expect(big.status).toBe(413);
    const garbage = await fetch(stack.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(garbage.status).toBe(400);
  });

  it('ignores the development identity header and refuses introspection in production', async () => {
    const config = loadConfig({
      ...Object.fromEntries(Object.entries(stack.config).map(([k, v]) => [k, v === undefined ? undefined : String(v)])),
      NODE_ENV: 'production',
      ANGELIS_PSEUDONYM_KEY: 'p'.repeat(32),
      ANGELIS_CIAM_KEY_SECRET: 'c'.repeat(32),
      ANGELIS_IDENTITY_SECRET: 'i'.repeat(32),
    });
    const log = createLogger('test', 'silent');
    const workforce = await startWorkforce(config, log, { db: stack.database.db, port: 0 });
    const gateway = await startGateway(config, log, { port: 0, subgraphUrls: { workforce: workforce.server.url } });
    try {
      for (const url of [gateway.url, workforce.server.url]) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-angelis-dev-user': 'intruder' },
          body: JSON.stringify({ query: '{ companies { nodes { id } } }' }),
        });
        const body = (await res.json()) as any;
        expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      }
      // No schema browsing in production.
      const introspection = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __schema { types { name } } }' }),
      });
      const body = (await introspection.json()) as any;
      expect(body.data).toBeUndefined();
      expect(body.errors[0].message).toMatch(/introspection/i);
    } finally {
      await gateway.stop();
      await workforce.stop();
    }
  });
});
