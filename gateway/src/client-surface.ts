import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, sendJson } from '@dream/common';
import { OPENAPI_DOCUMENT } from './openapi';
import { registerRestShims } from './rest/shims';
import type { Gateway } from './server';
import { EventBus } from './subscriptions/event-bus';
import { GraphqlWsServer } from './subscriptions/graphql-ws';
import { CourseListServer, matchCourseListPath } from './ws/course-lists';
import { PerAddressLimit } from './ws/connection-limits';
import { securityHeaders } from './security-headers';

export interface ClientSurface {
  /** Open WebSockets per client address and in total. */
  connections: PerAddressLimit;
  events: EventBus;
  graphqlWs: GraphqlWsServer;
  courseLists: CourseListServer;
  stop(): Promise<void>;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' };
const CODES: Record<number, string> = { 400: 'BAD_USER_INPUT', 401: 'UNAUTHENTICATED', 404: 'NOT_FOUND', 429: 'RATE_LIMITED', 503: 'SERVICE_UNAVAILABLE' };

/** An HTTP answer written on the raw socket of a refused upgrade, with the same security headers as every other answer. */
export function refuseUpgrade(socket: Duplex, status: number, text: string, headers: Record<string, string>): void {
  const body = JSON.stringify({ error: { code: CODES[status] ?? 'BAD_USER_INPUT', message: text } });
  const all: Record<string, string> = {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const lines = Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}\r\n${lines}\r\n${body}`);
}

/**
 * The spec's client surface on top of the gateway: REST shims (/api/..., /courses/:id/buy), the
 * OpenAPI document, graphql-ws on /graphql and the WS course lists on /courses[/:ownerId], all fed
 * by one Redis subscriber connection.
 */
export function attachClientSurface(gw: Gateway): ClientSurface {
  const { config, logger } = gw;
  const events = new EventBus(config.REDIS_URL, logger.child({ part: 'events' }));
  registerRestShims(gw, { maxBodyBytes: config.REST_MAX_BODY_BYTES, courseListMax: config.COURSE_LIST_MAX });
  // A short-lived single-use ticket for a WebSocket upgrade from a client that cannot send headers.
  gw.route('POST', '/api/ws-ticket', async (req, res) => {
    req.resume();
    const auth = await gw.authenticate(req.headers);
    if (!auth.token) throw new AppError('UNAUTHENTICATED', 'Authentication required: send a JWT in the Authorization or jwt header.');
    const ticket = await gw.tickets.issue(auth.token).catch(() => {
      throw new AppError('SERVICE_UNAVAILABLE', 'Cannot issue a ticket right now (ticket store unavailable); try again shortly.');
    });
    sendJson(res, 201, { ticket, expiresInSeconds: gw.tickets.ttlSeconds }, { 'cache-control': 'no-store' });
  });
  gw.route('GET', '/api/openapi.json', (req, res) => {
    req.resume();
    sendJson(res, 200, OPENAPI_DOCUMENT);
  });

  const ws = { keepAliveMs: config.WS_KEEPALIVE_MS, maxPayloadBytes: config.WS_MAX_PAYLOAD_BYTES };
  const graphqlWs = new GraphqlWsServer(gw, events, logger.child({ part: 'graphql-ws' }), {
    ...ws,
    connectionInitTimeoutMs: config.CONNECTION_INIT_TIMEOUT_MS,
    maxOperationsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    subscriptions: new PerAddressLimit(config.MAX_SUBSCRIPTIONS, config.MAX_SUBSCRIPTIONS_PER_ADDRESS),
  });
  const courseLists = new CourseListServer(gw, events, logger.child({ part: 'ws-courses' }), { ...ws, max: config.COURSE_LIST_MAX });

  const connections = new PerAddressLimit(config.WS_MAX_CONNECTIONS, config.WS_MAX_CONNECTIONS_PER_ADDRESS);
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0];
    const headers = securityHeaders(req.method, path, { hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS });
    const target = path === '/graphql' ? undefined : matchCourseListPath(path);
    if (path !== '/graphql' && !target) {
      refuseUpgrade(socket, 404, `No WebSocket endpoint at ${path}: use /graphql (graphql-ws), /courses or /courses/:ownerId.`, headers);
      return;
    }
    const address = gw.clientAddress(req);
    const problem = connections.problem(address);
    if (problem) {
      refuseUpgrade(socket, 429, `Too many WebSocket connections. ${problem}`, { ...headers, 'retry-after': '10' });
      return;
    }
    // counted from the upgrade until the TCP connection is gone, whatever happens in between
    socket.once('close', connections.acquire(address));
    if (path === '/graphql') return graphqlWs.handleUpgrade(req, socket, head);
    return courseLists.handleUpgrade(req, socket, head, target!);
  };
  gw.server.on('upgrade', onUpgrade);

  return {
    connections,
    events,
    graphqlWs,
    courseLists,
    stop: async () => {
      gw.server.off('upgrade', onUpgrade);
      await Promise.all([graphqlWs.close(), courseLists.close()]);
      await events.close();
    },
  };
}
