import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { isoDate } from '../domain/input.ts';

/** The scalars every subgraph shares: Date (YYYY-MM-DD), DateTime (ISO UTC) and JSON. */

/** A bad scalar value is the client's mistake (the gateway passes the subgraph's 400 on). */
function badValue(name: string, value: unknown, message = `${name} cannot represent ${JSON.stringify(value)}`): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export const DateScalar: GraphQLScalarType = new GraphQLScalarType({
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD.',
  serialize: (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v)),
  parseValue: (v) => {
    try {
      return isoDate(v, 'Date');
    } catch (err) {
      throw badValue('Date', v, (err as Error).message);
    }
  },
  parseLiteral: (ast): unknown => {
    if (ast.kind !== Kind.STRING) throw badValue('Date', (ast as { value?: unknown }).value);
    return DateScalar.parseValue(ast.value);
  },
});

export const DateTimeScalar: GraphQLScalarType = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO-8601 instant in UTC.',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString()),
  parseValue: (v) => {
    const d = typeof v === 'string' ? new Date(v) : null;
    if (!d || Number.isNaN(d.getTime())) throw badValue('DateTime', v);
    return d;
  },
  parseLiteral: (ast): unknown => {
    if (ast.kind !== Kind.STRING) throw badValue('DateTime', (ast as { value?: unknown }).value);
    return DateTimeScalar.parseValue(ast.value);
  },
});

function literal(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
    case Kind.LIST:
      return ast.values.map(literal);
    default:
      return null;
  }
}

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value.',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: literal,
});
