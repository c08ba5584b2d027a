import { Kind, type GraphQLError, type ValueNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DateScalar, DateTimeScalar, JSONScalar } from './scalars.ts';

function thrown(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (err) {
    return err as GraphQLError;
  }
  throw new Error('expected an error');
}

describe('Date scalar', () => {
  it('parses real dates from variables and literals, and serialises to YYYY-MM-DD', () => {
    expect(DateScalar.parseValue('2024-02-29')).toBe('2024-02-29');
    expect(DateScalar.parseLiteral({ kind: Kind.STRING, value: '2026-12-31' } as ValueNode)).toBe('2026-12-31');
    expect(DateScalar.serialize('2026-01-05')).toBe('2026-01-05');
    expect(DateScalar.serialize(new Date('2026-01-05T00:00:00Z'))).toBe('2026-01-05');
  });

  it('refuses impossible and malformed dates as BAD_USER_INPUT', () => {
    for (const value of ['2026-02-30', '2026-13-01', '05/01/2026', 20260105]) {
      const e = thrown(() => DateScalar.parseValue(value));
      expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    expect(thrown(() => DateScalar.parseValue('2026-02-30')).message).toBe('Date must be a real calendar date; 2026-02-30 does not exist');
  });

  it('refuses non-string literals', () => {
    const e = thrown(() => DateScalar.parseLiteral({ kind: Kind.INT, value: '20260105' } as ValueNode));
    expect(e.extensions.code).toBe('BAD_USER_INPUT');
    expect(e.message).toMatch(/Date cannot represent/);
  });
});

describe('DateTime and JSON scalars', () => {
  it('serialises instants in UTC and refuses unparseable ones', () => {
    expect(DateTimeScalar.serialize(new Date('2026-06-15T08:00:00-04:00'))).toBe('2026-06-15T12:00:00.000Z');
    expect(thrown(() => DateTimeScalar.parseValue('not a time')).extensions.code).toBe('BAD_USER_INPUT');
  });

  it('reads JSON literals of every kind', () => {
    const ast = {
      kind: Kind.OBJECT,
      fields: [
        { kind: Kind.OBJECT_FIELD, name: { kind: Kind.NAME, value: 'n' }, value: { kind: Kind.INT, value: '3' } },
        { kind: Kind.OBJECT_FIELD, name: { kind: Kind.NAME, value: 'l' }, value: { kind: Kind.LIST, values: [{ kind: Kind.BOOLEAN, value: true }, { kind: Kind.NULL }] } },
      ],
    } as unknown as ValueNode;
    expect(JSONScalar.parseLiteral(ast)).toEqual({ n: 3, l: [true, null] });
  });
});
