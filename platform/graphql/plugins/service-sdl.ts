import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { unauthenticatedRequest } from '../../errors.ts';
import type { RequestContext } from '../context.ts';

/** Whether a root selection asks for federation's `_service`, however it is spelt (alias, fragments). */
export function asksForServiceSdl(set: SelectionSetNode, document: DocumentNode, seen = new Set<string>()): boolean {
  return set.selections.some((s) => {
    if (s.kind === Kind.FIELD) return s.name.value === '_service';
    if (s.kind === Kind.INLINE_FRAGMENT) return asksForServiceSdl(s.selectionSet, document, seen);
    if (seen.has(s.name.value)) return false;
    seen.add(s.name.value);
    const fragment = document.definitions.find((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === s.name.value);
    return fragment ? asksForServiceSdl(fragment.selectionSet, document, seen) : false;
  });
}

/**
 * Production turns introspection off, but federation's `{ _service { sdl } }` would still
 * hand the whole schema to anyone. The gateway never asks for it (it runs on the static
 * supergraph composed from schema/subgraphs/), so in production it is answered only to a
 * request carrying an identity signed with ANGELIS_IDENTITY_SECRET: the gateway, or an
 * operator's tool that holds the secret and checks a deployed subgraph against the repo.
 * Anyone else gets UNAUTHENTICATED and no SDL. Outside production it stays open.
 */
export function serviceSdlPlugin<C extends RequestContext>(nodeEnv: string): ApolloServerPlugin<C> {
  if (nodeEnv !== 'production') return {};
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          // In production the only identity a subgraph accepts is a signed one (no development headers).
          if (contextValue.identity || operation?.operation !== 'query') return;
          if (asksForServiceSdl(operation.selectionSet, document)) {
            throw unauthenticatedRequest('The subgraph schema is served only to the gateway in production');
          }
        },
      };
    },
  };
}
