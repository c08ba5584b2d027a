import { createHash } from 'node:crypto';
import type { ApolloServer, ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Kind, parse, type GraphQLInputType, type GraphQLSchema, type TypeNode } from 'graphql';
import { ForbiddenError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import type { KeyValueStore } from '../platform/redis/store.ts';
import { graphqlCommonJs } from '../platform/graphql/commonjs.ts';

/**
 * Persisted operations, kept in the shared store (Redis) so every gateway instance knows them:
 * - `apq`: automatic persisted queries (Apollo's protocol). A client sends
 *   `extensions.persistedQuery.sha256Hash`; an unknown hash answers PERSISTED_QUERY_NOT_FOUND
 *   and the client sends the text with the hash once, which registers it.
 *   Only an authenticated caller registers (an anonymous one's text runs, its hash stays
 *   unknown), and at most `apqMax` operations are kept: past that a new one runs unregistered
 *   until expired ones are pruned from the index.
 * - `safelist`: only operations registered ahead (`npm run safelist -- <files>`) run, by hash
 *   or by their exact text; anything else is refused with FORBIDDEN (`extensions.reason`
 *   OPERATION_NOT_SAFELISTED) before it is executed, and clients cannot register. The same
 *   holds for subscriptions on /graphql/stream (sha256 of their exact text). The gateway's
 *   own in-process operations (warm-up, notification feed and delegated queries) are
 *   exempt: they carry `GatewayOwnOperation` in their context, which only the gateway's
 *   code builds, never from a request.
 * - `off`: full texts only (Apollo answers a hash with PERSISTED_QUERY_NOT_SUPPORTED).
 * Every persisted operation is also listed in an index, from which a starting gateway warms
 * its parse, validation and query-plan caches (warmUp).
 */
export type PersistedMode = 'apq' | 'safelist' | 'off';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Context fields of the gateway's own in-process operations. Set only where the gateway
 * calls `apollo.executeOperation` itself; the HTTP context function never sets them, and
 * nothing a client sends (body, extensions, headers) reaches them.
 */
export interface GatewayOwnOperation {
  /** A persisted operation warming the caches: planned, its subgraph fetches never sent. */
  warmUp?: true;
  /** The notification streams' feed reads and delegated queries (their subscription was checked). */
  inProcess?: true;
}
const isOwnOperation = (context: unknown) => {
  const c = context as GatewayOwnOperation | undefined;
  return c?.warmUp === true || c?.inProcess === true;
};

/** The refusal of an operation (query, mutation or subscription) that is not on the safelist. */
export function notSafelisted(): ForbiddenError {
  const error = new ForbiddenError('This gateway runs only safelisted operations, and this one is not on the safelist');
  Object.assign(error.extensions, { reason: 'OPERATION_NOT_SAFELISTED', http: { status: 403 } });
  return error;
}

/** Default of ANGELIS_GATEWAY_APQ_MAX. */
export const APQ_MAX = 10_000;
/** A full APQ index is pruned of expired operations at most this often (per instance). */
const APQ_PRUNE_EVERY_MS = 60_000;

// graphql's CommonJS build, the one the gateway's schema is built with (platform/graphql/commonjs.ts).
const { isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType } = graphqlCommonJs;

/** How long safelisted operations are kept: until replaced; the index's expiry is renewed on every registration. */
const SAFELIST_TTL_MS = 10 * 365 * 24 * 3_600_000;

export interface PersistedStore {
  /** Apollo's `persistedQueries.cache`: `apq:<hash>` keys in the shared store. */
  cache: { get(key: string): Promise<string | undefined>; set(key: string, value: string, options?: { ttl?: number | null }): Promise<void>; delete(key: string): Promise<boolean | void> };
  safelisted(hash: string): Promise<boolean>;
  /** Registers documents on the safelist (by the sha256 of their exact text); returns their hashes. */
  register(texts: string[]): Promise<string[]>;
  /** Texts of persisted operations (APQ and safelist), for warming caches. */
  known(limit: number): Promise<string[]>;
}

export function persistedStore(store: KeyValueStore, prefix: string, mode: PersistedMode, apqTtlMs: number, apqMax = APQ_MAX): PersistedStore {
  const apqKey = (hash: string) => `${prefix}gateway:apq:${hash}`;
  const safeKey = (hash: string) => `${prefix}gateway:safelist:${hash}`;
  const apqIndex = `${prefix}gateway:apq-index`;
  const safeIndex = `${prefix}gateway:safelist-index`;
  // Apollo asks for `apq:<hash>`; in safelist mode the answer comes from the safelist and nothing is stored.
  const hashOf = (key: string) => key.replace(/^apq:/, '');
  let prunedAt = -Infinity;
  /** Whether `hash` may join the APQ index: already in it, or room left (after dropping expired members, at most once a minute). */
  const roomFor = async (hash: string): Promise<boolean> => {
    const members = await store.setMembers(apqIndex);
    if (members.length < apqMax || members.includes(hash)) return true;
    if (Date.now() - prunedAt < APQ_PRUNE_EVERY_MS) return false;
    prunedAt = Date.now();
    const alive = await Promise.all(members.map((h) => store.exists(apqKey(h))));
    const expired = members.filter((_, i) => !alive[i]);
    if (expired.length > 0) await store.setRemove(apqIndex, ...expired);
    return members.length - expired.length < apqMax;
  };
  return {
    cache: {
      async get(key) {
        const hash = hashOf(key);
        return (await store.get(mode === 'safelist' ? safeKey(hash) : apqKey(hash))) ?? undefined;
      },
      async set(key, value) {
        if (mode !== 'apq') return;
        const hash = hashOf(key);
        // Full: the operation runs, unregistered (its client keeps sending the text).
        if (!(await roomFor(hash))) return;
        await store.set(apqKey(hash), value, apqTtlMs);
        await store.setAdd(apqIndex, hash, apqTtlMs);
      },
      async delete(key) {
        if (mode === 'apq') await store.del(apqKey(hashOf(key)));
      },
    },
    safelisted: (hash) => store.exists(safeKey(hash)),
    async register(texts) {
      const hashes: string[] = [];
      for (const text of texts) {
        parse(text); // a document that does not parse is refused here, not at the first request
        const hash = sha256(text);
        await store.set(safeKey(hash), text, SAFELIST_TTL_MS);
        await store.setAdd(safeIndex, hash, SAFELIST_TTL_MS);
        hashes.push(hash);
      }
      return hashes;
    },
    async known(limit) {
      const [apq, safe] = await Promise.all([store.setMembers(apqIndex), store.setMembers(safeIndex)]);
      const texts: string[] = [];
      for (const [hashes, key] of [[safe, safeKey], [mode === 'apq' ? apq : [], apqKey]] as const) {
        for (const hash of hashes) {
          if (texts.length >= limit) return texts;
          const text = await store.get(key(hash));
          if (text) texts.push(text);
        }
      }
      return texts;
    },
  };
}

/**
 * Apollo refuses a hash that does not match the text sent with it ("provided sha does not
 * match query", HTTP 400) without a code, which the gateway would mask as internal: it is
 * the client's mistake, so it is coded BAD_REQUEST. Listed before the masking plugin.
 */
export function persistedErrorsPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const e of errors) {
            if (e.message === 'provided sha does not match query' && !e.extensions.code) (e.extensions as Record<string, unknown>).code = 'BAD_REQUEST';
          }
        },
      };
    },
  };
}

/**
 * Only an authenticated caller registers an automatic persisted query: an anonymous one's
 * text (sent with its hash) runs, and its hash stays unknown (PERSISTED_QUERY_NOT_FOUND next
 * time). Apollo writes the cache after `didResolveOperation`, so this hook can cancel it.
 */
export function apqRegistrationPlugin<C extends BaseContext & { identity: unknown }>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, metrics }) {
          if (metrics.persistedQueryRegister && !contextValue.identity) metrics.persistedQueryRegister = false;
        },
      };
    },
  };
}

/**
 * Refuses, in safelist mode, any operation whose exact text is not on the safelist (after APQ
 * resolved a hash to its text). Only the gateway's own operations are exempt, judged by the
 * context the gateway built (GatewayOwnOperation), never by anything in the request.
 */
export function safelistPlugin<C extends BaseContext>(persisted: PersistedStore): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      if (isOwnOperation(contextValue)) return {};
      return {
        // After parsing and validation (bounded by the token limit), before any planning or fetch.
        async didResolveOperation({ queryHash }) {
          if (await persisted.safelisted(queryHash)) return;
          throw notSafelisted();
        },
      };
    },
  };
}

/** A value of `type` that variable coercion accepts (for warming plans without a client's variables). */
function placeholder(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return placeholder(type.ofType);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0]?.value;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined).map((f) => [f.name, placeholder(f.type)]));
  }
  if (isScalarType(type)) {
    const candidates: Record<string, unknown> = { ID: '0', String: '', Int: 0, Float: 0, Boolean: false, Date: '2000-01-01', DateTime: '2000-01-01T00:00:00.000Z' };
    return type.name in candidates ? candidates[type.name] : null;
  }
  return null;
}

/**
 * Runs each persisted operation once through Apollo as a warm-up request: parsed, validated
 * and planned (the caches keep all three), with placeholder variables; its subgraph fetches are
 * answered empty without leaving the gateway (SubgraphSource skips a warm-up request), so
 * nothing is read or written. Returns how many were warmed.
 */
export async function warmUp(apollo: ApolloServer<never>, schema: () => GraphQLSchema | undefined, texts: string[], context: () => object & Required<Pick<GatewayOwnOperation, 'warmUp'>>, log: Logger): Promise<number> {
  let warmed = 0;
  for (const text of texts) {
    try {
      const document = parse(text);
      const s = schema();
      for (const op of document.definitions) {
        if (op.kind !== Kind.OPERATION_DEFINITION) continue;
        const variables: Record<string, unknown> = {};
        for (const v of op.variableDefinitions ?? []) {
          if (v.type.kind !== Kind.NON_NULL_TYPE || v.defaultValue) continue;
          const type = s && (s.getType(namedType(v.type)) as GraphQLInputType | undefined);
          variables[v.variable.name.value] = type ? wrap(v.type, placeholder(type)) : null;
        }
        // With and without the operation's name: the plan cache keys on both, and clients differ.
        for (const operationName of new Set([op.name?.value, document.definitions.length === 1 ? undefined : op.name?.value])) {
          await apollo.executeOperation({ query: text, operationName, variables }, { contextValue: context() as never });
        }
        warmed++;
      }
    } catch (err) {
      log.warn({ err }, 'could not warm a persisted operation');
    }
  }
  return warmed;
}

const namedType = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type));
/** A placeholder wrapped in as many lists as the variable's type has (an empty list is enough). */
const wrap = (t: TypeNode, value: unknown): unknown => (t.kind === Kind.NON_NULL_TYPE ? wrap(t.type, value) : t.kind === Kind.LIST_TYPE ? [] : value);
