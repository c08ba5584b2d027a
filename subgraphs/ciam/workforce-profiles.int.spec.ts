import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../platform/auth/identity.ts';
import { SourceUnavailableError } from '../../platform/errors.ts';
import { createLogger } from '../../platform/logger.ts';
import { workforceProfiles } from './workforce-profiles.ts';

/**
 * How CIAM's Workforce client fails when Workforce misbehaves in ways the real stack
 * cannot be made to (test/worker-login.e2e.spec.ts covers the real Workforce, and one
 * that is down): a peer that never answers, or answers something that is not GraphQL.
 */
const caller: Identity = { userId: 'u', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 's' };
const log = createLogger('test', 'silent');
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/hangs') return; // never answers
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html>Bad gateway</html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('workforceProfiles', () => {
  it('gives up after its timeout with SOURCE_UNAVAILABLE', async () => {
    const lookup = workforceProfiles({ url: `${base}/hangs`, identitySecret: 'x'.repeat(32), log, timeoutMs: 300 });
    const started = Date.now();
    const error = await lookup(caller, '00000000-0000-4000-8000-000000000000', 'c-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('takes an answer that is not GraphQL for SOURCE_UNAVAILABLE, not for "no such profile"', async () => {
    const lookup = workforceProfiles({ url: `${base}/graphql`, identitySecret: 'x'.repeat(32), log });
    await expect(lookup(caller, '00000000-0000-4000-8000-000000000000', 'c-2')).rejects.toBeInstanceOf(SourceUnavailableError);
  });
});
