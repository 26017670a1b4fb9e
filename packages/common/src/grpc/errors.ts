import * as grpc from '@grpc/grpc-js';
import { AppError, HTTP_STATUS, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { requestIdFromMetadata } from './metadata';

const { status } = grpc;

/**
 * Trailer that carries our own error code next to the gRPC status, so a round trip between two of our
 * services keeps codes the gRPC status space merges (PAYLOAD_TOO_LARGE and BAD_USER_INPUT are both
 * INVALID_ARGUMENT). Foreign clients just see the standard status.
 */
export const ERROR_CODE_TRAILER = 'x-error-code';

/** AppError code → gRPC status (https://grpc.io/docs/guides/status-codes/). */
export const GRPC_STATUS_FOR: Record<ErrorCode, grpc.status> = {
  BAD_USER_INPUT: status.INVALID_ARGUMENT,
  QUERY_TOO_COMPLEX: status.INVALID_ARGUMENT,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  FORBIDDEN: status.PERMISSION_DENIED,
  NOT_FOUND: status.NOT_FOUND,
  CONFLICT: status.ALREADY_EXISTS,
  PAYLOAD_TOO_LARGE: status.INVALID_ARGUMENT,
  UNSUPPORTED_MEDIA_TYPE: status.INVALID_ARGUMENT,
  UNPROCESSABLE_CONTENT: status.FAILED_PRECONDITION,
  RANGE_NOT_SATISFIABLE: status.OUT_OF_RANGE,
  RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  SERVICE_UNAVAILABLE: status.UNAVAILABLE,
  BAD_GATEWAY: status.UNAVAILABLE,
  GATEWAY_TIMEOUT: status.DEADLINE_EXCEEDED,
  INTERNAL_SERVER_ERROR: status.INTERNAL,
};

/** gRPC status → AppError code, for errors a downstream call returned. */
export function appCodeForGrpcStatus(code: grpc.status): ErrorCode {
  switch (code) {
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return 'BAD_USER_INPUT';
    case status.UNAUTHENTICATED:
      return 'UNAUTHENTICATED';
    case status.PERMISSION_DENIED:
      return 'FORBIDDEN';
    case status.NOT_FOUND:
      return 'NOT_FOUND';
    case status.ALREADY_EXISTS:
    case status.FAILED_PRECONDITION:
    case status.ABORTED:
      return 'CONFLICT';
    case status.RESOURCE_EXHAUSTED:
      return 'RATE_LIMITED';
    // The dependency could not be reached or did not answer in time: the caller may try again later.
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
    case status.CANCELLED:
      return 'SERVICE_UNAVAILABLE';
    default:
      // OK (never an error), UNKNOWN, INTERNAL, UNIMPLEMENTED, DATA_LOSS
      return 'INTERNAL_SERVER_ERROR';
  }
}

const SAFE_MESSAGE: Partial<Record<ErrorCode, string>> = {
  INTERNAL_SERVER_ERROR: 'Internal server error.',
  SERVICE_UNAVAILABLE: 'A dependency is unavailable, try again shortly.',
};

/** Status codes with which a call may not have reached (or completed on) the instance: retry elsewhere. */
export function isTransportFailure(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED;
}

export function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'number' && 'metadata' in err;
}

/**
 * The status object a server handler passes to its callback for `err`. AppErrors keep their (safe)
 * message; anything else becomes INTERNAL "Internal server error." so no driver message or stack leaks.
 */
export function toGrpcStatus(err: unknown): Partial<grpc.StatusObject> & { code: grpc.status; details: string } {
  const appError = err instanceof AppError ? err : undefined;
  const code: ErrorCode = appError ? appError.code : 'INTERNAL_SERVER_ERROR';
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_TRAILER, code);
  return {
    code: GRPC_STATUS_FOR[code],
    details: appError ? appError.message : (SAFE_MESSAGE.INTERNAL_SERVER_ERROR as string),
    metadata,
  };
}

/**
 * The AppError for a failed client call. Our own trailer wins (exact round trip); otherwise the status
 * is mapped. Messages of API errors are passed on (our servers only send safe ones); transport and
 * internal failures get a generic message, since grpc-js details can name addresses and internals.
 */
export function fromGrpcError(err: unknown, what = 'A dependency'): AppError {
  if (err instanceof AppError) return err;
  if (!isServiceError(err)) return new AppError('INTERNAL_SERVER_ERROR', SAFE_MESSAGE.INTERNAL_SERVER_ERROR as string);
  const trailer = err.metadata?.get(ERROR_CODE_TRAILER)[0];
  const fromTrailer = typeof trailer === 'string' && trailer in HTTP_STATUS ? (trailer as ErrorCode) : undefined;
  const code = fromTrailer ?? appCodeForGrpcStatus(err.code);
  if (code === 'SERVICE_UNAVAILABLE' && !fromTrailer) {
    const why = err.code === status.DEADLINE_EXCEEDED ? 'did not answer in time' : 'is unavailable';
    return new AppError(code, `${what} ${why}, try again shortly.`);
  }
  if (code === 'INTERNAL_SERVER_ERROR') return new AppError(code, SAFE_MESSAGE.INTERNAL_SERVER_ERROR as string);
  return new AppError(code, err.details || SAFE_MESSAGE[code] || code);
}

export interface WrapUnaryOptions {
  logger?: Logger;
  /** For log lines, e.g. 'courses.v1.PurchaseService/BuyCourse'; defaults to the call's path. */
  method?: string;
}

/**
 * Adapts an async handler to grpc-js's callback style. Thrown AppErrors become their gRPC status (with the
 * x-error-code trailer); anything else is logged with the request id and answered INTERNAL with a safe
 * message.
 */
export function wrapUnary<Req, Res>(
  handler: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
  opts: WrapUnaryOptions = {},
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handler(call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const method = opts.method ?? call.getPath();
          const requestId = requestIdFromMetadata(call.metadata);
          if (err instanceof AppError) {
            opts.logger?.debug({ method, requestId, code: err.code }, 'gRPC call refused');
          } else {
            opts.logger?.error({ method, requestId, err }, 'gRPC handler failed');
          }
          callback(toGrpcStatus(err), null);
        },
      );
  };
}
