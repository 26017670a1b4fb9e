import type { IncomingMessage } from 'node:http';
import type { ApolloServer, GraphQLResponse } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import {
  AppError,
  clientAddressOf,
  extractToken,
  REQUEST_ID_HEADER,
  type Authenticator,
  type AuthUser,
  type Logger,
  type trustedProxies,
} from '@dream/common';
import type { GatewayContext } from '../context';

export type Auth = { token?: string; user?: AuthUser };

export interface OperationRequest {
  query: string | DocumentNode;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/**
 * What the client surfaces (REST shims, graphql-ws, WS course lists) need from the gateway: run an
 * operation, authenticate, build a request context. They depend on this, not on the server, so each
 * can be built and tested with what it uses and none imports the composition.
 */
export interface GatewayExecutor {
  /** The supergraph's API schema; undefined until the first supergraph composes. */
  schema(): GraphQLSchema | undefined;
  /** True once Apollo serves a supergraph, so `execute` can run. */
  serving(): boolean;
  /** Runs one operation the way POST /graphql does (query planning, pools, breakers, token forwarding). */
  execute<T = Record<string, unknown>>(request: OperationRequest, context: GatewayContext): Promise<GraphQLResponse<T>>;
  /** Verifies the token of a request like /graphql does: {} without one, AppError UNAUTHENTICATED for a bad one. */
  authenticate(headers: IncomingMessage['headers']): Promise<Auth>;
  /** Signature, expiry and the denylist. */
  verify(token: string): Promise<AuthUser>;
  /** Signature and expiry only (cached, no Redis round trip); throws for a token that no longer verifies. */
  verifyLocally(token: string): void;
  /** The client's address (X-Forwarded-For only from TRUSTED_PROXIES). */
  clientAddress(req: IncomingMessage): string;
  /** A GatewayContext for a request, for running operations from the client surfaces. */
  contextFor(req: IncomingMessage, requestId: string, auth: Auth): GatewayContext;
}

export interface ExecutorParts {
  /** The Apollo server once a supergraph is loaded (undefined before). */
  apollo: () => ApolloServer<GatewayContext> | undefined;
  schema: () => GraphQLSchema | undefined;
  authenticator: Authenticator;
  trust: ReturnType<typeof trustedProxies>;
  logger: Logger;
}

export const noSupergraphYet = () => new AppError('SERVICE_UNAVAILABLE', 'The gateway has no supergraph yet: waiting for subgraphs to register.');

export function createExecutor(parts: ExecutorParts): GatewayExecutor {
  const { authenticator, trust, logger } = parts;
  const clientAddress = (req: IncomingMessage) => clientAddressOf(req, trust);
  return {
    schema: parts.schema,
    serving: () => parts.apollo() !== undefined,
    execute: <T>(request: OperationRequest, context: GatewayContext) => {
      const apollo = parts.apollo();
      if (!apollo) return Promise.reject(noSupergraphYet());
      return apollo.executeOperation<T>(request, { contextValue: context });
    },
    authenticate: async (headers) => {
      const token = extractToken(headers);
      if (token === undefined) return {};
      const user = await authenticator.verify(token);
      return { token, user };
    },
    verify: (token) => authenticator.verify(token),
    verifyLocally: (token) => void authenticator.jwt.verify(token),
    clientAddress,
    contextFor: (req, requestId, auth) => {
      // Only the one address the gateway decided on: a client-sent x-forwarded-for chain is not passed on.
      // The users subgraph keys its login and signup limits on it, so forwarding the client's chain let
      // anyone reset the limit by sending a new made-up address with each guess.
      const remote = clientAddress(req);
      return {
        requestId,
        requestIdFromClient: req.headers[REQUEST_ID_HEADER] === requestId,
        logger: logger.child({ requestId }),
        token: auth.token,
        user: auth.user,
        forwardedFor: remote,
      };
    },
  };
}
