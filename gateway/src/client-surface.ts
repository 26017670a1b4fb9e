import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendJson } from '@dream/common';
import { OPENAPI_DOCUMENT } from './openapi';
import { registerRestShims } from './rest/shims';
import type { Gateway } from './server';
import { EventBus } from './subscriptions/event-bus';
import { GraphqlWsServer } from './subscriptions/graphql-ws';
import { CourseListServer, matchCourseListPath } from './ws/course-lists';

export interface ClientSurface {
  events: EventBus;
  graphqlWs: GraphqlWsServer;
  courseLists: CourseListServer;
  stop(): Promise<void>;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const body = JSON.stringify({ error: { code: status === 404 ? 'NOT_FOUND' : 'BAD_USER_INPUT', message: text } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
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
  gw.route('GET', '/api/openapi.json', (req, res) => {
    req.resume();
    sendJson(res, 200, OPENAPI_DOCUMENT);
  });

  const ws = { keepAliveMs: config.WS_KEEPALIVE_MS, maxPayloadBytes: config.WS_MAX_PAYLOAD_BYTES };
  const graphqlWs = new GraphqlWsServer(gw, events, logger.child({ part: 'graphql-ws' }), {
    ...ws,
    connectionInitTimeoutMs: config.CONNECTION_INIT_TIMEOUT_MS,
    maxOperationsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
  });
  const courseLists = new CourseListServer(gw, events, logger.child({ part: 'ws-courses' }), { ...ws, max: config.COURSE_LIST_MAX });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/graphql') return graphqlWs.handleUpgrade(req, socket, head);
    const target = matchCourseListPath(path);
    if (target) return courseLists.handleUpgrade(req, socket, head, target);
    refuseUpgrade(socket, 404, `No WebSocket endpoint at ${path}: use /graphql (graphql-ws), /courses or /courses/:ownerId.`);
  };
  gw.server.on('upgrade', onUpgrade);

  return {
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
