import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type DocumentNode } from 'graphql';
import type { Logger } from '../logger.ts';
import { startHttpServer, type Route, type RunningServer } from '../http/server.ts';
import { actorOf, correlationIdFrom, identityFromSubgraphRequest, type RequestContext } from './context.ts';
import { CompiledExecution, compiledExecutionGateway } from './compiled-execution.ts';
import { maskErrorsPlugin } from './plugins/mask-errors.ts';
import { serviceSdlPlugin } from './plugins/service-sdl.ts';
import { unsafeTextPlugin } from './plugins/unsafe-text.ts';
import { ReadLog, trackedCaller, withReadLog, type ReadRules } from '../response-cache/reads.ts';

/** Reads a subgraph's SDL from `schema/subgraphs/<name>.graphql`. */
export function loadSubgraphSdl(name: string): DocumentNode {
  return parse(readFileSync(new URL(`../../schema/subgraphs/${name}.graphql`, import.meta.url), 'utf8'));
}

export interface SubgraphOptions<C extends RequestContext> {
  name: string;
  resolvers: object;
  host: string;
  port: number;
  nodeEnv: string;
  /** Execute with graphql-jit from an operation's second sighting (ANGELIS_SUBGRAPH_COMPILED_EXECUTION); else graphql-js only. */
  compiledExecution: boolean;
  /** Verifies the identity the gateway signs (ANGELIS_IDENTITY_SECRET). */
  identitySecret: string;
  log: Logger;
  /** Adds the subgraph's own per-request parts (loaders, commands) to the platform context. */
  context: (base: RequestContext, req: http.IncomingMessage) => C | Promise<C>;
  ready: () => Promise<boolean>;
  /** Extra HTTP routes by path (e.g. CIAM's /.well-known/jwks.json). */
  routes?: Record<string, Route>;
  /** The subgraph's own Apollo plugins, after the platform's. */
  plugins?: ApolloServerPlugin<C>[];
  /** The response cache's read rules and plugin, when the subgraph's answers may be cached (platform/response-cache/reads.ts). */
  readLog?: { rules: ReadRules; plugin: ApolloServerPlugin<BaseContext> };
}

/** A subgraph's HTTP server, and how it executes (counters of compiled and interpreted requests). */
export type SubgraphServer = RunningServer & { execution: CompiledExecution };

/**
 * Boots a subgraph: federation schema, error masking, text no database can store refused,
 * the SDL kept from strangers in production, identity and correlation from headers.
 */
export async function startSubgraph<C extends RequestContext>(o: SubgraphOptions<C>): Promise<SubgraphServer> {
  const schema = buildSubgraphSchema({ typeDefs: loadSubgraphSdl(o.name), resolvers: o.resolvers as GraphQLResolverMap<unknown> });
  const execution = new CompiledExecution(schema, o.compiledExecution ? {} : { compileAfter: Infinity });
  const apollo = new ApolloServer<C>({
    // Execution compiled per operation (graphql-jit); parsing, validation and plugins are Apollo's.
    gateway: compiledExecutionGateway(schema, execution),
    // No Apollo Studio here: inline tracing would only cost time per request.
    plugins: [
      maskErrorsPlugin<C>(o.log),
      serviceSdlPlugin<C>(o.nodeEnv),
      unsafeTextPlugin<C>(),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      // Nor reporting to Apollo, whatever APOLLO_KEY the environment holds.
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ...(o.plugins ?? []),
      ...(o.readLog ? [o.readLog.plugin as ApolloServerPlugin<C>] : []),
    ],
    includeStacktraceInErrorResponses: false,
    introspection: o.nodeEnv !== 'production',
  });
  await apollo.start();
  const server = await startHttpServer<C>({
    host: o.host,
    port: o.port,
    log: o.log,
    apollo,
    ready: o.ready,
    routes: o.routes,
    ...(o.readLog ? { around: <T>(fn: () => Promise<T>) => withReadLog(new ReadLog(o.readLog!.rules), fn) } : {}),
    context: async (req) => {
      const correlationId = correlationIdFrom(req.headers);
      const identity = identityFromSubgraphRequest(req.headers, o.nodeEnv, o.identitySecret);
      const base: RequestContext = {
        identity,
        actor: actorOf(identity),
        correlationId,
        log: o.log.child({ correlationId }),
      };
      const ctx = await o.context(base, req);
      // Resolvers reading who the caller is make the answer personal (platform/response-cache/reads.ts).
      if (o.readLog?.rules.trackCaller) {
        ctx.identity = trackedCaller(ctx.identity, { personal: ['userId'], uncacheable: ['sessionId'] });
        ctx.actor = trackedCaller(ctx.actor, { personal: ['id'] });
      }
      return ctx;
    },
  });
  return Object.assign(server, { execution });
}
