import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, Lexer, Source, TokenKind, type DocumentNode, type SelectionSetNode } from 'graphql';
import { BadUserInputError } from '../../platform/errors.ts';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
}

/** Counts tokens without building an AST, stopping past the limit (a huge query costs little). */
export function countTokens(query: string, stopAfter: number): number {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  for (let t = lexer.advance(); t.kind !== TokenKind.EOF && n <= stopAfter; t = lexer.advance()) n++;
  return n;
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
 * Refuses queries past the token, depth or alias limits before they are planned, so one
 * request cannot make the gateway and subgraphs do unbounded work.
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
        async didResolveSource({ source }) {
          if (countTokens(source, limits.maxTokens) > limits.maxTokens) throw refuse(`The query has more than ${limits.maxTokens} tokens`);
        },
        async didResolveOperation({ document }) {
          const { depth, aliases } = measure(document);
          if (depth > limits.maxDepth) throw refuse(`The query nests ${depth} levels deep; at most ${limits.maxDepth} are allowed`);
          if (aliases > limits.maxAliases) throw refuse(`The query uses ${aliases} aliases; at most ${limits.maxAliases} are allowed`);
        },
      };
    },
  };
}
