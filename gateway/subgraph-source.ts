import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import { PUBLIC_CODES, SourceUnavailableError } from '../platform/errors.ts';
import { Agent } from 'undici';
import { CORRELATION_HEADER, type RequestContext } from '../platform/graphql/context.ts';
import { IDENTITY_HEADER, signIdentity } from '../platform/auth/identity.ts';
import { CLIENT_ADDRESS_HEADER, signClientAddress } from '../platform/http/client-address.ts';
import { isUnreachable, UNAVAILABLE_STATUSES, unavailableResponse } from './unavailable-response.ts';
import { InflightFetches, mutationDone } from './inflight.ts';
import { collectFetch, type CacheCollector } from './response-cache.ts';
import { stillCurrent, type TagVersions } from '../platform/response-cache/versions.ts';
import { CACHE_REDIS_TIMEOUT_MS, CACHE_START_HEADER, formatCacheStart, withTimeout } from '../platform/response-cache/reads.ts';

/** A subgraph's HTTP answer, as the data source reads it. */
export interface SubgraphHttpResponse {
  ok: boolean;
  status: number;
  statusText: string;
  url: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/** Sends one POST to a subgraph (keepAliveFetcher; tests pass their own). */
export type SubgraphFetcher = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string }) => Promise<SubgraphHttpResponse>;

/**
 * Keep-alive HTTP to subgraphs. The gateway's default fetcher opens a connection per
 * request, which halves its ceiling (architecture.md, "Read path").
 */
export function keepAliveFetcher(timeoutMs: number, connectionsPerSubgraph = 64): { fetcher: SubgraphFetcher; close: () => Promise<void> } {
  // A subgraph silent for timeoutMs counts as unavailable (undici's own default is 5 minutes).
  const agent = new Agent({
    keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: connectionsPerSubgraph,
    headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs },
  });
  // Each subgraph's URL parsed once (a handful of them), not per request.
  const targets = new Map<string, { origin: string; path: string }>();
  const target = (url: string) => {
    let t = targets.get(url);
    if (!t) {
      const u = new URL(url);
      targets.set(url, (t = { origin: u.origin, path: `${u.pathname}${u.search}` }));
    }
    return t;
  };
  // The dispatcher's request(): no WHATWG fetch/streams layer; the data source only needs ok/status/headers.get/json/text.
  const fetcher: SubgraphFetcher = async (url, init) => {
    const res = await agent.request({ ...target(url), method: init.method, headers: init.headers, body: init.body });
    const text = await res.body.text();
    const raw = res.headers;
    return {
      ok: res.statusCode >= 200 && res.statusCode < 300,
      status: res.statusCode,
      statusText: '',
      url,
      headers: { get: (name: string) => { const v = raw[name.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v; } },
      text: async () => text,
      json: async () => JSON.parse(text),
    };
  };
  return { fetcher, close: () => agent.close() };
}

/**
 * What admission leaves in the context for the fetches: the tag versions' count
 * (platform/response-cache/versions.ts), read in the same Redis round trip as the rate-limit
 * charge, so a subgraph asked with it need not read it again; null when it could not be read
 * (the subgraph then reads it itself). Never rejects.
 */
export interface CacheStartContext {
  cacheStart?: Promise<{ epoch: string; count: number } | null>;
}

/**
 * A subgraph as the gateway calls it: keep-alive, the correlation id passed on, and the
 * verified caller as an identity signed with the shared secret (subgraphs trust nothing else).
 * One it cannot reach costs only the fields asked of it (SOURCE_UNAVAILABLE).
 *
 * It speaks to the subgraph itself (a JSON POST on the keep-alive fetcher) rather than
 * through Apollo's RemoteGraphQLDataSource, which builds node-fetch Headers and a Request
 * (parsing the URL) per fetch only to hand them to hooks this gateway does not use:
 * about 6% of the gateway's CPU on a by-id read (docs/architecture.md, "Subgraph calls").
 */
export class SubgraphSource implements GraphQLDataSource<RequestContext> {
  /** Identical in-flight queries of one permission scope, merged (gateway/inflight.ts). */
  // A copy is its parsed JSON body (data, errors, extensions) cloned.
  readonly inflight = new InflightFetches<GatewayGraphQLResponse>(({ data, errors, extensions, ...rest }) => ({
    ...rest,
    data: data && structuredClone(data),
    ...(errors ? { errors: structuredClone(errors) } : {}),
    ...(extensions ? { extensions: structuredClone(extensions) } : {}),
  }));
  private readonly url: string;
  private readonly fetcher: SubgraphFetcher;
  private readonly identitySecret: string;
  private readonly subgraphName: string;
  /** Tag versions (the response cache's), to check answers joined in flight; none without Redis. */
  private readonly versions?: TagVersions;

  constructor(config: { url: string; fetcher: SubgraphFetcher }, identitySecret: string, subgraphName: string, versions?: TagVersions) {
    this.url = config.url;
    this.fetcher = config.fetcher;
    this.identitySecret = identitySecret;
    this.subgraphName = subgraphName;
    this.versions = versions;
  }

  async process(options: GraphQLDataSourceProcessOptions<RequestContext>): Promise<GatewayGraphQLResponse> {
    // A persisted operation warming the gateway's caches (persisted-operations.ts): planned, never sent.
    if ((options.context as { warmUp?: boolean }).warmUp) return { data: null };
    const query = options.request.query ?? '';
    const cache = (options.context as { cache?: CacheCollector }).cache;
    if (!InflightFetches.isQuery(query)) {
      collectFetch(cache, undefined, false);
      return this.send(options).finally(mutationDone);
    }
    const scope = InflightFetches.scopeOf((options.context as Partial<RequestContext>).identity);
    let { value: response, joined } = await this.inflight.runJoined(JSON.stringify([query, options.request.variables ?? null, scope]), () => this.send(options));
    // Another caller's fetch may have read before a write answered through another gateway instance: its tags tell.
    if (joined && !(await this.stillCurrent(response.extensions as Record<string, unknown> | undefined))) response = await this.send(options);
    // The subgraph's cache tags (platform/response-cache/reads.ts), if it gave any.
    collectFetch(cache, response.extensions as Record<string, unknown> | undefined, true);
    return response;
  }

  /**
   * Whether a joined answer is still current: its cache tags (platform/response-cache/reads.ts)
   * show no write since it was read. Without tags (a subgraph that does not tag) or tag
   * versions to ask (no Redis), only this instance's mutations are known (inflight.ts).
   */
  private async stillCurrent(extensions: Record<string, unknown> | undefined): Promise<boolean> {
    const ext = extensions?.angelisCache as { tags?: string[]; epoch?: string; count?: number } | undefined;
    if (!this.versions || !ext?.tags || typeof ext.epoch !== 'string' || typeof ext.count !== 'number') return true;
    try {
      return stillCurrent({ epoch: ext.epoch, count: ext.count }, await withTimeout(this.versions.read(ext.tags), CACHE_REDIS_TIMEOUT_MS));
    } catch {
      return false;
    }
  }

  private async send(options: GraphQLDataSourceProcessOptions<RequestContext>): Promise<GatewayGraphQLResponse> {
    try {
      return await this.post(options);
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      // Thrown, the gateway would report one pathless internal error; answered, it nulls just these fields.
      const document = 'document' in options ? options.document : undefined;
      return unavailableResponse(this.subgraphName, options.request.query ?? '', options.request.variables, document);
    }
  }

  /** The request as JSON, with who asks (signed) and where it comes from; the answer's JSON body. */
  private async post({ request, context }: GraphQLDataSourceProcessOptions<RequestContext>): Promise<GatewayGraphQLResponse> {
    if (!request.query) throw new Error('Missing query');
    const headers: Record<string, string> = {};
    // The query planner's own headers, if any (e.g. when it asks for traces).
    if (request.http?.headers) for (const [name, value] of request.http.headers) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    if ('correlationId' in context) {
      headers[CORRELATION_HEADER] = context.correlationId;
      // CIAM rate-limits logins per client address; it believes only an address the gateway signed.
      const address = (context as { clientAddress?: string }).clientAddress;
      if (address) headers[CLIENT_ADDRESS_HEADER] = signClientAddress(address, this.identitySecret);
      if (context.identity) headers[IDENTITY_HEADER] = signIdentity(context.identity, this.identitySecret);
      // The count read when the caller was admitted: the subgraph then takes it rather than asking Redis.
      const start = await (context as CacheStartContext).cacheStart;
      if (start) headers[CACHE_START_HEADER] = formatCacheStart(start);
    }
    const { http: _http, ...body } = request;
    const response = await this.fetcher(this.url, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!response.ok) throw await this.errorFromResponse(response);
    const type = response.headers.get('content-type');
    const parsed = type && (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) ? await response.json() : await response.text();
    if (typeof parsed !== 'object' || parsed === null) throw new Error(`Expected JSON response body, but received: ${String(parsed).slice(0, 200)}`);
    return parsed as GatewayGraphQLResponse;
  }

  /**
   * A subgraph answers request errors (e.g. a variable its scalar refuses) with HTTP 400
   * and a GraphQL body. Apollo's default turns every non-2xx into "400: Bad Request",
   * which we would mask as internal; pass the subgraph's own coded error on instead.
   */
  async errorFromResponse(response: SubgraphHttpResponse): Promise<GraphQLError> {
    if (UNAVAILABLE_STATUSES.has(response.status)) return new SourceUnavailableError(this.subgraphName);
    const text = await response.text();
    let first: { message?: unknown; extensions?: { code?: unknown } } | undefined;
    try {
      first = (JSON.parse(text) as { errors?: (typeof first)[] }).errors?.[0];
    } catch {
      // not JSON: fall through to the generic error
    }
    const code = first?.extensions?.code;
    if (typeof code === 'string' && PUBLIC_CODES.has(code) && typeof first?.message === 'string') {
      return new GraphQLError(first.message, { extensions: { ...first.extensions, code } });
    }
    return new GraphQLError(`${response.status}: ${response.statusText}`, {
      extensions: { response: { url: response.url, status: response.status, statusText: response.statusText, body: text.slice(0, 500) } },
    });
  }
}
