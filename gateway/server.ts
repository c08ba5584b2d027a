import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { actorFromHeaders, correlationIdFrom, type RequestContext } from '../platform/graphql/context.ts';
import { maskErrorsPlugin } from '../platform/graphql/plugins/mask-errors.ts';
import { startHttpServer, type RunningServer } from '../platform/http/server.ts';
import { subgraphsReady } from './readiness.ts';
import { keepAliveFetcher, SubgraphSource } from './subgraph-source.ts';

export interface GatewayOptions {
  port?: number;
  /** Subgraph URLs by name; default from ANGELIS_<NAME>_URL. */
  subgraphUrls?: Record<string, string>;
}

/** Subgraph URLs from the configuration, by subgraph name. */
export function subgraphUrlsFrom(config: Config): Record<string, string> {
  return { workforce: config.ANGELIS_WORKFORCE_URL };
}

/** Starts the federated gateway on the static supergraph. */
export async function startGateway(config: Config, log: Logger, options: GatewayOptions = {}): Promise<RunningServer> {
  const urls = options.subgraphUrls ?? subgraphUrlsFrom(config);
  const { fetcher, close } = keepAliveFetcher();
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(config.ANGELIS_SUPERGRAPH_PATH, 'utf8'),
    buildService: ({ name, url }) => new SubgraphSource({ url: urls[name] ?? url, fetcher }),
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
      return { actor: actorFromHeaders(req.headers, config.NODE_ENV), correlationId, log: log.child({ correlationId }) };
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
