import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@dream/common';
import type { GatewayConfig } from './config';
import type { GatewayExecutor } from './graphql/executor';
import { queryLimitsOf } from './limits';
import { registerOpenApi } from './http/openapi';
import { registerRestShims } from './http/rest/shims';
import type { RouteRegistry } from '@dream/common/http';
import { registerWsTicket } from './http/ws-ticket';
import type { DeclaredEventFields } from './subscriptions/declared-events';
import { EventBus } from './subscriptions/event-bus';
import type { TrustedDocuments } from './trusted-documents';
import { PerAddressLimit } from './ws/connection-limits';
import { CourseListServer } from './ws/course-lists';
import { GraphqlWsServer } from './ws/graphql-ws';
import type { WsTickets } from './ws/tickets';
import { upgradeHandler } from './ws/upgrade';

export interface ClientSurface {
  /** Open WebSockets per client address and in total. */
  connections: PerAddressLimit;
  events: EventBus;
  graphqlWs: GraphqlWsServer;
  courseLists: CourseListServer;
  /** The http.Server's 'upgrade' listener. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  stop(): Promise<void>;
}

/** What the client surface is built from: each part gets only the pieces it uses. */
export interface ClientSurfaceParts {
  config: GatewayConfig;
  logger: Logger;
  executor: GatewayExecutor;
  router: RouteRegistry;
  tickets: WsTickets;
  trusted: TrustedDocuments;
  /** The Subscription fields subgraphs declare with @eventSubscription (their owner follows composition). */
  declared: Pick<DeclaredEventFields, 'get'>;
}

/**
 * The spec's client surface on top of the gateway: REST shims (/api/..., /courses/:id/buy), the
 * OpenAPI document, graphql-ws on /graphql and the WS course lists on /courses[/:ownerId], all fed
 * by one Redis subscriber connection.
 */
export function createClientSurface({ config, logger, executor, router, tickets, trusted, declared }: ClientSurfaceParts): ClientSurface {
  const events = new EventBus(config.REDIS_URL, logger.child({ part: 'events' }));
  registerRestShims(router, executor, { maxBodyBytes: config.REST_MAX_BODY_BYTES, courseListMax: config.COURSE_LIST_MAX });
  registerWsTicket(router, executor, tickets);
  registerOpenApi(router);

  const ws = { keepAliveMs: config.WS_KEEPALIVE_MS, maxPayloadBytes: config.WS_MAX_PAYLOAD_BYTES };
  const graphqlWs = new GraphqlWsServer(executor, events, logger.child({ part: 'graphql-ws' }), {
    ...ws,
    connectionInitTimeoutMs: config.CONNECTION_INIT_TIMEOUT_MS,
    maxOperationsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    subscriptions: new PerAddressLimit(config.MAX_SUBSCRIPTIONS, config.MAX_SUBSCRIPTIONS_PER_ADDRESS),
    limits: queryLimitsOf(config),
    maxQueryTokens: config.MAX_QUERY_TOKENS,
    trusted,
    tickets,
    declared,
  });
  const courseLists = new CourseListServer(executor, tickets, events, logger.child({ part: 'ws-courses' }), { ...ws, max: config.COURSE_LIST_MAX });

  const connections = new PerAddressLimit(config.WS_MAX_CONNECTIONS, config.WS_MAX_CONNECTIONS_PER_ADDRESS);
  const onUpgrade = upgradeHandler({
    graphqlWs,
    courseLists,
    connections,
    clientAddress: executor.clientAddress,
    hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS,
  });

  return {
    connections,
    events,
    graphqlWs,
    courseLists,
    onUpgrade,
    stop: async () => {
      await Promise.all([graphqlWs.close(), courseLists.close()]);
      await events.close();
    },
  };
}
