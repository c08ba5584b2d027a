import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Agent, fetch as undiciFetch } from 'undici';
import { CORRELATION_HEADER, DEV_USER_HEADER, type RequestContext } from '../platform/graphql/context.ts';

/**
 * Keep-alive HTTP to subgraphs. The gateway's default fetcher opens a connection per
 * request, which halves its ceiling (architecture.md, "Read path").
 */
export function keepAliveFetcher(connectionsPerSubgraph = 64) {
  const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: connectionsPerSubgraph });
  const fetcher = ((url: string, init?: Record<string, unknown>) =>
    undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as RemoteGraphQLDataSource['fetcher'];
  return { fetcher, close: () => agent.close() };
}

/** A subgraph as the gateway calls it: keep-alive, and the caller's identity and correlation id passed on. */
export class SubgraphSource extends RemoteGraphQLDataSource<RequestContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RequestContext>): void {
    const headers = request.http?.headers;
    if (!headers || !('correlationId' in context)) return;
    headers.set(CORRELATION_HEADER, context.correlationId);
    // Until Identity & Access lands, identity travels as the development header (never in production).
    if (context.actor) headers.set(DEV_USER_HEADER, context.actor.id);
  }
}
