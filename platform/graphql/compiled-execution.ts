import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { createRequire } from 'node:module';
import type { ExecutionResult, GraphQLSchema } from 'graphql';

// graphql's CommonJS build, the one @apollo/subgraph builds the schema with and graphql-jit
// uses: under Vite (vitest) an ESM import of 'graphql' resolves to its .mjs build, whose
// instanceof checks refuse the schema's types as "from another module or realm".
const { execute, getVariableValues } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

type GatewayInterface = ApolloServerOptionsWithGateway<never>['gateway'];
type Executor = Awaited<ReturnType<GatewayInterface['load']>>['executor'];

/** Compiled operations kept per process (a subgraph sees the gateway's few query plans' fetches). */
const MAX_COMPILED = 1_000;

/**
 * Executes a subgraph's operations with graphql-jit: each distinct operation text is
 * compiled once into a JavaScript function specialised to its selection set, instead of
 * graphql-js walking the document for every response (the nested read spent most of its
 * execution time there). Apollo Server still does everything around execution (parsing,
 * validation, introspection rules, plugins, error formatting and HTTP status): it runs a
 * custom executor through its documented gateway interface, which hands it the schema and
 * an executor for the operations it has validated.
 *
 * Same answers as graphql-js: variables are coerced by graphql-js first, so a bad variable
 * fails with graphql-js's error (Apollo turns it into BAD_USER_INPUT and HTTP 400); an
 * operation graphql-jit cannot compile runs on graphql-js; resolver errors keep their
 * extensions (code) through graphql-jit's errors.
 */
export function compiledExecution(schema: GraphQLSchema): GatewayInterface & { compiledCount(): number } {
  const compiled = new Map<string, CompiledQuery | null>();
  const executor: Executor = async (request) => {
    const { document, operation, operationName, source, context } = request;
    const variables = request.request.variables ?? {};
    if (operation.variableDefinitions?.length) {
      const coerced = getVariableValues(schema, operation.variableDefinitions, variables, { maxErrors: 50 });
      if (coerced.errors) return { errors: coerced.errors };
    }
    const key = `${operationName ?? ''}\u0000${source}`;
    let query = compiled.get(key);
    if (query === undefined) {
      const result = compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
      query = isCompiledQuery(result) ? result : null;
      if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
      compiled.set(key, query);
    }
    if (!query) return execute({ schema, document, operationName, contextValue: context, variableValues: variables }) as Promise<ExecutionResult>;
    return query.query(undefined, context, variables) as ExecutionResult | Promise<ExecutionResult>;
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      return { executor };
    },
    async stop() {},
    compiledCount: () => [...compiled.values()].filter(Boolean).length,
  };
}
