import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Authenticator } from '../auth';
import { unauthenticated } from '../errors';
import { REQUEST_ID_HEADER, wellFormedRequestId } from '../http';
import { extractToken, type AuthUser } from '../jwt';
import { SERVICE_AUTH_KEY, serviceAuthValue, verifyServiceAuth } from '../service-auth';

function first(md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

/** Sets `authorization: Bearer <token>` (replacing any previous value). */
export function setBearerToken(md: grpc.Metadata, token: string): grpc.Metadata {
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** Sets `x-request-id` (replacing any previous value); an id of the wrong shape is left out. */
export function setRequestId(md: grpc.Metadata, requestId: string): grpc.Metadata {
  if (wellFormedRequestId(requestId)) md.set(REQUEST_ID_HEADER, requestId);
  return md;
}

/**
 * Metadata for an outgoing call: the caller's token (forwarded as is), the request id, and (with a
 * SERVICE_TOKEN) this service's signature, which proves the call comes from one of our services.
 */
export function callMetadata(opts: { token?: string; requestId?: string; service?: { name: string; secret?: string } } = {}): grpc.Metadata {
  const md = new grpc.Metadata();
  if (opts.token) setBearerToken(md, opts.token);
  if (opts.requestId) setRequestId(md, opts.requestId);
  if (opts.service?.secret) md.set(SERVICE_AUTH_KEY, serviceAuthValue(opts.service.secret, opts.service.name));
  return md;
}

/** The bearer token of an incoming call (`authorization: Bearer …`, or the spec's `jwt` key), if any. */
export function tokenFromMetadata(md: grpc.Metadata): string | undefined {
  return extractToken({ get: (name: string) => first(md, name) });
}

/** The caller's `x-request-id` when it is well-formed, else undefined. */
export function requestIdFromMetadata(md: grpc.Metadata): string | undefined {
  return wellFormedRequestId(first(md, REQUEST_ID_HEADER));
}

/** The request id to log and forward for this call: the caller's, or a fresh one. */
export function requestIdOfCall(call: { metadata: grpc.Metadata }): string {
  return requestIdFromMetadata(call.metadata) ?? randomUUID();
}

/**
 * The verified caller of an incoming call. Throws AppError UNAUTHENTICATED (→ gRPC UNAUTHENTICATED through
 * wrapUnary) when the token is missing, invalid, expired or revoked.
 */
export async function authenticateCall(
  call: { metadata: grpc.Metadata },
  authenticator: Authenticator,
  /** SERVICE_TOKEN: when set, the call must also be signed by one of our services. */
  serviceSecret?: string,
): Promise<AuthUser> {
  if (serviceSecret) verifyServiceAuth(first(call.metadata, SERVICE_AUTH_KEY), serviceSecret);
  const token = tokenFromMetadata(call.metadata);
  if (token === undefined) throw unauthenticated('Authentication required: send `authorization: Bearer <jwt>` metadata.');
  return authenticator.verify(token);
}
