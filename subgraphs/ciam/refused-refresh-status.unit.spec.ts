import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { responseKeysOf } from './refused-refresh-status.ts';

const keys = (source: string) => {
  const document = parse(source);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return responseKeysOf('refreshTokens', operation.selectionSet, document);
};

describe('responseKeysOf', () => {
  it('finds a root field under its name, its aliases, and inside inline and named fragments', () => {
    expect(keys('mutation { refreshTokens(refreshToken: "x") { accessToken } login(email: "a", password: "b") { challengeId } }')).toEqual(['refreshTokens']);
    expect(keys('mutation { renewed: refreshTokens(refreshToken: "x") { accessToken } }')).toEqual(['renewed']);
    expect(keys('mutation { ... on Mutation { a: refreshTokens(refreshToken: "x") { accessToken } } ...F } fragment F on Mutation { b: refreshTokens(refreshToken: "y") { accessToken } }')).toEqual(['a', 'b']);
    expect(keys('mutation { refreshTokens: login(email: "a", password: "b") { challengeId } }')).toEqual([]);
  });
});
