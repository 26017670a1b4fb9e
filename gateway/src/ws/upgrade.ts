import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { securityHeaders } from '../http/security-headers';
import type { PerAddressLimit } from './connection-limits';
import { matchCourseListPath, type CourseListServer } from './course-lists';
import type { GraphqlWsServer } from './graphql-ws';

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

export interface UpgradeTargets {
  graphqlWs: GraphqlWsServer;
  courseLists: CourseListServer;
  /** Open WebSockets per client address and in total. */
  connections: PerAddressLimit;
  clientAddress(req: IncomingMessage): string;
  hstsMaxAgeSeconds: number;
}

/** The http.Server 'upgrade' listener: /graphql → graphql-ws, /courses[/:ownerId] → course lists, others 404. */
export function upgradeHandler(t: UpgradeTargets): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { connections } = t;
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0];
    const headers = securityHeaders(req.method, path, { hstsMaxAgeSeconds: t.hstsMaxAgeSeconds });
    const target = path === '/graphql' ? undefined : matchCourseListPath(path);
    if (path !== '/graphql' && !target) {
      refuseUpgrade(socket, 404, `No WebSocket endpoint at ${path}: use /graphql (graphql-ws), /courses or /courses/:ownerId.`, headers);
      return;
    }
    const address = t.clientAddress(req);
    const problem = connections.problem(address);
    if (problem) {
      refuseUpgrade(socket, 429, `Too many WebSocket connections. ${problem}`, { ...headers, 'retry-after': '10' });
      return;
    }
    // counted from the upgrade until the TCP connection is gone, whatever happens in between
    socket.once('close', connections.acquire(address));
    if (path === '/graphql') return t.graphqlWs.handleUpgrade(req, socket, head);
    return t.courseLists.handleUpgrade(req, socket, head, target!);
  };
}
