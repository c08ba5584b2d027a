import { Kind, parse, type DocumentNode, type FragmentDefinitionNode, type GraphQLFormattedError, type SelectionSetNode } from 'graphql';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { SourceUnavailableError } from '../platform/errors.ts';

/** Network failures that mean the subgraph could not be reached or did not answer in time. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/** Statuses of a proxy or load balancer in front of a subgraph that has no healthy upstream. */
export const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/** True when `err` (or what caused it) says the subgraph could not be reached. */
export function isUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof SourceUnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  }
  return false;
}

/** Response keys of the fields a selection set asks for on `typename` (every type when null). */
function fieldKeys(set: SelectionSetNode, typename: string | null, fragments: Map<string, FragmentDefinitionNode>, into = new Set<string>()): Set<string> {
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      if (s.name.value !== '__typename') into.add(s.alias?.value ?? s.name.value);
    } else {
      const fragment = s.kind === Kind.INLINE_FRAGMENT ? s : fragments.get(s.name.value);
      const on = fragment?.typeCondition?.name.value;
      if (fragment && (typename === null || !on || on === typename)) fieldKeys(fragment.selectionSet, typename, fragments, into);
    }
  }
  return into;
}

/**
 * What the gateway gets instead of a subgraph's answer when it cannot be reached: one
 * SOURCE_UNAVAILABLE per field the fetch asked for, at that field's path, so the gateway
 * nulls exactly those subtrees (and reports where) and answers the rest of the query.
 * An entity fetch's paths are `_entities.<i>.<field>`; the gateway maps them to the
 * entities' places in the response.
 */
export function unavailableResponse(subgraph: string, query: string, variables: Record<string, unknown> | undefined, document?: DocumentNode): GatewayGraphQLResponse {
  const error = new SourceUnavailableError(subgraph, `The ${subgraph} service is unavailable right now; try again shortly`);
  const at = (path?: (string | number)[]): GraphQLFormattedError => ({ message: error.message, path, extensions: error.extensions });
  const doc = document ?? parse(query);
  const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const operation = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const errors: GraphQLFormattedError[] = [];
  if (operation?.kind === Kind.OPERATION_DEFINITION) {
    const representations = variables?.representations;
    const entities = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
    if (Array.isArray(representations) && entities?.kind === Kind.FIELD && entities.selectionSet) {
      representations.forEach((r, i) => {
        for (const key of fieldKeys(entities.selectionSet!, (r as { __typename?: string }).__typename ?? null, fragments)) errors.push(at(['_entities', i, key]));
      });
    } else {
      for (const key of fieldKeys(operation.selectionSet, null, fragments)) errors.push(at([key]));
    }
  }
  // Never an answer without an error: the client must learn why its fields are missing.
  return { errors: errors.length > 0 ? errors : [at()] };
}
