import type { IncomingMessage } from 'node:http';
import type { DocumentNode } from 'graphql';
import { AppError, HTTP_STATUS, type AuthUser, type ErrorCode, type FieldError } from '@dream/common';
import type { GatewayContext } from '../context';
import type { Gateway } from '../server';

export type Auth = { token?: string; user?: AuthUser };

/** An error of the operation: its code's AppError, so REST answers `{"error":{code,message}}` with the right status. */
export function toAppError(error: { message: string; extensions?: Record<string, unknown> }): AppError {
  const code = error.extensions?.code;
  if (typeof code === 'string' && code in HTTP_STATUS && code !== 'INTERNAL_SERVER_ERROR') {
    const fields = Array.isArray(error.extensions?.fields) ? (error.extensions.fields as FieldError[]) : undefined;
    const retryAfter = typeof error.extensions?.retryAfter === 'number' ? error.extensions.retryAfter : undefined;
    return new AppError(code as ErrorCode, error.message, { fields, retryAfter });
  }
  return new AppError('INTERNAL_SERVER_ERROR', 'Internal server error.');
}

/**
 * Runs one GraphQL operation on the gateway's own supergraph (the same path as POST /graphql:
 * query planning, round-robin, breakers, token forwarding), so shims hold no business logic. The
 * first error becomes an AppError; otherwise the data.
 */
export async function runOperation<T = Record<string, unknown>>(
  gw: Gateway,
  context: GatewayContext,
  query: string | DocumentNode,
  variables?: Record<string, unknown>,
): Promise<T> {
  const apollo = gw.apollo;
  if (!apollo) throw new AppError('SERVICE_UNAVAILABLE', 'The gateway has no supergraph yet: waiting for subgraphs to register.');
  const response = await apollo.executeOperation<T>({ query, variables }, { contextValue: context });
  if (response.body.kind !== 'single') throw new AppError('INTERNAL_SERVER_ERROR', 'Unexpected incremental response.');
  const { data, errors } = response.body.singleResult;
  if (errors?.length) {
    const err = toAppError(errors[0] as { message: string; extensions?: Record<string, unknown> });
    if (err.code === 'INTERNAL_SERVER_ERROR') context.logger.error({ errors }, 'operation behind a shim failed');
    throw err;
  }
  if (!data) throw new AppError('INTERNAL_SERVER_ERROR', 'Internal server error.');
  return data as T;
}

/** Verifies the request's token (401 for a bad one); with `required`, 401 also when none was sent. */
export async function authOf(gw: Gateway, req: IncomingMessage, required: boolean): Promise<Auth> {
  const auth = await gw.authenticate(req.headers);
  if (required && !auth.user) {
    throw new AppError('UNAUTHENTICATED', 'Authentication required: send the token as a "jwt" header or "Authorization: Bearer <jwt>".');
  }
  return auth;
}
