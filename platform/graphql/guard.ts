import { requireActor, type RequestContext } from './context.ts';

type Resolver = (parent: unknown, args: unknown, ctx: RequestContext, info: unknown) => unknown;
type ResolverMap = Record<string, object>;

/**
 * Requires an authenticated caller on every entry point of a subgraph: Query and Mutation
 * fields and every entity's `__resolveReference`. Nested fields are reached only through
 * these, so one check here covers the whole graph.
 */
export function requireAuthentication<M extends ResolverMap>(resolvers: M): M {
  const guard =
    (fn: Resolver): Resolver =>
    (parent, args, ctx, info) => {
      requireActor(ctx);
      return fn(parent, args, ctx, info);
    };
  const out: ResolverMap = {};
  for (const [type, fields] of Object.entries(resolvers)) {
    // Scalars are class instances, not field maps: keep them as they are.
    if (Object.getPrototypeOf(fields) !== Object.prototype) {
      out[type] = fields;
      continue;
    }
    const copy: Record<string, unknown> = { ...fields };
    for (const [name, value] of Object.entries(copy)) {
      const entry = type === 'Query' || type === 'Mutation' || name === '__resolveReference';
      if (entry && typeof value === 'function') copy[name] = guard(value as Resolver);
    }
    out[type] = copy;
  }
  return out as M;
}
