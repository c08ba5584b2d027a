import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import InMemoryLRUCache from '@graphql-mesh/cache-inmemory-lru';
import { claimsOf, IDENTITY_HEADER, identitySecret, signClaims } from '../../platform/auth/identity.ts';
import { devIdentityFromHeaders } from '../../platform/graphql/context.ts';
import type { Config } from '../../platform/config.ts';
import { subgraphsOf, subgraphUrls } from '../../gateway/subgraph-urls.ts';
import { readFileSync } from 'node:fs';
import { BENCH_USER } from './seed.ts';

/**
 * The peer gateways bench:gateway compares ours with, each on the same supergraph and
 * subgraphs, each with the one hook the subgraphs require: the caller's identity signed
 * into IDENTITY_HEADER (the bench user, ADMIN, as the development identity ours derives
 * from the same request). No authentication, rate limits or query limits of ours: the
 * peers run bare, as their documentation sets them up.
 */
export type PeerKind = 'apollo' | 'hive' | 'hive-router' | 'hive-cache';
export const PEER_KINDS: readonly PeerKind[] = ['apollo', 'hive', 'hive-router', 'hive-cache'];

/** The bench user's identity, as ours derives it from the development header. */
const benchIdentity = devIdentityFromHeaders({ 'x-angelis-dev-user': BENCH_USER }, 'development')!;

/** The supergraph with each subgraph's URL replaced by where the bench runs it. */
function supergraphFor(config: Config): string {
  let sdl = readFileSync(config.ANGELIS_SUPERGRAPH_PATH, 'utf8');
  const urls = subgraphUrls(sdl, config);
  for (const { name, url } of subgraphsOf(sdl)) sdl = sdl.replace(`url: "${url}"`, `url: "${urls[name]}"`);
  return sdl;
}

export async function startPeer(kind: PeerKind, config: Config): Promise<{ url: string; stop(): Promise<void> }> {
  const secret = identitySecret(config);
  const claims = claimsOf(benchIdentity);
  const sign = () => signClaims(claims, secret);
  const supergraph = supergraphFor(config);
  let handler: http.RequestListener;
  let dispose: () => Promise<void>;

  if (kind === 'apollo') {
    // Bare @apollo/gateway + @apollo/server: default data sources, default plugins.
    const gateway = new ApolloGateway({
      supergraphSdl: supergraph,
      buildService: ({ url }) =>
        new (class extends RemoteGraphQLDataSource {
          override willSendRequest({ request }: Parameters<NonNullable<RemoteGraphQLDataSource['willSendRequest']>>[0]) {
            request.http?.headers.set(IDENTITY_HEADER, sign());
          }
        })({ url }),
    });
    const apollo = new ApolloServer({ gateway, introspection: false });
    await apollo.start();
    const { HeaderMap } = await import('@apollo/server');
    // What @apollo/server's standalone server does, minus its CORS and body-parser layers.
    handler = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const headers = new HeaderMap();
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        const text = Buffer.concat(chunks).toString();
        const result = await apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? 'POST', headers, search: '', body: text ? JSON.parse(text) : undefined },
          context: async () => ({}),
        });
        for (const [k, v] of result.headers) res.setHeader(k, v);
        res.statusCode = result.status ?? 200;
        if (result.body.kind === 'complete') return void res.end(result.body.string);
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      });
    };
    dispose = () => apollo.stop();
  } else {
    const runtime = createGatewayRuntime({
      supergraph,
      logging: false,
      graphqlEndpoint: '/graphql',
      landingPage: false,
      ...(kind === 'hive-router' ? { unifiedGraphHandler } : {}),
      // Its documented response cache: in memory, shared by every caller (no session), TTL-bound.
      ...(kind === 'hive-cache' ? { cache: new InMemoryLRUCache(), responseCaching: { session: () => null, ttl: 60_000 } } : {}),
      plugins: () => [
        {
          onFetch({ options, setOptions }) {
            setOptions({ ...options, headers: { ...(options.headers as Record<string, string>), [IDENTITY_HEADER]: sign() } });
          },
        },
      ],
    });
    handler = runtime as unknown as http.RequestListener;
    dispose = async () => {
      await runtime[Symbol.asyncDispose]?.();
    };
  }

  const server = http.createServer((req, res) => {
    if (req.url === '/readyz' || req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"status":"ready"}');
    }
    handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await dispose();
    },
  };
}
