import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type SelectionSetNode } from 'graphql';
import { BadUserInputError } from '../../platform/errors.ts';

/** Token limits are graphql-js's own (`parseOptions.maxTokens` on the server): parsing stops there. */
export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
}

/** The deepest field nesting and the number of aliases, following fragments (each once per path). */
export function measure(document: DocumentNode): { depth: number; aliases: number } {
  const fragments = new Map(
    document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d.selectionSet] as const),
  );
  let aliases = 0;
  const walk = (set: SelectionSetNode, depth: number, seen: Set<string>): number => {
    let deepest = depth;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.alias) aliases++;
        if (s.selectionSet) deepest = Math.max(deepest, walk(s.selectionSet, depth + 1, seen));
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, walk(s.selectionSet, depth, seen));
      } else {
        const fragment = fragments.get(s.name.value);
        if (fragment && !seen.has(s.name.value)) deepest = Math.max(deepest, walk(fragment, depth, new Set([...seen, s.name.value])));
      }
    }
    return deepest;
  };
  let depth = 0;
  for (const d of document.definitions) if (d.kind === Kind.OPERATION_DEFINITION) depth = Math.max(depth, walk(d.selectionSet, 1, new Set()));
  return { depth, aliases };
}

/**
 * Refuses queries past the depth or alias limits before they are planned, so one request
 * cannot make the gateway and subgraphs do unbounded work.
 */
export function queryLimitsPlugin<C extends object>(limits: QueryLimits): ApolloServerPlugin<C> {
  const refuse = (message: string) => {
    const error = new BadUserInputError(message);
    Object.assign(error.extensions, { http: { status: 400 } });
    return error;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document }) {
          const { depth, aliases } = measure(document);
          if (depth > limits.maxDepth) throw refuse(`The query nests ${depth} levels deep; at most ${limits.maxDepth} are allowed`);
          if (aliases > limits.maxAliases) throw refuse(`The query uses ${aliases} aliases; at most ${limits.maxAliases} are allowed`);
        },
      };
    },
  };
}

/**
 * Refuses a request whose operation name picks no operation of its document (a typo, or a
 * document of several operations sent without a name) as Apollo Server does for a schema of
 * its own: OPERATION_RESOLUTION_FAILURE, HTTP 400. A gateway's executor is otherwise handed no
 * operation, fails, and the client's mistake reaches it as an internal error.
 */
export function operationResolvedPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (operation) return;
          const message = request.operationName != null ? `Unknown operation named "${request.operationName}".` : 'Must provide operation name if query contains multiple operations.';
          throw new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
        },
      };
    },
  };
}
