import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTagVersions } from '../platform/response-cache/versions.ts';
import { redisUnderTestPrefix } from '../platform/testing/redis.ts';
import { IDENTITY_HEADER, verifyIdentity, verifySignedClaims, type Identity } from '../platform/auth/identity.ts';
import { CLIENT_ADDRESS_HEADER } from '../platform/http/client-address.ts';
import { CORRELATION_HEADER } from '../platform/graphql/context.ts';
import { keepAliveFetcher, SubgraphSource } from './subgraph-source.ts';

/**
 * A subgraph fetch joined while in flight (gateway/inflight.ts) is checked against the tag
 * versions in Redis: when a write was answered since it was read (through any gateway
 * instance), the joining caller fetches again.
 */
const testRedis = redisUnderTestPrefix();
const { prefix } = testRedis;

const identity: Identity = { userId: 'ann', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 's' };

describe('SubgraphSource and joined in-flight answers', () => {
  it('fetches again when the joined answer was read before a write answered elsewhere', async () => {
    const versions = new RedisTagVersions(testRedis.store.client, prefix);
    let sent = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // A subgraph that answers the first fetch only when told, with the count it read before its data.
    const fetcher = (async () => {
      const n = ++sent;
      const { epoch, count } = await versions.start();
      if (n === 1) await held;
      const text = JSON.stringify({ data: { n }, extensions: { angelisCache: { tags: ['w/s:x'], epoch, count, personal: false, validUntil: Date.now() + 60_000 } } });
      return { ok: true, status: 200, statusText: '', url: '', headers: { get: () => 'application/json' }, text: async () => text, json: async () => JSON.parse(text) };
    }) as never;
    const source = new SubgraphSource({ url: 'http://127.0.0.1:9/graphql', fetcher }, 'secret', 'workforce', versions);
    const options = () => ({
      kind: 'incoming operation',
      request: { query: 'query { x }', variables: {} },
      context: { identity, correlationId: 'c', clientAddress: '127.0.0.1' },
      incomingRequestContext: { context: {} },
    }) as never;
    const first = source.process(options());
    await new Promise((r) => setTimeout(r, 50));
    // A write is answered (through another instance) while the first fetch is still on its way.
    await versions.bump(['w/s:x']);
    const second = source.process(options());
    release();
    expect((await first).data).toEqual({ n: 1 });
    // It joined the first fetch, saw the write, and fetched again.
    expect((await second).data).toEqual({ n: 2 });
    expect(source.inflight.merged).toBe(1);
    expect(sent).toBe(2);
  });
});

/**
 * The data source speaks HTTP to the subgraph itself (not through Apollo's
 * RemoteGraphQLDataSource): here against a real HTTP server on a free port, scripted per
 * test, over the gateway's keep-alive fetcher.
 */
describe('SubgraphSource over HTTP', () => {
  const secret = 'subgraph-source-test-secret';
  let answer: (body: Record<string, unknown>, req: http.IncomingMessage, res: http.ServerResponse) => void = () => {};
  const received: { headers: http.IncomingHttpHeaders; body: Record<string, unknown>; method?: string; url?: string }[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      received.push({ headers: req.headers, body, method: req.method, url: req.url });
      answer(body, req, res);
    });
  });
  let url = '';
  const { fetcher, close } = keepAliveFetcher(2_000);
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql?x=1`;
  });
  afterAll(async () => {
    await close();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const json = (res: http.ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const call = (source: SubgraphSource, query: string, o: { variables?: Record<string, unknown>; who?: Identity | null; operationName?: string } = {}) =>
    source.process({
      kind: 'incoming operation',
      request: { query, variables: o.variables ?? {}, operationName: o.operationName },
      context: { identity: o.who === undefined ? identity : o.who, actor: null, correlationId: 'corr-1', clientAddress: '203.0.113.7' },
      incomingRequestContext: { context: {} },
    } as never);

  it('posts the operation as JSON with the correlation id, the signed identity and the signed client address', async () => {
    received.length = 0;
    answer = (body, _req, res) => json(res, 200, { data: { echo: body.variables } });
    const source = new SubgraphSource({ url, fetcher }, secret, 'workforce');
    const hostile = { text: 'a"b\\c</script>\u202e😀\t' };
    const result = await call(source, 'query Q($text: String) { echo(text: $text) }', { variables: hostile, operationName: 'Q' });
    expect(result.data).toEqual({ echo: hostile });
    const [sent] = received;
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('/graphql?x=1');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers[CORRELATION_HEADER]).toBe('corr-1');
    expect(verifyIdentity(String(sent.headers[IDENTITY_HEADER]), secret)).toEqual(identity);
    expect(verifySignedClaims(String(sent.headers[CLIENT_ADDRESS_HEADER]), secret, 'client address').addr).toBe('203.0.113.7');
    // Exactly the GraphQL request: no HTTP part leaks into the body.
    expect(sent.body).toEqual({ query: 'query Q($text: String) { echo(text: $text) }', variables: hostile, operationName: 'Q' });
    // A forged secret does not verify.
    expect(() => verifyIdentity(String(sent.headers[IDENTITY_HEADER]), 'another-secret')).toThrow();
  });

  it('sends no identity for an anonymous caller', async () => {
    received.length = 0;
    answer = (_body, _req, res) => json(res, 200, { data: { x: 1 } });
    const source = new SubgraphSource({ url, fetcher }, secret, 'workforce');
    await call(source, '{ x }', { who: null });
    expect(received[0].headers[IDENTITY_HEADER]).toBeUndefined();
  });

  it("passes a subgraph's coded request error on, and refuses an answer that is not JSON", async () => {
    const source = new SubgraphSource({ url, fetcher }, secret, 'workforce');
    answer = (_body, _req, res) => json(res, 400, { errors: [{ message: 'id is not a UUID', extensions: { code: 'BAD_USER_INPUT' } }] });
    const refused = await call(source, '{ x }').catch((e: unknown) => e);
    expect(refused).toMatchObject({ message: 'id is not a UUID', extensions: { code: 'BAD_USER_INPUT' } });
    answer = (_body, _req, res) => json(res, 200, '<html>proxy error</html>', 'text/html');
    await expect(call(source, '{ x }')).rejects.toThrow(/Expected JSON response body/);
  });

  it('answers SOURCE_UNAVAILABLE on each field asked when the subgraph is behind a failing proxy or not listening', async () => {
    const source = new SubgraphSource({ url, fetcher }, secret, 'workforce');
    answer = (_body, _req, res) => json(res, 503, 'no healthy upstream', 'text/plain');
    const proxied = await call(source, '{ a: x b: y }');
    expect(proxied.data).toBeUndefined();
    expect(proxied.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['a'], 'SOURCE_UNAVAILABLE'], [['b'], 'SOURCE_UNAVAILABLE']]);
    // A port nobody listens on (this server's, closed for the test's duration).
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = new SubgraphSource({ url: `http://127.0.0.1:${port}/graphql`, fetcher }, secret, 'workforce');
    const refused = await call(down, '{ x }');
    expect(refused.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['x'], 'SOURCE_UNAVAILABLE']]);
  });
});
