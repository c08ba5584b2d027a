import type { ApolloGateway, GraphQLDataSource } from '@apollo/gateway';
import { Supergraph, baseType, operationFromDocument, type InterfaceType, type ObjectType, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext, GatewayGraphQLResponse, GatewayInterface } from '@apollo/server-gateway-interface';
import { Kind, print, visit, type DefinitionNode, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { graphqlCommonJs } from '../platform/graphql/commonjs.ts';
import type { Identity } from '../platform/auth/identity.ts';
import type { PlainRequest } from '../platform/http/server.ts';
import type { CacheExtension } from '../platform/response-cache/reads.ts';
import { objectsAt, splitQuery, type EntityCache, type Split } from './entity-cache.ts';
import { cacheExtensionOf, collectFetch, type CacheCollector } from './response-cache.ts';

/**
 * Single-subgraph operations sent as the client wrote them.
 *
 * When the query planner's plan for a query is one fetch from one subgraph (no entity
 * jump, no second subgraph), Apollo's gateway still rewrites the operation for that
 * subgraph, then walks the whole answer again to shape it for the client (result
 * shaping), which for a 30 kB answer costs as much CPU as the subgraph spends producing
 * it. Sending the client's own operation (its fragments, aliases and directives) to that
 * subgraph gives an answer already in the client's shape, so the gateway only passes it on.
 *
 * Only when it is the same answer: the plan is a single fetch (decided by the same query
 * planner the gateway uses, on the same supergraph), the operation is a query with no
 * introspection and no directive but @skip/@include, and every field it selects has, in
 * that subgraph, exactly the type and argument defaults the API schema gives it (a field
 * shared with a different nullability would propagate nulls differently). Anything else
 * runs through the planned path. The subgraph call is the same data source (identity,
 * in-flight merging, the response cache's tags, SOURCE_UNAVAILABLE), and its errors are
 * reported as the planned path reports a subgraph's errors.
 */
export interface PassthroughStats {
  passed: number;
  planned: number;
  /** Of the passed: answered without Apollo Server's request pipeline (`answer` below). */
  direct: number;
  /** Passed, by operation name (the first 1,000 names seen). */
  passedByName: Map<string, number>;
}

type Decision = { subgraph: string; query: string; document: DocumentNode; split: Split | null } | null;

/**
 * What `answer` leaves in a request's context when it does not answer: the subgraph's
 * response, for Apollo's run of the same request (Apollo copies the context's fields into
 * the one its executor gets, so it travels as a field).
 */
export interface PassthroughContext {
  passthroughFetch?: { request: PlainRequest; response: GatewayGraphQLResponse | null };
}

/** The passthrough gateway, and its answers that skip Apollo Server (gateway/server.ts offers them to the HTTP server). */
export interface Passthrough extends GatewayInterface {
  stats: PassthroughStats;
  /**
   * The subgraph's clean answer (data, no error) to a request whose exact text (and
   * operation name) Apollo Server already ran to this gateway's passthrough, sent the way
   * that run sent it; null when the text is not known or the answer is not clean. What the
   * subgraph answered then is kept with `context`, so Apollo, answering the same request
   * with that context, formats it (errors, SOURCE_UNAVAILABLE) without asking again.
   */
  answer(request: PlainRequest, context: object): Promise<{ data: Record<string, unknown> } | null>;
}

/** How many client texts, and how much text, are kept as known to pass (all are forgotten when either is reached, then learned again). */
const KNOWN_MAX = 1_000;
const KNOWN_MAX_CHARS = 16 * 1024 * 1024;

/** `entities`: the entity cache, when on (gateway/entity-cache.ts): operations that split are answered through it. */
export function passthroughGateway(gateway: ApolloGateway, supergraphSdl: string, sources: () => Map<string, GraphQLDataSource>, entities?: EntityCache): Passthrough {
  const supergraph = Supergraph.build(supergraphSdl);
  const apiSchema = supergraph.apiSchema();
  const planner = new QueryPlanner(supergraph);
  const subgraphSchemas = new Map<string, Schema>();
  for (const subgraph of supergraph.subgraphs()) subgraphSchemas.set(subgraph.name, subgraph.schema);
  // Per parsed document (Apollo keeps one per query text) and operation name.
  const decisions = new WeakMap<DocumentNode, Map<string, Decision>>();
  const stats: PassthroughStats = { passed: 0, planned: 0, direct: 0, passedByName: new Map() };
  /**
   * Client texts Apollo ran here and passed whole (never split): by then it had parsed and
   * validated the text and every plugin had accepted the operation (limits, safelist), all
   * of which depend on the text alone. Kept as text only (the subgraph, the operation as sent
   * to it, and its name), never the parsed document, whose tree is two orders of magnitude
   * larger than the text; bounded by the characters held.
   */
  type Known = { subgraph: string; query: string; operationName: string | undefined };
  /** By the client's operation name exactly (none: undefined; '' is a name no operation has), then text. */
  const known = new Map<string | undefined, Map<string, Known>>();
  let knownCount = 0;
  let knownChars = 0;
  const knownAs = (query: string, operationName: string | undefined) => known.get(operationName)?.get(query);

  const countPassed = (name: string) => {
    stats.passed++;
    if (stats.passedByName.has(name) || stats.passedByName.size < 1_000) stats.passedByName.set(name, (stats.passedByName.get(name) ?? 0) + 1);
  };

  function decide(ctx: GatewayGraphQLRequestContext): Decision {
    let byName = decisions.get(ctx.document);
    if (!byName) decisions.set(ctx.document, (byName = new Map()));
    const name = ctx.operationName ?? '';
    if (byName.has(name)) return byName.get(name)!;
    let decision: Decision = null;
    try {
      decision = eligible(ctx);
    } catch {
      decision = null;
    }
    byName.set(name, decision);
    return decision;
  }

  function eligible(ctx: GatewayGraphQLRequestContext): Decision {
    const op = ctx.operation;
    if (op.operation !== 'query') return null;
    const fragments = usedFragments(ctx.document, op);
    if (!fragments) return null;
    const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [op, ...fragments] };
    const plan: QueryPlan = planner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName: op.name?.value, validate: false }));
    const node = plan.node;
    if (!node || node.kind !== 'Fetch' || node.requires || node.inputRewrites?.length || node.outputRewrites?.length) return null;
    const subgraph = node.serviceName;
    const own = subgraphSchemas.get(subgraph);
    if (!own || !sameFields(apiSchema, own, op, fragments)) return null;
    return { subgraph, query: print(document), document, split: entities ? splitQuery(own, op, fragments) : null };
  }

  /** One request to a subgraph through its data source, or null when it threw. */
  async function send(ctx: GatewayGraphQLRequestContext, subgraph: string, query: string, document: DocumentNode | undefined, variables: Record<string, unknown> | undefined, operationName: string | undefined): Promise<GatewayGraphQLResponse | null> {
    const source = sources().get(subgraph);
    if (!source) return null;
    try {
      return await source.process({
        // GraphQLDataSourceRequestKind.INCOMING_OPERATION (the enum is not exported).
        kind: 'incoming operation',
        request: { query, variables, operationName },
        incomingRequestContext: ctx,
        context: ctx.context,
        document,
        pathInIncomingRequest: [],
      } as never);
    } catch {
      return null;
    }
  }

  /**
   * The answer put together from the skeleton and the entities (cached or fetched), or null
   * when that cannot be done cleanly (an error, an entity missing): the query is then sent
   * unsplit. A subgraph that cannot be reached answers the skeleton as it would the query
   * (its root fields null, SOURCE_UNAVAILABLE), which is passed on as is when no entity of
   * the skeleton is left to fill (otherwise the query unsplit answers).
   */
  async function passSplit(ctx: GatewayGraphQLRequestContext, subgraph: string, split: Split, cache: EntityCache, identity: Identity): Promise<GatewayExecutionResult | null> {
    const skeleton = await send(ctx, subgraph, split.query, split.document, ctx.request.variables, ctx.operation.name?.value);
    if (!skeleton?.data || typeof skeleton.data !== 'object') return null;
    const data = skeleton.data;
    if (skeleton.errors?.length) {
      const unavailable = skeleton.errors.every((e) => e.extensions?.code === 'SOURCE_UNAVAILABLE');
      if (!unavailable || split.boundaries.some((b) => objectsAt(data, b.path).length > 0)) return null;
      return { data, errors: skeleton.errors.map((e) => downstreamError(e, subgraph)) };
    }
    const hits: CacheExtension[] = [];
    const filled = await Promise.all(split.boundaries.map(async (boundary) => {
      const places = objectsAt(data, boundary.path);
      if (places.length === 0) return true;
      const ids = [...new Set(places.map((p) => p.value.id))];
      if (!ids.every((id): id is string => typeof id === 'string')) return false;
      const keys = ids.map((id) => cache.key(identity, boundary, id));
      const found = await cache.lookup(keys);
      const parts = new Map<string, unknown>();
      found.forEach((f, i) => {
        if (!f) return;
        parts.set(ids[i], f.value);
        hits.push(f.extension);
      });
      const missing = ids.flatMap((id, i) => (found[i] ? [] : [{ id, key: keys[i] }]));
      if (missing.length) {
        const representations = missing.map(({ id }) => ({ __typename: boundary.type, id }));
        const fetched = await send(ctx, subgraph, boundary.query, boundary.document, { representations }, undefined);
        const list = (fetched?.data as { _entities?: unknown } | undefined)?._entities;
        if (!fetched || fetched.errors?.length || !Array.isArray(list) || list.length !== missing.length || list.some((v) => !v || typeof v !== 'object')) return false;
        missing.forEach(({ id }, i) => parts.set(id, list[i]));
        // Kept when the fetch was tagged (store itself refuses personal and expired answers).
        const extension = cacheExtensionOf(fetched.extensions);
        if (typeof extension !== 'string') cache.store(missing.map(({ key }, i) => ({ key, value: list[i] })), extension);
      }
      for (const p of places) (p.parent as Record<string | number, unknown>)[p.key] = parts.get(p.value.id as string);
      return true;
    }));
    if (!filled.every(Boolean)) return null;
    // What the cached parts read joins the answer's tags, as their fetches would have (response-cache.ts).
    const collector = (ctx.context as { cache?: CacheCollector }).cache;
    for (const extension of hits) collectFetch(collector, { angelisCache: extension }, true);
    return { data };
  }

  /** The subgraph's answer to the client's operation, or null when it gave none to pass on (down, or refused the request): the planned path then answers. */
  async function pass(ctx: GatewayGraphQLRequestContext, decision: NonNullable<Decision>): Promise<GatewayExecutionResult | null> {
    const identity = (ctx.context as { identity?: Identity | null }).identity;
    if (decision.split && entities && identity) {
      // Anything unforeseen on the split path (it is an optimisation) leaves the query to be sent whole.
      const answered = await passSplit(ctx, decision.subgraph, decision.split, entities, identity).catch(() => null);
      if (answered) {
        entities.stats.split++;
        return answered;
      }
      entities.stats.unsplit++;
    }
    // Already fetched by `answer` for this very request (its context, the same text): not asked again.
    const context = ctx.context as PassthroughContext;
    const before = context.passthroughFetch;
    if (before) delete context.passthroughFetch;
    const response = before && before.request.query === ctx.request.query && before.request.operationName === ctx.request.operationName
      ? before.response
      : await send(ctx, decision.subgraph, decision.query, decision.document, ctx.request.variables, ctx.operation.name?.value);
    if (!response?.data || typeof response.data !== 'object') return null;
    const errors = response.errors?.map((e) => downstreamError(e, decision.subgraph));
    return errors?.length ? { data: response.data, errors } : { data: response.data };
  }

  return {
    stats,
    async answer(request, context) {
      const entry = knownAs(request.query, request.operationName);
      if (!entry) return null;
      const { subgraph, query, operationName } = entry;
      const incoming = { request, context, operationName: operationName ?? null } as unknown as GatewayGraphQLRequestContext;
      // No document: a subgraph that cannot be reached has its answer built from the text (unavailable-response.ts).
      const response = await send(incoming, subgraph, query, undefined, request.variables, operationName);
      if (response?.data && typeof response.data === 'object' && !response.errors?.length) {
        stats.direct++;
        countPassed(operationName ?? '');
        return { data: response.data as Record<string, unknown> };
      }
      (context as PassthroughContext).passthroughFetch = { request, response };
      return null;
    },
    async load(options) {
      const loaded = await gateway.load(options);
      const planned = loaded.executor;
      return {
        schema: loaded.schema,
        executor: async (ctx) => {
          const decision = decide(ctx);
          if (!decision) {
            stats.planned++;
            return planned(ctx);
          }
          const query = ctx.request.query;
          // Learned from clients' requests only (a warm-up's context skips the plugins that check them).
          if (query !== undefined && !decision.split && !(ctx.context as { warmUp?: boolean }).warmUp) {
            if (!knownAs(query, ctx.request.operationName)) {
              const chars = query.length + decision.query.length;
              if (knownCount >= KNOWN_MAX || knownChars + chars > KNOWN_MAX_CHARS) (known.clear(), (knownCount = 0), (knownChars = 0));
              const byName = known.get(ctx.request.operationName) ?? new Map<string, Known>();
              known.set(ctx.request.operationName, byName);
              byName.set(query, { subgraph: decision.subgraph, query: decision.query, operationName: ctx.operation.name?.value });
              knownCount++;
              knownChars += chars;
            }
          }
          const passed = await pass(ctx, decision);
          if (passed) {
            countPassed(ctx.operation.name?.value ?? '');
            return passed;
          }
          stats.planned++;
          return planned(ctx);
        },
      };
    },
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  };
}

/** The fragments `op` uses (transitively), or null when the document is one the subgraph should not be sent as is. */
function usedFragments(document: DocumentNode, op: OperationDefinitionNode): FragmentDefinitionNode[] | null {
  const all = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions as DefinitionNode[]) if (d.kind === Kind.FRAGMENT_DEFINITION) all.set(d.name.value, d);
  const used = new Map<string, FragmentDefinitionNode>();
  let refused = false;
  const walk = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const f = all.get(spread.name.value);
        if (!f) return void (refused = true);
        if (!used.has(f.name.value)) {
          used.set(f.name.value, f);
          walk(f);
        }
      },
      Directive(d) {
        if (d.name.value !== 'skip' && d.name.value !== 'include') refused = true;
      },
      Field(f) {
        if (f.name.value === '__schema' || f.name.value === '__type') refused = true;
      },
    });
  walk(op);
  return refused ? null : [...used.values()];
}

/**
 * Every field the operation selects has the same type and argument defaults in the
 * subgraph as in the API schema, and every type condition is a type the subgraph has.
 * Walked on federation's own schema objects (the graphql-js ones of another module
 * instance would fail its instanceof checks).
 */
function sameFields(api: Schema, own: Schema, op: OperationDefinitionNode, fragments: FragmentDefinitionNode[]): boolean {
  const byName = new Map(fragments.map((f) => [f.name.value, f]));
  const root = api.schemaDefinition.rootType(op.operation)?.name;
  const fieldsOf = (schema: Schema, type: string) => {
    const t = schema.type(type);
    return t && 'field' in t ? (t as ObjectType | InterfaceType) : undefined;
  };
  const walk = (selections: SelectionSetNode, parent: string): boolean => {
    for (const sel of selections.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value === '__typename') continue;
        const field = fieldsOf(api, parent)?.field(sel.name.value);
        const ownField = fieldsOf(own, parent)?.field(sel.name.value);
        if (!field || !ownField || String(field.type) !== String(ownField.type)) return false;
        for (const arg of field.arguments()) {
          const ownArg = ownField.argument(arg.name);
          if (!ownArg || String(ownArg.type) !== String(arg.type) || JSON.stringify(ownArg.defaultValue) !== JSON.stringify(arg.defaultValue)) return false;
        }
        if (sel.selectionSet && !walk(sel.selectionSet, baseType(field.type!).name)) return false;
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition?.name.value ?? parent;
        if (!own.type(type) || !walk(sel.selectionSet, type)) return false;
      } else {
        const f = byName.get(sel.name.value);
        if (!f || !own.type(f.typeCondition.name.value) || !walk(f.selectionSet, f.typeCondition.name.value)) return false;
      }
    }
    return true;
  };
  return root !== undefined && walk(op.selectionSet, root);
}

/** graphql as @apollo/gateway and @apollo/server load it: errors built with another instance lose their path (platform/graphql/commonjs.ts). */
const { GraphQLError } = graphqlCommonJs;

/** A subgraph's error as the planned path reports it (@apollo/gateway's downstreamServiceError): its message, path and extensions, and the subgraph's name. */
function downstreamError(e: { message?: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }, subgraph: string) {
  const message = e.message || `Error while fetching subquery from service "${subgraph}"`;
  const code = e.extensions?.code ?? 'DOWNSTREAM_SERVICE_ERROR';
  return new GraphQLError(message, { path: e.path, extensions: { ...e.extensions, code, serviceName: subgraph } });
}
