import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Logger } from '../logger.ts';

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

export interface HttpServerOptions<C extends BaseContext> {
  host: string;
  port: number;
  log: Logger;
  apollo: ApolloServer<C>;
  context: (req: http.IncomingMessage) => Promise<C>;
  /** Answers GET /readyz: true when this service can serve traffic. */
  ready: () => Promise<boolean>;
  maxBodyBytes?: number;
  /** Extra routes by path (e.g. /graphql/stream, /metrics). */
  routes?: Record<string, Route>;
  /**
   * Answers a POST /graphql from a cache before Apollo runs (the gateway's response cache):
   * `lookup` gets the body as sent and the request's context (built once here); `store`
   * is offered every complete answer Apollo computed for a request `lookup` missed.
   */
  responseCache?: {
    lookup(req: http.IncomingMessage, body: string, parsed: unknown, context: C): Promise<{ body: string; contentType: string } | null>;
    store(req: http.IncomingMessage, body: string, parsed: unknown, context: C, answer: { status: number; contentType: string; body: string }): void;
  };
  /**
   * What every request must pass once its context is built, before it is answered (the
   * gateway's session check and rate limits). Run alongside the response cache's lookup, so
   * a request answered from the cache waits for one round trip to the shared store; a
   * refusal is reported as a refused context is, and the cached answer is not given.
   */
  admit?: (context: C) => Promise<void>;
  /**
   * Answers a JSON POST /graphql without Apollo's request pipeline when it can (the gateway: a
   * query Apollo already sent whole to one subgraph, gateway/passthrough.ts): the result, or
   * null for Apollo to answer, with the same context (admitted once). Only offered a body
   * Apollo would read as a plain request (no extensions, no persisted query) from a client
   * whose Accept header Apollo has already answered: the answer gets the headers Apollo
   * gave every 200 answer for that header (content type, cache-control), is serialised
   * as Apollo serialises a result, and is offered to the response cache as Apollo's are.
   */
  direct?: (request: PlainRequest, context: C) => Promise<{ data: Record<string, unknown> } | null>;
  /** Runs around each GraphQL request's execution (a subgraph's read log: platform/response-cache/reads.ts). */
  around?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** A GraphQL request as a client's POST body gives it, read as Apollo reads it (no operation name: undefined). */
export interface PlainRequest {
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
}

export interface RunningServer {
  url: string;
  port: number;
  server: http.Server;
  stop(): Promise<void>;
}

class PayloadTooLarge extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) return reject(new PayloadTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Keep draining without storing, so the client reads our 413 instead of a reset.
      if (size > limit) reject(new PayloadTooLarge());
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A plain object: what Apollo accepts as `variables` (isStringRecord). */
const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The request `direct` may answer: a POST body Apollo reads as exactly these fields (its
 * checks in runHttpQuery: query a string, operationName a string or null, variables an
 * object or null, no extensions), sent as application/json (which Apollo's CSRF check
 * passes). Anything else goes to Apollo, which answers or refuses it as it always does.
 */
function plainRequest(req: http.IncomingMessage, body: unknown): PlainRequest | null {
  const type = req.headers['content-type'];
  if (!type || type.split(';', 1)[0].trim().toLowerCase() !== 'application/json' || !isRecord(body)) return null;
  const { query, operationName, variables, ...rest } = body;
  if (typeof query !== 'string' || Object.keys(rest).length > 0) return null;
  if (operationName != null && typeof operationName !== 'string') return null;
  if (variables != null && !isRecord(variables)) return null;
  return { query, operationName: operationName ?? undefined, variables: variables ?? undefined };
}

/** How many Accept headers' answer headers are remembered (clients send a handful; the rest go to Apollo). */
const ANSWER_HEADERS_MAX = 100;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * One HTTP server per service: Apollo on /graphql, /healthz (alive), /readyz (can serve),
 * and any extra routes. Plain node:http so SSE can share the port later.
 */
export async function startHttpServer<C extends BaseContext>(o: HttpServerOptions<C>): Promise<RunningServer> {
  const limit = o.maxBodyBytes ?? 1_000_000;
  // The headers Apollo gave POSTs' 200 answers, by the request's Accept header (its content
  // negotiation depends on nothing else); null once two of its answers differed. Answers not
  // computed by Apollo (direct ones, the response cache's) get the same.
  const answerHeaders = new Map<string, [string, string][] | null>();
  const learnHeaders = (accept: string, headers: [string, string][]) => {
    const known = answerHeaders.get(accept);
    if (known === undefined) {
      if (answerHeaders.size < ANSWER_HEADERS_MAX) answerHeaders.set(accept, headers);
    } else if (known && JSON.stringify(known) !== JSON.stringify(headers)) {
      answerHeaders.set(accept, null);
    }
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
      if (url.pathname === '/readyz') {
        const ready = await o.ready().catch(() => false);
        return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
      }
      const route = o.routes?.[url.pathname];
      if (route) return await route(req, res);
      if (url.pathname !== '/graphql') return json(res, 404, { error: 'not found' });

      let body: unknown = undefined;
      let text = '';
      if (req.method === 'POST') {
        text = await readBody(req, limit);
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          return json(res, 400, { errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
        }
      }
      const admit = o.admit;
      let context = admit ? async () => { const built = await o.context(req); await admit(built); return built; } : () => o.context(req);
      // Answered before Apollo when it can be: from the response cache, or directly (see `direct`:
      // a request Apollo already ran, from a client whose Accept header it has answered).
      const accept = req.headers.accept ?? '';
      const answered = o.direct && req.method === 'POST' ? answerHeaders.get(accept) : undefined;
      const plain = answered ? plainRequest(req, body) : null;
      const lookup = o.responseCache && req.method === 'POST' && text ? o.responseCache : undefined;
      // The context the cache looked up with (its miss is offered Apollo's answer, or the direct one).
      let cached: C | undefined;
      if (lookup || plain) {
        // The context is built once (the token verified), then `admit` runs alongside the cache's lookup; Apollo gets the same context.
        let built: C | undefined;
        try {
          built = await o.context(req);
        } catch (err) {
          // Apollo reports a refused context (UNAUTHENTICATED, RATE_LIMITED) as it always does.
          context = () => Promise.reject(err);
        }
        if (built) {
          const ready = built;
          const admitted = admit ? admit(ready).then(() => null, (err: unknown) => ({ err })) : null;
          const [refused, hit] = await Promise.all([admitted, lookup ? lookup.lookup(req, text, body, ready) : null]);
          if (refused) {
            context = () => Promise.reject(refused.err);
          } else {
            context = () => Promise.resolve(ready);
            if (lookup) cached = ready;
            if (hit) {
              // With the headers Apollo gives such an answer (cache-control: no-store), when it gave them for this Accept header.
              const apollo = answerHeaders.get(accept);
              if (apollo && apollo.some(([k, v]) => k === 'content-type' && v === hit.contentType)) for (const [k, v] of apollo) res.setHeader(k, v);
              else res.setHeader('content-type', hit.contentType);
              res.statusCode = 200;
              return void res.end(hit.body);
            }
            const answer = plain ? await o.direct!(plain, ready) : null;
            if (answer) {
              for (const [k, v] of answered!) res.setHeader(k, v);
              res.statusCode = 200;
              // Apollo's own serialisation of a result (prettyJSONStringify).
              const string = `${JSON.stringify(answer)}\n`;
              if (cached) lookup!.store(req, text, body, cached, { status: 200, contentType: String(res.getHeader('content-type') ?? 'application/json'), body: string });
              return void res.end(string);
            }
          }
        }
      }
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      const execute = () => o.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context,
      });
      const result = await (o.around ? o.around(execute) : execute());
      for (const [k, v] of result.headers) res.setHeader(k, v);
      res.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        if ((o.direct || o.responseCache) && req.method === 'POST' && res.statusCode === 200) learnHeaders(accept, [...result.headers]);
        if (cached) o.responseCache!.store(req, text, body, cached, { status: res.statusCode, contentType: result.headers.get('content-type') ?? 'application/json', body: result.body.string });
        return void res.end(result.body.string);
      }
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (err) {
      if (err instanceof PayloadTooLarge) {
        res.setHeader('connection', 'close');
        req.resume();
        return json(res, 413, { errors: [{ message: `Request body over ${limit} bytes`, extensions: { code: 'BAD_REQUEST' } }] });
      }
      o.log.error({ err }, 'http handler failed');
      if (!res.headersSent) json(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${o.host}:${port}/graphql`,
    port,
    server,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      await o.apollo.stop();
    },
  };
}
