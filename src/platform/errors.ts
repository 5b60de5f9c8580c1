import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { AuthenticationError, AuthorizationError } from 'type-graphql';
import { isRetryableDatabaseError } from './db/failures';

/** The contract's error codes (contract README, "Errors"). */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  INSUFFICIENT_POINTS: 'INSUFFICIENT_POINTS',
  OUT_OF_STOCK: 'OUT_OF_STOCK',
  ITEM_UNAVAILABLE: 'ITEM_UNAVAILABLE',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  RATE_LIMITED: 'RATE_LIMITED',
  MEMBER_FROZEN: 'MEMBER_FROZEN',
  ALREADY_DONE: 'ALREADY_DONE',
  CONFLICT: 'CONFLICT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_ALLOWED: 'PERSISTED_QUERY_NOT_ALLOWED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));

/**
 * A failure the client can act on. Domain modules subclass it (x.errors.ts); the message is
 * shown to clients as is, so it must never contain internals.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadInputError extends DomainError {
  constructor(message: string, field?: string) {
    super(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
  }
}
export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(ErrorCode.NOT_FOUND, `${what} ${id} not found`, { id });
  }
}
export class ForbiddenError extends DomainError {
  constructor(message = 'You may not do this') {
    super(ErrorCode.FORBIDDEN, message);
  }
}
export class UnauthenticatedError extends DomainError {
  constructor(message = 'A valid bearer token is required') {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}
export class ConflictError extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ErrorCode.CONFLICT, message, details);
  }
}
/** A dependency is away for now: `retryable` tells the client the same request may be sent again. */
export class ServiceUnavailableError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.SERVICE_UNAVAILABLE, message, { retryable: true });
  }
}

/** Errors raised by GraphQL itself before any resolver runs: the client sent a bad document. */
const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE', 'BAD_USER_INPUT']);

/**
 * PostgreSQL text cannot hold U+0000, and MikroORM inlines values into the SQL text, so a NUL in a
 * client's argument (a name, a filter, a search) fails the statement: 08P01 "invalid message
 * format" with the NUL in the SQL, or 22021 for a bound value. The client's text is at fault.
 */
function isNulInText(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === '22021' || (code === '08P01' && error.message.includes('\u0000'));
}

export interface FormatOptions {
  /** Production: no "Did you mean …?" (graphql's suggestions name fields, arguments and enum values a probe could not see). */
  hideSuggestions?: boolean;
}

/** graphql-js appends its suggestions as one last sentence: ` Did you mean "a", "b", or "c"?` */
export function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [^]*\?$/, '');
}

export interface ErrorReport {
  (error: unknown, formatted: GraphQLFormattedError): void;
}

/**
 * The one place errors become what a client sees: contract codes only, no stack, no SQL.
 * Anything unexpected is reported (logged with the request id) and masked.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, report?: ErrorReport, options: FormatOptions = {}): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const message = options.hideSuggestions ? withoutSuggestions(formatted.message) : formatted.message;
  const base = { message, locations: formatted.locations, path: formatted.path };

  if (original instanceof DomainError) {
    return { ...base, message: original.message, extensions: { ...original.details, code: original.code } };
  }
  if (isNulInText(original)) {
    return { ...base, message: 'Text must not contain the NUL character (U+0000)', extensions: { code: ErrorCode.BAD_USER_INPUT } };
  }
  if (isRetryableDatabaseError(original)) {
    // PostgreSQL down, restarting or too slow, or a conflict still lost after the unit of work's
    // retries: nothing was committed, so the client may safely send the same request again.
    return { ...base, message: 'The service is temporarily unavailable; retry shortly', extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, retryable: true } };
  }
  if (original instanceof AuthenticationError) {
    return { ...base, extensions: { code: ErrorCode.UNAUTHENTICATED } };
  }
  if (original instanceof AuthorizationError) {
    return { ...base, message: 'You may not do this', extensions: { code: ErrorCode.FORBIDDEN } };
  }
  const code = formatted.extensions?.code;
  // Apollo's APQ refuses a hash that is not the query's with no code of its own: the client's mistake.
  if (original instanceof GraphQLError && original.message === 'provided sha does not match query') {
    return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: 'PERSISTED_QUERY_HASH_MISMATCH' } };
  }
  if (typeof code === 'string') {
    if (REQUEST_ERROR_CODES.has(code)) {
      // The contract lists BAD_USER_INPUT for a bad request; keep GraphQL's own reason beside it.
      return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: code } };
    }
    if (CONTRACT_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR && !(original instanceof Error && !(original instanceof GraphQLError))) {
      return { ...base, extensions: { code } };
    }
  }
  report?.(original, formatted);
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

/** For code outside GraphQL (graphql-ws context, HTTP middleware): a GraphQLError carrying a contract code. */
export function graphQLErrorFor(error: DomainError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.code, ...error.details } });
}
