import { GraphQLError } from 'graphql';

/**
 * One error type per client-facing code. Resolvers and domain code throw these;
 * anything else is an internal error and is masked before it reaches a client.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  SOURCE_UNAVAILABLE: 'SOURCE_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes a client may see as they are; GraphQL's own request errors are included. */
export const PUBLIC_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

abstract class AngelisError extends GraphQLError {
  abstract readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

/** The input is malformed or breaks a business rule; `field` names the culprit when known. */
export class BadUserInputError extends AngelisError {
  readonly code = ErrorCode.BAD_USER_INPUT;

  constructor(message: string, field?: string) {
    super(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
  }
}

/** No identity, or one that cannot be trusted. */
export class UnauthenticatedError extends AngelisError {
  readonly code = ErrorCode.UNAUTHENTICATED;

  constructor(message = 'Authentication required') {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}

/**
 * UNAUTHENTICATED found while building a request's context, before any resolver runs:
 * answered with HTTP 401 rather than Apollo's 500 for context failures.
 */
export function unauthenticatedRequest(message: string): UnauthenticatedError {
  const error = new UnauthenticatedError(message);
  Object.assign(error.extensions, { http: { status: 401 } });
  return error;
}

/** The caller is known but may not do this. */
export class ForbiddenError extends AngelisError {
  readonly code = ErrorCode.FORBIDDEN;

  constructor(message = 'Not allowed') {
    super(ErrorCode.FORBIDDEN, message);
  }
}

/** The entity named by the caller does not exist (or is not visible to them). */
export class NotFoundError extends AngelisError {
  readonly code = ErrorCode.NOT_FOUND;

  constructor(entity: string, id: string) {
    super(ErrorCode.NOT_FOUND, `${entity} ${id} was not found`, { entity, id });
  }
}

/** A concurrent change or a uniqueness rule: the caller should reload and retry. */
export class ConflictError extends AngelisError {
  readonly code = ErrorCode.CONFLICT;

  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(ErrorCode.CONFLICT, message, extensions);
  }
}

/** Too many requests; `retryAfterSeconds` tells when to try again. */
export class RateLimitedError extends AngelisError {
  readonly code = ErrorCode.RATE_LIMITED;
  readonly retryAfterSeconds: number;
  /** Which of the counters charged together refused (0-based; those after it were not charged), when known. */
  readonly counter?: number;

  constructor(retryAfterSeconds: number, counter?: number) {
    super(ErrorCode.RATE_LIMITED, `Too many requests; retry in ${retryAfterSeconds}s`, { retryAfterSeconds });
    this.retryAfterSeconds = retryAfterSeconds;
    if (counter !== undefined) this.counter = counter;
  }
}

/** An external source (SaferApp, Fit2000, ...) could not be reached. */
export class SourceUnavailableError extends AngelisError {
  readonly code = ErrorCode.SOURCE_UNAVAILABLE;

  constructor(source: string, message = `${source} is unavailable right now`) {
    super(ErrorCode.SOURCE_UNAVAILABLE, message, { source });
  }
}
