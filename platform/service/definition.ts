import type http from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Config, ConfigFragment } from '../config.ts';
import type { CommandHandler, CommandHandlerOptions } from '../event-store/command-handler.ts';
import type { EventStore } from '../event-store/port.ts';
import type { RequestContext } from '../graphql/context.ts';
import type { ResolverTypesConfig } from '../graphql/resolver-types.ts';
import type { Route } from '../http/server.ts';
import type { Logger } from '../logger.ts';
import type { Db, PoolSettings } from '../postgres/pool.ts';
import type { ReadRules } from '../response-cache/reads.ts';

/**
 * What a subgraph is, declared once in its folder (`subgraphs/<name>/subgraph.ts`); the kit
 * (boot.ts) does the rest: storage, migrations, command handler, identity, HTTP server,
 * readiness, health and graceful stop. A new domain is this definition, its SDL
 * (`schema/subgraphs/<name>.graphql`), a three-line main.ts and one registry entry.
 */

/** Where a subgraph keeps (or reads) its data, opened by its definition. */
export interface Storage<Tx = unknown> {
  /** An owned domain's event store; read-only sources have none. */
  store?: EventStore<Tx, unknown>;
  /** True when the database answers: the subgraph's readiness. */
  ready(): Promise<boolean>;
  /** Closes what `open` opened (not what a caller passed in). */
  close(): Promise<void>;
}

/** The transaction handle of a storage's event store. */
export type TxOf<S extends Storage> = S extends { store?: EventStore<infer Tx, unknown> } ? Tx : never;

/** What the kit hands a definition when it builds the subgraph's long-lived parts. */
export interface Booted<S extends Storage, O> {
  config: Config;
  log: Logger;
  storage: S;
  /** Commands over the event store; null for read-only sources. */
  handler: CommandHandler<TxOf<S>> | null;
  /** Options the caller passed (tests inject clocks, stores, ports...). */
  options: O;
}

export interface SubgraphDefinition<S extends Storage = Storage, P = unknown, C extends RequestContext = RequestContext, O extends object = object> {
  /** Its name: the SDL file, the registry entry, the ANGELIS_<NAME>_* variables, the logs. */
  name: string;
  /** `domain`: owns its data, every change an event. `source`: reads an external system, never writes. */
  kind: 'domain' | 'source';
  /** Port when ANGELIS_<NAME>_PORT is unset. */
  defaultPort: number;
  /** Its own ANGELIS_<NAME>_* variables, if any. */
  config?: ConfigFragment;
  /** Opens (and migrates) its storage. */
  open(config: Config, log: Logger, options: O): Promise<S>;
  /** Builds the long-lived parts its resolvers use (commands, clients, timers). */
  setup(booted: Booted<S, O>): P | Promise<P>;
  /** The per-request context its resolvers get: the platform's, plus its own parts. */
  context(base: RequestContext, parts: P, req: http.IncomingMessage): C | Promise<C>;
  resolvers: object;
  /** How its generated resolver types (npm run codegen) map to its context and rows. */
  resolverTypes?: ResolverTypesConfig;
  /** Apollo plugins of its own, after the platform's. */
  plugins?: ApolloServerPlugin<C>[];
  /** Extra HTTP routes by path (e.g. CIAM's JWKS). */
  routes?(parts: P, booted: Booted<S, O>): Record<string, Route>;
  /** Stops what `setup` started (timers, connections), before the storage closes. */
  stop?(parts: P): Promise<void>;
  /** How its commands are batched and retried. */
  handlerOptions?: CommandHandlerOptions;
  /**
   * Owned domains on PostgreSQL: lets the gateway cache its answers (gateway/response-cache.ts).
   * The pool whose statements are tagged, and the rules that tag them and the events'
   * writes (platform/response-cache/reads.ts). Without it, no answer of it is cached.
   */
  responseCache?(storage: S): { db: Db; rules: ReadRules };
  /** Owned domains: where the projector reads its events (only read, never written). */
  eventSource?(config: Config): EventSourceSettings;
  /** Owned domains: truncates the read tables and replays every event; returns how many. */
  rebuild?(storage: S, onProgress?: (replayed: number) => void): Promise<number>;
  /**
   * Development sample data, written through its own commands; it may read other subgraphs
   * (already seeded, in registry order) through `peers`. Returns lines to print (logins).
   */
  seed?(domain: Booted<S, O> & { parts: P }, peers: SeedPeers): Promise<string[] | void>;
}

/**
 * Where a domain's event log is read from (by the projector). `mongodb`: a domain on
 * MongoDB (Safety with ANGELIS_MONGO_URL), read by the projector's MongoDB reader
 * (`events` in `globalPosition` order, majority reads). A kind the projector has no reader
 * for is refused at start, never skipped.
 */
export type EventSourceSettings = { kind: 'postgres'; settings: PoolSettings } | { kind: 'mongodb'; url: string; database: string };

/** How a seed reads other subgraphs: as the system, through their GraphQL API (never their database). */
export interface SeedPeers {
  query<T = unknown>(subgraph: string, document: string, variables?: Record<string, unknown>): Promise<T>;
  /** The gateway's URL, for instructions printed to the user. */
  gatewayUrl: string;
}

/** Declares a subgraph (an identity function that keeps the definition's types). */
export function defineSubgraph<S extends Storage, P, C extends RequestContext, O extends object = object>(
  definition: SubgraphDefinition<S, P, C, O>,
): SubgraphDefinition<S, P, C, O> {
  return definition;
}
