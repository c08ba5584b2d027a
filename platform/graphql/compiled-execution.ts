import { isPromise } from 'node:util/types';
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import { graphqlCommonJs } from './commonjs.ts';

// The instance @apollo/subgraph builds the schema with (see commonjs.ts).
const { execute } = graphqlCommonJs;

/**
 * Compiled execution for a subgraph (graphql-jit): an operation is compiled into one
 * JavaScript function the second time it is seen, and later requests with that operation
 * run the function instead of graphql-js's interpreter (which, for every field of every
 * row, coerces the field's arguments, allocates a path and walks the type). The subgraph
 * operations the gateway sends are a small, fixed set (one per query-plan fetch), so they
 * are compiled once and stay; the first sighting runs in graphql-js, so an operation seen
 * once (a stranger's one-off query) never pays the compilation.
 *
 * Apollo Server parses, validates and runs its plugins as before (error masking and the
 * read log see the same requests and results); only execution is swapped, through its
 * `gateway` interface, whose executor receives the validated document.
 *
 * Sound where graphql-jit is: queries and mutations over object, interface and union types
 * with resolvers, custom scalars (serialised by their `serialize`), variables, fragments,
 * @skip/@include. An operation graphql-jit will not compile runs in graphql-js, every time.
 * A compiled operation keeps the field resolvers it was compiled with: an Apollo plugin with
 * `willResolveField` (Apollo wraps the schema's resolvers for it) would not see operations
 * compiled before it wrapped them. None of the subgraphs' plugins has one (inline tracing
 * and cache control, which do, are disabled in platform/graphql/subgraph.ts).
 */
export interface CompiledExecutionOptions {
  /** How many distinct operations are remembered, compiled or only counted (least recently used go first). */
  maxOperations?: number;
  /** How many times an operation is seen (run by graphql-js) before it is compiled (Infinity: never). */
  compileAfter?: number;
}

type Entry = { seen: number; compiled?: CompiledQuery; refused?: true };

export class CompiledExecution {
  /** Least recently used out past `maxOperations`. */
  private readonly entries: LRUCache<string, Entry>;
  private readonly compileAfter: number;
  /** Counters for tests and metrics: executions by graphql-jit and by graphql-js, compilations, operations graphql-jit would not compile, compiled requests whose variables were refused (then answered by graphql-js). */
  readonly counts = { compiled: 0, interpreted: 0, compilations: 0, refused: 0, refusedVariables: 0 };

  private readonly schema: GraphQLSchema;

  constructor(
    schema: GraphQLSchema,
    options: CompiledExecutionOptions = {},
  ) {
    this.schema = schema;
    this.entries = new LRUCache({ max: options.maxOperations ?? 500 });
    this.compileAfter = options.compileAfter ?? 1;
  }

  run(
    key: string,
    document: DocumentNode,
    operationName: string | undefined,
    contextValue: unknown,
    variables: Record<string, unknown> | undefined,
  ): Promise<ExecutionResult> | ExecutionResult {
    const id = operationName ? `${key}\u0000${operationName}` : key;
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { seen: 0 };
      this.entries.set(id, entry);
    }
    if (!entry.compiled && !entry.refused && entry.seen >= this.compileAfter) {
      this.counts.compilations++;
      const compiled = compileQuery(this.schema, document, operationName);
      if (isCompiledQuery(compiled)) entry.compiled = compiled;
      else {
        entry.refused = true;
        this.counts.refused++;
      }
    }
    entry.seen++;
    if (entry.compiled) {
      this.counts.compiled++;
      const result = entry.compiled.query(undefined, contextValue, variables);
      return isPromise(result) ? result.then((r) => this.refusedAsGraphqlJs(r, document, operationName, contextValue, variables)) : this.refusedAsGraphqlJs(result, document, operationName, contextValue, variables);
    }
    return this.interpret(document, operationName, contextValue, variables);
  }

  private interpret(document: DocumentNode, operationName: string | undefined, contextValue: unknown, variables: Record<string, unknown> | undefined) {
    this.counts.interpreted++;
    return execute({ schema: this.schema, document, operationName, contextValue, variableValues: variables });
  }

  /**
   * A request refused before execution (no data: its variables did not coerce) is answered
   * by graphql-js, which refuses it the same way but words it as clients rely on: the
   * scalar's own reason ("2026-02-30 does not exist", where graphql-jit says only "Expected
   * type Date") and errors located at the variable, which Apollo recognises as BAD_USER_INPUT
   * (graphql-jit's carry no node: they would be masked as internal errors). No resolver ran,
   * so running it again has no effect.
   */
  private refusedAsGraphqlJs(result: ExecutionResult, document: DocumentNode, operationName: string | undefined, contextValue: unknown, variables: Record<string, unknown> | undefined) {
    if (result.data !== undefined || !result.errors?.length) return result;
    this.counts.compiled--;
    this.counts.refusedVariables++;
    return this.interpret(document, operationName, contextValue, variables);
  }

  /** How many operations are held (compiled or counted). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * The schema and executor in the shape Apollo Server takes as its `gateway` option: a
 * fixed schema (no updates) executed by `CompiledExecution`.
 */
export function compiledExecutionGateway(schema: GraphQLSchema, execution: CompiledExecution): GatewayInterface {
  const executor: GatewayExecutor = async (rc) =>
    execution.run(rc.queryHash, rc.document, rc.request.operationName ?? undefined, rc.context, rc.request.variables);
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      return { executor };
    },
    async stop() {},
  };
}
