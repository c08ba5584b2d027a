import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { ErrorCode } from '../../platform/errors.ts';

/** The response keys (aliases or names) under which a root selection asks for `field`. */
export function responseKeysOf(field: string, set: SelectionSetNode, document: DocumentNode, seen = new Set<string>()): string[] {
  return set.selections.flatMap((s) => {
    if (s.kind === Kind.FIELD) return s.name.value === field ? [(s.alias ?? s.name).value] : [];
    if (s.kind === Kind.INLINE_FRAGMENT) return responseKeysOf(field, s.selectionSet, document, seen);
    if (seen.has(s.name.value)) return [];
    seen.add(s.name.value);
    const fragment = document.definitions.find((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === s.name.value);
    return fragment ? responseKeysOf(field, fragment.selectionSet, document, seen) : [];
  });
}

/**
 * A refused refresh token answers HTTP 401, as the gateway answers every other refused
 * credential (an expired or revoked access token): for a client it means the same, sign
 * in again. Only when the refresh is all the document did: a document in which another
 * field answered keeps HTTP 200, so what committed is read and not taken for a failure.
 * Other UNAUTHENTICATED answers of CIAM's mutations (a wrong password or code) stay 200:
 * they are a login's expected outcomes, and a 401 would send clients to refresh a session.
 *
 * The status reaches the client through the gateway, which calls this subgraph: the
 * error keeps `extensions.http` on the wire, and the gateway's Apollo Server applies it
 * (and removes it) as for any error. This subgraph's own answer stays HTTP 200, so the
 * gateway reads the body as an answer (error path kept) rather than as a failed fetch.
 */
export function refusedRefreshStatusPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation, document }) {
          if (response.body.kind !== 'single' || !operation || !document || operation.operation !== 'mutation') return;
          const result = response.body.singleResult;
          if (!result.errors?.length) return;
          if (result.data && Object.values(result.data).some((v) => v !== null)) return;
          const refreshKeys = new Set(responseKeysOf('refreshTokens', operation.selectionSet, document));
          const refused = result.errors.every((e) => e.extensions?.code === ErrorCode.UNAUTHENTICATED && e.path?.length === 1 && refreshKeys.has(String(e.path[0])));
          if (!refused) return;
          result.errors = result.errors.map((e) => ({ ...e, extensions: { ...e.extensions, http: { status: 401 } } }));
        },
      };
    },
  };
}
