import { requireActor, type RequestContext } from './context.ts';

type Resolver = (parent: unknown, args: unknown, ctx: RequestContext, info: unknown) => unknown;
/** Apollo calls `__resolveReference` with no args: (reference, context, info). */
type ReferenceResolver = (reference: unknown, ctx: RequestContext, info: unknown) => unknown;
type ResolverMap = Record<string, object>;

const guardField =
  (fn: Resolver): Resolver =>
  (parent, args, ctx, info) => {
    requireActor(ctx);
    return fn(parent, args, ctx, info);
  };

const guardReference =
  (fn: ReferenceResolver): ReferenceResolver =>
  (reference, ctx, info) => {
    requireActor(ctx);
    return fn(reference, ctx, info);
  };

/**
 * Requires an authenticated caller on every entry point of a subgraph: Query and Mutation
 * fields and every entity's `__resolveReference`. Nested fields are reached only through
 * these, so one check here covers the whole graph.
 */
export function requireAuthentication<M extends ResolverMap>(resolvers: M): M {
  const out: ResolverMap = {};
  for (const [type, fields] of Object.entries(resolvers)) {
    // Scalars are class instances, not field maps: keep them as they are.
    if (Object.getPrototypeOf(fields) !== Object.prototype) {
      out[type] = fields;
      continue;
    }
    const copy: Record<string, unknown> = { ...fields };
    for (const [name, value] of Object.entries(copy)) {
      if (typeof value !== 'function') continue;
      if (name === '__resolveReference') copy[name] = guardReference(value as ReferenceResolver);
      else if (type === 'Query' || type === 'Mutation') copy[name] = guardField(value as Resolver);
    }
    out[type] = copy;
  }
  return out as M;
}
