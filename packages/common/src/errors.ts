import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** Codes shared by GraphQL `extensions.code`, REST `error.code` and gRPC status mapping. */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  /** An operation refused by its estimated cost or size before anything runs (400). */
  | 'QUERY_TOO_COMPLEX'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  /** A body of a type the endpoint does not take, e.g. an upload that is not a video (415). */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** A well-formed request whose content cannot be used, e.g. an uploaded file that is not playable (422). */
  | 'UNPROCESSABLE_CONTENT'
  /** A byte range outside the file (416). */
  | 'RANGE_NOT_SATISFIABLE'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  /** A proxied upstream failed before it answered (502). */
  | 'BAD_GATEWAY'
  /** A proxied upstream went silent for longer than the gateway waits (504). */
  | 'GATEWAY_TIMEOUT'
  | 'INTERNAL_SERVER_ERROR';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  QUERY_TOO_COMPLEX: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_CONTENT: 422,
  RANGE_NOT_SATISFIABLE: 416,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  BAD_GATEWAY: 502,
  GATEWAY_TIMEOUT: 504,
  INTERNAL_SERVER_ERROR: 500,
};

export interface FieldError {
  field: string;
  message: string;
}

/**
 * An error that is part of the API: it knows its code, HTTP status and safe message.
 * Thrown from resolvers it becomes a GraphQLError with `extensions.code`.
 */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields?: FieldError[];

  constructor(code: ErrorCode, message: string, extra: { fields?: FieldError[]; retryAfter?: number } = {}) {
    super(message, {
      extensions: {
        code,
        http: { status: HTTP_STATUS[code] },
        ...(extra.fields ? { fields: extra.fields } : {}),
        ...(extra.retryAfter !== undefined ? { retryAfter: extra.retryAfter } : {}),
      },
    });
    this.name = 'AppError';
    this.code = code;
    this.status = HTTP_STATUS[code];
    this.fields = extra.fields;
  }
}

export const badInput = (message: string, fields?: FieldError[]) => new AppError('BAD_USER_INPUT', message, { fields });
export const unauthenticated = (message = 'Authentication required.') => new AppError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You are not allowed to do this.') => new AppError('FORBIDDEN', message);
export const notFound = (message: string) => new AppError('NOT_FOUND', message);
export const conflict = (message: string, fields?: FieldError[]) => new AppError('CONFLICT', message, { fields });
export const rateLimited = (message: string, retryAfter?: number) =>
  new AppError('RATE_LIMITED', message, { retryAfter });
export const serviceUnavailable = (message = 'A dependency is unavailable, try again shortly.') =>
  new AppError('SERVICE_UNAVAILABLE', message);

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** True for SERVICE_UNAVAILABLE: a dependency (e.g. the token denylist) could not answer, the caller is not at fault. */
export const isServiceUnavailable = (e: unknown): boolean => e instanceof AppError && e.code === 'SERVICE_UNAVAILABLE';

const KNOWN_CODES = new Set<string>(Object.keys(HTTP_STATUS));

/**
 * Apollo `formatError`: keeps API errors (and GraphQL validation errors) as they are and hides
 * everything else behind INTERNAL_SERVER_ERROR, so no stack trace or driver message leaks.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, original: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const cause = original instanceof GraphQLError ? original.originalError ?? original : original;
  if (cause instanceof AppError || (typeof code === 'string' && KNOWN_CODES.has(code) && code !== 'INTERNAL_SERVER_ERROR')) {
    const { stacktrace: _s, exception: _e, ...ext } = formatted.extensions ?? {};
    return { ...formatted, extensions: ext };
  }
  if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
    // Apollo's own request errors: GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_REQUEST, ...
    const { stacktrace: _s, exception: _e, ...ext } = formatted.extensions ?? {};
    return { ...formatted, extensions: ext };
  }
  return {
    message: 'Internal server error.',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
