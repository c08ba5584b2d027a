import { createRequire } from 'node:module';

/**
 * graphql's CommonJS build: the instance @apollo/server, @apollo/gateway, @apollo/subgraph
 * and graphql-jit load, so the one whose schemas and errors they build and check. Under Vite
 * (vitest) an ES import of 'graphql' resolves to the package's .mjs build instead, a second
 * instance whose `instanceof` checks refuse the first one's schema types and errors (and
 * whose errors lose their path in Apollo). Code that hands graphql objects to or takes them
 * from Apollo uses this one; under plain Node both imports are this instance anyway.
 */
export const graphqlCommonJs = createRequire(import.meta.url)('graphql') as typeof import('graphql');
