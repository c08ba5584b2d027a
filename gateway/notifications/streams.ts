import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { GraphQLError, buildSchema, parse, printSchema, validate, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { createHandler, type OperationArgs, type Request as SseRequest, type Response as SseResponse } from 'graphql-sse';
import { decodeJwt } from 'jose';
import type { ApolloServer } from '@apollo/server';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Identity } from '../../platform/auth/identity.ts';
import type { SessionCheck } from '../../platform/auth/session-status.ts';
import { actorOf } from '../../platform/graphql/context.ts';
import { graphqlCommonJs } from '../../platform/graphql/commonjs.ts';
import { BadUserInputError, RateLimitedError, UnauthenticatedError } from '../../platform/errors.ts';
import { notificationsChannel, type PubSub } from '../../platform/redis/pubsub.ts';
import type { Route } from '../../platform/http/server.ts';
import { measure } from '../plugins/query-limits.ts';
import { notSafelisted, sha256 } from '../persisted-operations.ts';
import { planSubscription, type DelegationPlan } from './delegation.ts';
import { FeedReader } from './feed-reader.ts';
import { NotificationHub, type Execute } from './hub.ts';
import { DEGRADED, RECOVERED, SseWriter, StreamState } from './sse-writer.ts';
import { NotificationSubscription } from './subscription.ts';

export const STREAM_PATH = '/graphql/stream';
const TOKEN_HEADER = 'x-graphql-event-stream-token';
/** A single-connection reservation (PUT) not connected (GET) within this time is dropped. */
const RESERVATION_TTL_MS = 30_000;

export interface NotificationStreamsOptions {
  config: Config;
  log: Logger;
  /**
   * How the gateway lets a request in, as for queries: bearer token (session checked) or
   * development headers, null = anonymous; its rate limits charged, refused callers' against
   * their address (throws UNAUTHENTICATED or RATE_LIMITED).
   */
  admit(req: http.IncomingMessage): Promise<Identity | null>;
  sessionActive: SessionCheck;
  apollo: ApolloServer<any>;
  pubsub: PubSub;
  keyPrefix: string;
  /** In safelist mode: whether a document (by the sha256 of its exact text) is on the safelist; subscriptions not on it are refused. */
  safelisted?: (hash: string) => Promise<boolean>;
}

interface StreamRequestContext {
  identity?: Identity;
  expiresAtMs?: number;
  state?: StreamState;
  /** The gateway's own request (dropping an unused reservation): not authenticated. */
  internal?: string;
}

type OperationContext = { state: StreamState; identity: Identity; expiresAtMs: number | undefined; opId: string; lastEventId: string | null };

export interface NotificationStreams {
  route: Route;
  /** The API schema subscriptions are validated against (from the supergraph). */
  setSchema(schema: GraphQLSchema): void;
  start(): Promise<void>;
  /** Ends every stream with a retry hint (SHUTTING_DOWN) and stops reading the feed. */
  stop(): Promise<void>;
  hub: NotificationHub;
  /** Open event streams (connections). */
  readonly openStreams: number;
}

/**
 * `/graphql/stream`: GraphQL subscriptions over Server-Sent Events (graphql-sse, both
 * client modes), authenticated like queries. `notificationAdded` is fed by this
 * instance's feed reader; every other field is resolved by delegated queries through
 * the gateway itself, shared per event, selection and permission scope.
 */
export function notificationStreams(o: NotificationStreamsOptions): NotificationStreams {
  const { config, log } = o;
  let schema: GraphQLSchema | null = null;
  const execute: Execute = async (query, variables, identity) => {
    const response = await o.apollo.executeOperation(
      { query, variables },
      // inProcess: the gateway's own operation (its subscription was checked), exempt from the safelist.
      { contextValue: { identity, actor: actorOf(identity), clientAddress: 'gateway', correlationId: randomUUID(), log, inProcess: true } },
    );
    if (response.body.kind !== 'single') throw new Error('a delegated query answered incrementally');
    return response.body.singleResult as Awaited<ReturnType<Execute>>;
  };
  const hub = new NotificationHub(execute, log);
  const writers = new Set<SseWriter>();
  const subscriptions = new Set<NotificationSubscription>();
  const reservations = new Map<string, { state: StreamState; timer: NodeJS.Timeout }>();
  const reader = new FeedReader(execute, hub, o.pubsub, notificationsChannel(o.keyPrefix), {
    pollMs: config.ANGELIS_GATEWAY_SSE_POLL_MS,
    degradedPollMs: config.ANGELIS_GATEWAY_SSE_DEGRADED_POLL_MS,
    onStatus: (status) => {
      for (const w of writers) w.comment(status === 'degraded' ? DEGRADED : RECOVERED);
    },
  }, log);

  const refuse = (status: number, error: GraphQLError): SseResponse => [
    JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.extensions.code, ...(error.extensions.reason ? { reason: error.extensions.reason } : {}) } }] }),
    { status, statusText: status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Bad Request', headers: { 'content-type': 'application/json; charset=utf-8' } },
  ];

  // Clients subscribe with the same few documents: parse, check, validate and plan each once.
  let documents = new Map<string, DocumentNode | GraphQLError>();
  let validated = new WeakMap<DocumentNode, ReturnType<typeof validate>>();
  let plans = new WeakMap<DocumentNode, Map<string, DelegationPlan>>();
  const documentOf = (query: string): DocumentNode | GraphQLError => {
    let known = documents.get(query);
    if (known) return known;
    try {
      known = parse(query, { maxTokens: config.ANGELIS_GATEWAY_MAX_TOKENS });
      const { depth, aliases } = measure(known);
      if (depth > config.ANGELIS_GATEWAY_MAX_DEPTH) known = new BadUserInputError(`The subscription nests ${depth} levels deep; at most ${config.ANGELIS_GATEWAY_MAX_DEPTH} are allowed`);
      else if (aliases > config.ANGELIS_GATEWAY_MAX_ALIASES) known = new BadUserInputError(`The subscription uses ${aliases} aliases; at most ${config.ANGELIS_GATEWAY_MAX_ALIASES} are allowed`);
    } catch (err) {
      known = new BadUserInputError((err as Error).message);
    }
    if (documents.size >= 1_000) documents.delete(documents.keys().next().value as string);
    documents.set(query, known);
    return known;
  };

  const handler = createHandler<http.IncomingMessage, StreamRequestContext, OperationContext>({
    // This module's graphql-js, the one that built `schema` (see ownRealm); once per document.
    validate: (s, document) => {
      let errors = validated.get(document);
      if (!errors) validated.set(document, (errors = validate(s, document)));
      return errors;
    },
    async authenticate(req) {
      if (req.context.internal) return req.context.internal;
      let identity: Identity | null;
      try {
        identity = await o.admit(req.raw);
      } catch (err) {
        if (err instanceof UnauthenticatedError) return refuse(401, err);
        if (!(err instanceof RateLimitedError)) throw err;
        const [body, init] = refuse(429, err);
        return [body, { ...init, statusText: 'Too Many Requests', headers: { ...init.headers, 'retry-after': String(err.retryAfterSeconds) } }];
      }
      if (!identity) return refuse(401, new UnauthenticatedError('Sign in first: send the same Authorization header as for queries'));
      const expiresAtMs = tokenExpiry(req.raw);
      req.context.identity = identity;
      req.context.expiresAtMs = expiresAtMs;
      if (req.method === 'PUT') {
        const token = randomUUID();
        const state = new StreamState(identity, expiresAtMs, token);
        const timer = setTimeout(() => void dropReservation(token), RESERVATION_TTL_MS).unref();
        reservations.set(token, { state, timer });
        return token;
      }
      const given = req.headers.get(TOKEN_HEADER) ?? new URL(req.url, 'http://localhost').searchParams.get('token');
      if (given) {
        const reservation = reservations.get(given);
        // A token is its owner's: another caller (or session) cannot read or add to the stream.
        if (!reservation || reservation.state.identity.userId !== identity.userId || reservation.state.identity.sessionId !== identity.sessionId) {
          return [JSON.stringify({ errors: [{ message: 'Stream not found' }] }), { status: 404, statusText: 'Not Found', headers: { 'content-type': 'application/json; charset=utf-8' } }];
        }
        req.context.state = reservation.state;
        return given;
      }
      req.context.state = new StreamState(identity, expiresAtMs, null);
      // No token: the distinct-connections mode (a fresh token graphql-sse does not know).
      return randomUUID();
    },
    async onSubscribe(req, params) {
      if (!schema) return refuse(503, new GraphQLError('Subscriptions are not ready yet', { extensions: { code: 'SOURCE_UNAVAILABLE' } }));
      // Like queries: the exact text's hash must be on the safelist, checked before parsing.
      if (o.safelisted && !(await o.safelisted(sha256(params.query)))) return refuse(403, notSafelisted());
      const document = documentOf(params.query);
      if (document instanceof GraphQLError) return refuse(400, document);
      const state = req.context.state!;
      const opId = String(params.extensions?.operationId ?? '');
      const lastEventId = req.headers.get('last-event-id') || null;
      return { schema, document, operationName: params.operationName, variableValues: params.variables, contextValue: { state, identity: req.context.identity!, expiresAtMs: req.context.expiresAtMs, opId, lastEventId } } satisfies OperationArgs<OperationContext>;
    },
    execute: () => ({ errors: [new BadUserInputError('Only subscriptions are served on /graphql/stream; send queries and mutations to /graphql')] }),
    subscribe(args) {
      const { state, identity, expiresAtMs, opId, lastEventId } = args.contextValue;
      let byVariables = plans.get(args.document);
      if (!byVariables) plans.set(args.document, (byVariables = new Map()));
      const planKey = `${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}`;
      let plan = byVariables.get(planKey);
      if (!plan) {
        try {
          plan = planSubscription(args.schema, args.document, args.operationName, args.variableValues);
        } catch (err) {
          if (err instanceof GraphQLError) return { errors: [err] };
          throw err;
        }
        if (byVariables.size < 100) byVariables.set(planKey, plan);
      }
      const subscription = new NotificationSubscription(identity, plan, hub, execute, log, (s) => {
        subscriptions.delete(s);
        if (state.ops.get(opId) === s) state.ops.delete(opId);
      }, (result, json) => state.send(opId, result, json), expiresAtMs);
      subscriptions.add(subscription);
      state.ops.set(opId, subscription);
      subscription.open(lastEventId);
      // Its results are formatted already (errors as the delegated queries answered them).
      return subscription as unknown as AsyncGenerator<ExecutionResult>;
    },
  });

  /** Drops a reservation never connected: graphql-sse forgets a stream when its iterator returns. */
  async function dropReservation(token: string): Promise<void> {
    const reservation = reservations.get(token);
    if (!reservation || reservation.state.writer) return;
    reservations.delete(token);
    const [body] = await handler(internalRequest(token));
    if (body && typeof body !== 'string') await body.return(undefined);
  }

  const route: Route = async (req, res) => {
    const request: SseRequest<http.IncomingMessage, StreamRequestContext> = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: { get: (key) => headerOf(req, key) },
      body: () => readBody(req, config.ANGELIS_GATEWAY_MAX_BODY_BYTES),
      raw: req,
      context: {},
    };
    const [body, init] = await handler(request);
    if (body === null || typeof body === 'string') {
      res.writeHead(init.status, init.headers);
      return void res.end(body ?? undefined);
    }
    const state = request.context.state!;
    const writer = new SseWriter(res, body, state, {
      buffer: config.ANGELIS_GATEWAY_SSE_BUFFER,
      retryMs: config.ANGELIS_GATEWAY_SSE_RETRY_MS,
      degraded: reader.isDegraded,
      onDone: (w) => {
        writers.delete(w);
        if (state.token) {
          clearTimeout(reservations.get(state.token)?.timer);
          reservations.delete(state.token);
        }
      },
    });
    state.writer = writer;
    if (state.token) clearTimeout(reservations.get(state.token)?.timer);
    writers.add(writer);
    writer.start(init.headers ?? {});
    // The connection itself ends with its token (its operations have said why just before).
    if (state.expiresAtMs !== undefined) {
      const timer = setTimeout(() => writer.endWith('TOKEN_EXPIRED'), Math.max(0, state.expiresAtMs - Date.now()) + 250).unref();
      res.once('close', () => clearTimeout(timer));
    }
  };

  const heartbeatMs = config.ANGELIS_GATEWAY_SSE_HEARTBEAT_MS;
  let heartbeat: NodeJS.Timeout | undefined;
  let sessionCheck: NodeJS.Timeout | undefined;

  /** Revoked sessions end their streams (checked on a timer: sessions are revoked in CIAM). */
  async function checkSessions(): Promise<void> {
    const sessions = new Set<string>();
    for (const s of subscriptions) if (!s.identity.dev) sessions.add(s.identity.sessionId);
    for (const w of writers) if (!w.state.identity.dev) sessions.add(w.state.identity.sessionId);
    const revoked = new Set<string>();
    await Promise.all(
      [...sessions].map(async (sid) => {
        try {
          if (!(await o.sessionActive(sid))) revoked.add(sid);
        } catch (err) {
          // Unknown (store unreachable): the stream stays; the next check decides.
          log.debug({ err }, 'notifications: session check failed');
        }
      }),
    );
    if (revoked.size === 0) return;
    for (const s of [...subscriptions]) if (revoked.has(s.identity.sessionId)) s.end('SESSION_REVOKED');
    setTimeout(() => {
      for (const w of writers) if (revoked.has(w.state.identity.sessionId)) w.endWith('SESSION_REVOKED');
    }, 250).unref();
  }

  return {
    route,
    hub,
    get openStreams() {
      return writers.size;
    },
    setSchema(next) {
      schema = ownRealm(next);
      documents = new Map();
      validated = new WeakMap();
      plans = new WeakMap();
    },
    async start() {
      await reader.start();
      heartbeat = setInterval(() => {
        const now = Date.now();
        for (const w of writers) w.heartbeat(now, heartbeatMs / 2);
      }, heartbeatMs / 2).unref();
      sessionCheck = setInterval(() => void checkSessions(), config.ANGELIS_GATEWAY_SSE_SESSION_CHECK_MS).unref();
    },
    async stop() {
      clearInterval(heartbeat);
      clearInterval(sessionCheck);
      for (const w of [...writers]) w.terminate('SHUTTING_DOWN');
      for (const { timer } of reservations.values()) clearTimeout(timer);
      reservations.clear();
      await reader.stop();
    },
  };
}

/**
 * The schema as this module's graphql-js sees it. @apollo/gateway is CommonJS and builds
 * its schema with graphql's CommonJS build, while graphql-sse and this module may load the
 * ES module build: two realms whose types refuse each other. The SDL crosses realms.
 */
function ownRealm(schema: GraphQLSchema): GraphQLSchema {
  let sdl: string;
  try {
    sdl = printSchema(schema);
  } catch {
    sdl = graphqlCommonJs.printSchema(schema);
  }
  return buildSchema(sdl);
}

/** The `exp` of the request's bearer token (already verified by the authenticator), in ms. */
function tokenExpiry(req: http.IncomingMessage): number | undefined {
  const authorization = req.headers.authorization;
  if (!authorization?.startsWith('Bearer ')) return undefined;
  try {
    const { exp } = decodeJwt(authorization.slice(7));
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function headerOf(req: http.IncomingMessage, key: string): string | null {
  const value = req.headers[key.toLowerCase()];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

function internalRequest(token: string): SseRequest<http.IncomingMessage, StreamRequestContext> {
  return {
    method: 'GET',
    url: STREAM_PATH,
    headers: { get: (key) => (key === 'accept' ? 'text/event-stream' : key === TOKEN_HEADER ? token : null) },
    body: null,
    raw: undefined as unknown as http.IncomingMessage,
    context: { internal: token },
  };
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new BodyTooLarge(`Request body over ${limit} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
