import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { actorOf, correlationIdFrom, type RequestContext } from '../platform/graphql/context.ts';
import { identitySecret } from '../platform/auth/identity.ts';
import { createAuthenticator, type AuthenticatorOptions } from './authenticate.ts';
import { maskErrorsPlugin } from '../platform/graphql/plugins/mask-errors.ts';
import { startHttpServer, type RunningServer } from '../platform/http/server.ts';
import { subgraphsReady } from './readiness.ts';
import { keepAliveFetcher, SubgraphSource } from './subgraph-source.ts';

export interface GatewayOptions {
  port?: number;
  /** Subgraph URLs by name; default from ANGELIS_<NAME>_URL. */
  subgraphUrls?: Record<string, string>;
  /** How to verify tokens and sessions; default: CIAM's JWKS, and no session store (tokens live until they expire). */
  auth?: Partial<Pick<AuthenticatorOptions, 'jwks' | 'sessionActive'>>;
}

/** Subgraph URLs from the configuration, by subgraph name. */
export function subgraphUrlsFrom(config: Config): Record<string, string> {
  return { workforce: config.ANGELIS_WORKFORCE_URL };
}

/** Starts the federated gateway on the static supergraph. */
export async function startGateway(config: Config, log: Logger, options: GatewayOptions = {}): Promise<RunningServer> {
  const urls = options.subgraphUrls ?? subgraphUrlsFrom(config);
  const { fetcher, close } = keepAliveFetcher();
  const secret = identitySecret(config);
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(config.ANGELIS_SUPERGRAPH_PATH, 'utf8'),
    buildService: ({ name, url }) => new SubgraphSource({ url: urls[name] ?? url, fetcher }, secret),
  });
  const authenticate = createAuthenticator({
    jwks: options.auth?.jwks ?? new URL('/.well-known/jwks.json', config.ANGELIS_CIAM_URL).toString(),
    issuer: config.ANGELIS_JWT_ISSUER,
    audience: config.ANGELIS_JWT_AUDIENCE,
    nodeEnv: config.NODE_ENV,
    sessionActive: options.auth?.sessionActive ?? (async () => true),
  });
  const apollo = new ApolloServer<RequestContext>({
    gateway,
    plugins: [maskErrorsPlugin<RequestContext>(log)],
    includeStacktraceInErrorResponses: false,
    introspection: config.NODE_ENV !== 'production',
  });
  await apollo.start();
  const server = await startHttpServer<RequestContext>({
    host: config.ANGELIS_GATEWAY_HOST,
    port: options.port ?? config.ANGELIS_GATEWAY_PORT,
    log,
    apollo,
    maxBodyBytes: config.ANGELIS_GATEWAY_MAX_BODY_BYTES,
    ready: () => subgraphsReady(Object.values(urls)),
    context: async (req) => {
      const correlationId = correlationIdFrom(req.headers);
      const identity = await authenticate(req);
      return { identity, actor: actorOf(identity), correlationId, log: log.child({ correlationId }) };
    },
  });
  log.info({ url: server.url, subgraphs: urls }, 'gateway listening');
  return {
    ...server,
    async stop() {
      await server.stop();
      await close();
    },
  };
}
