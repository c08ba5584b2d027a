import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { PUBLIC_CODES } from '../../errors.ts';
import type { Logger } from '../../logger.ts';

interface Correlated {
  correlationId?: string;
}

/**
 * Internal errors never reach a client as they are: the client gets "Internal server
 * error" and a correlation id; the log gets the real error under the same id. Errors
 * with one of the platform's codes pass through unchanged.
 */
export function maskErrorsPlugin<C extends Correlated>(log: Logger): ApolloServerPlugin<C> {
  const isPublic = (code: unknown) => typeof code === 'string' && PUBLIC_CODES.has(code);
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            if (!isPublic(error.extensions?.code)) {
              log.error(
                { err: error.originalError ?? error, path: error.path, operationName, correlationId: contextValue?.correlationId },
                'internal error',
              );
            }
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          response.body.singleResult.errors = response.body.singleResult.errors.map((e): GraphQLFormattedError => {
            const { stacktrace: _drop, ...extensions } = (e.extensions ?? {}) as Record<string, unknown>;
            if (isPublic(extensions.code)) return { ...e, extensions };
            return {
              message: 'Internal server error',
              locations: e.locations,
              path: e.path,
              extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId: contextValue?.correlationId },
            };
          });
        },
      };
    },
  };
}
