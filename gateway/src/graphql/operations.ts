import type { IncomingMessage } from 'node:http';
import type { DocumentNode } from 'graphql';
import { AppError, HTTP_STATUS, type ErrorCode, type FieldError } from '@dream/common';
import type { GatewayContext } from '../context';
import type { Auth, GatewayExecutor } from './executor';

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
  executor: GatewayExecutor,
  context: GatewayContext,
  query: string | DocumentNode,
  variables?: Record<string, unknown>,
): Promise<T> {
  const response = await executor.execute<T>({ query, variables }, context);
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
export async function authOf(executor: GatewayExecutor, req: IncomingMessage, required: boolean): Promise<Auth> {
  const auth = await executor.authenticate(req.headers);
  if (required && !auth.user) {
    throw new AppError('UNAUTHENTICATED', 'Authentication required: send the token as a "jwt" header or "Authorization: Bearer <jwt>".');
  }
  return auth;
}

const LIST_COURSES = /* GraphQL */ `query RestCourses($category: String, $ownerId: ID, $first: Int, $after: String) {
  courses(category: $category, ownerId: $ownerId, first: $first, after: $after) { id cursor owner { id } }
}`;
const PAGE = 100;

export interface ListedCourse {
  id: string;
  cursor: string;
  owner: { id: string };
}

/** Pages through `Query.courses` (newest first) up to `max` courses. */
export async function listCourses<T extends { cursor: string } = ListedCourse>(
  executor: GatewayExecutor,
  context: GatewayContext,
  opts: { category?: string; ownerId?: string; max: number; query?: string },
): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  while (out.length < opts.max) {
    const first = Math.min(PAGE, opts.max - out.length);
    const data = await runOperation<{ courses: T[] }>(executor, context, opts.query ?? LIST_COURSES, {
      category: opts.category,
      ownerId: opts.ownerId,
      first,
      after,
    });
    out.push(...data.courses);
    if (data.courses.length < first) break;
    after = data.courses[data.courses.length - 1].cursor;
  }
  return out;
}
