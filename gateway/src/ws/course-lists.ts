import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { extractToken, isServiceUnavailable, type AuthUser, type Logger } from '@dream/common';
import type { GatewayContext } from '../context';
import type { GatewayExecutor } from '../graphql/executor';
import { listCourses } from '../graphql/operations';
import { COURSE_CHANNELS, type CourseEvent } from '@dream/common/events';
import type { EventBus } from '../subscriptions/event-bus';
import { CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHORIZED } from './close-codes';
import { ticketOf, type WsTickets } from './tickets';
import { closeWithin } from './bounded-close';

/** The spec's WS item: `{courseId, name, Description, price}` (Description capitalised as written). */
export interface SpecCourse {
  courseId: string;
  name: string;
  Description: string;
  price: number;
}

const LIST_QUERY = /* GraphQL */ `query WsCourseList($ownerId: ID, $first: Int, $after: String) {
  courses(ownerId: $ownerId, first: $first, after: $after) { id name info price cursor }
}`;

/** `/courses` → all courses; `/courses/<ownerId>` → that owner's. */
export function matchCourseListPath(path: string): { ownerId?: string } | undefined {
  if (path === '/courses' || path === '/courses/') return {};
  const m = /^\/courses\/([^/]+)$/.exec(path);
  if (!m) return undefined;
  try {
    return { ownerId: decodeURIComponent(m[1]) };
  } catch {
    return undefined;
  }
}

/** One list everybody on the same path sees: fetched once per change, sent to each of its sockets. */
class Feed {
  readonly sockets = new Set<WebSocket>();
  /** Sockets that already got a list from a refresh: their (older) first list is not sent after it. */
  readonly served = new WeakSet<WebSocket>();
  private running = false;
  private again = false;
  last?: string;

  constructor(readonly ownerId: string | undefined) {}

  /** Coalesces bursts: while a fetch runs, further changes cause exactly one more fetch after it. */
  async refresh(fetch: () => Promise<string>): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        const payload = await fetch();
        this.last = payload;
        for (const ws of this.sockets) {
          if (ws.readyState !== ws.OPEN) continue;
          this.served.add(ws);
          ws.send(payload);
        }
      } while (this.again && this.sockets.size > 0);
    } finally {
      this.running = false;
    }
  }
}

interface Client {
  alive: boolean;
  request: IncomingMessage;
  token: string;
  user: AuthUser;
}

/**
 * The spec's WebSocket endpoints `/courses` and `/courses/:ownerId`: on connect the current list as
 * `[{courseId,name,Description,price}]`, then the whole new list after every course change that
 * affects it (from the Redis event bus). Token from the `jwt` header, `Authorization`, or a `?ticket=`.
 */
export class CourseListServer {
  readonly wss: WebSocketServer;
  private readonly feeds = new Map<string, Feed>();
  private readonly clients = new WeakMap<WebSocket, Client>();
  private readonly offs: Array<() => void> = [];
  private readonly pinger: NodeJS.Timeout;

  constructor(
    private readonly executor: GatewayExecutor,
    private readonly tickets: Pick<WsTickets, 'redeem'>,
    bus: EventBus,
    private readonly logger: Logger,
    private readonly opts: { keepAliveMs: number; maxPayloadBytes: number; max: number },
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes });
    for (const channel of COURSE_CHANNELS) {
      this.offs.push(bus.on(channel, (e) => this.changed(e)));
    }
    // Keep-alive: a peer that did not answer the previous ping is gone (half-open TCP): terminate it.
    this.pinger = setInterval(() => {
      for (const ws of this.wss.clients) {
        const c = this.clients.get(ws);
        if (!c) continue;
        if (!c.alive) {
          ws.terminate();
          continue;
        }
        c.alive = false;
        ws.ping();
      }
    }, opts.keepAliveMs);
    this.pinger.unref();
  }

  get connections(): number {
    return this.wss.clients.size;
  }

  /** Authenticates before accepting; a missing or bad token is accepted and closed with 4401 so browsers see why. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: { ownerId?: string }): void {
    void this.upgrade(req, socket, head, target);
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: { ownerId?: string }): Promise<void> {
    // headers, or a single-use ticket for browsers: a long-lived token is never taken from the URL
    const token = extractToken(req.headers) ?? (await this.tickets.redeem(ticketOf(req)).catch(() => undefined));
    const verified = token
      ? this.executor.verify(token).then(
          (user) => ({ user, token }),
          (err: unknown) => (isServiceUnavailable(err) ? ('unavailable' as const) : undefined),
        )
      : Promise.resolve(undefined);
    void verified.then((auth) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        if (auth === 'unavailable') {
          ws.close(CLOSE_TRY_AGAIN_LATER, 'Cannot check the token right now; try again shortly');
          return;
        }
        if (!auth) {
          ws.close(CLOSE_UNAUTHORIZED, token ? 'Unauthorized: invalid token' : 'Unauthorized: send a jwt header, Authorization, or ?ticket= from POST /api/ws-ticket');
          return;
        }
        this.accept(ws, { alive: true, request: req, token: auth.token, user: auth.user }, target.ownerId);
      });
    });
  }

  private accept(ws: WebSocket, client: Client, ownerId: string | undefined): void {
    this.clients.set(ws, client);
    ws.on('pong', () => (client.alive = true));
    ws.on('message', () => undefined); // the stream is one-way; client messages are ignored
    ws.on('error', (err) => this.logger.debug({ err: err.message }, 'course list socket error'));
    const key = ownerId ?? '*';
    let feed = this.feeds.get(key);
    if (!feed) this.feeds.set(key, (feed = new Feed(ownerId)));
    const f = feed;
    // Joins the feed at once so no change is missed while its first list loads.
    f.sockets.add(ws);
    ws.once('close', () => {
      f.sockets.delete(ws);
      if (f.sockets.size === 0 && this.feeds.get(key) === f) this.feeds.delete(key);
    });
    this.fetch(ownerId, client).then(
      (payload) => {
        if (ws.readyState !== ws.OPEN || f.served.has(ws)) return;
        ws.send(payload);
      },
      (err: Error) => {
        this.logger.warn({ err: err.message }, 'could not load the course list');
        ws.close(1011, 'Could not load the course list');
      },
    );
  }

  private context(client: Client): GatewayContext {
    return this.executor.contextFor(client.request, randomUUID(), { token: client.token, user: client.user });
  }

  private async fetch(ownerId: string | undefined, client: Client): Promise<string> {
    const courses = await listCourses<{ id: string; name: string; info: string; price: number; cursor: string }>(this.executor, this.context(client), {
      ownerId,
      max: this.opts.max,
      query: LIST_QUERY,
    });
    const list: SpecCourse[] = courses.map((c) => ({ courseId: c.id, name: c.name, Description: c.info, price: c.price }));
    return JSON.stringify(list);
  }

  private changed(e: CourseEvent): void {
    for (const feed of this.feeds.values()) {
      if (feed.ownerId !== undefined && feed.ownerId !== e.ownerId) continue;
      if (feed.sockets.size === 0) continue;
      feed
        .refresh(async () => {
          // The list is fetched with the token of one of the feed's sockets. A token checked only at
          // connect may since have expired or been revoked (logout): the subgraphs then refuse it, and
          // the whole feed would stop updating for everybody. Sockets whose token is no longer valid
          // are closed (4401) and the next socket's token is used.
          this.dropExpired(feed);
          const client = await this.signedInClient(feed);
          if (!client) throw new Error('no socket of this feed has a valid token any more');
          return this.fetch(feed.ownerId, client);
        })
        .catch((err: Error) => this.logger.warn({ err: err.message, ownerId: feed.ownerId }, 'could not refresh a course list'));
    }
  }

  private unauthorized(feed: Feed, ws: WebSocket): void {
    feed.sockets.delete(ws);
    ws.close(CLOSE_UNAUTHORIZED, 'Unauthorized: the token has expired or was revoked');
  }

  /** Closes the sockets whose token has expired (a local check: signature and expiry, cached). */
  private dropExpired(feed: Feed): void {
    for (const ws of [...feed.sockets]) {
      const c = this.clients.get(ws);
      if (!c) continue;
      try {
        this.executor.verifyLocally(c.token);
      } catch {
        this.unauthorized(feed, ws);
      }
    }
  }

  /** The first socket of the feed whose token is still valid, denylist included. */
  private async signedInClient(feed: Feed): Promise<Client | undefined> {
    for (const ws of [...feed.sockets]) {
      const c = this.clients.get(ws);
      if (!c) continue;
      try {
        await this.executor.verify(c.token);
        return c;
      } catch (err) {
        // the denylist is unreachable: no refresh this time, but nobody is signed out for it
        if (isServiceUnavailable(err)) throw err;
        this.unauthorized(feed, ws);
      }
    }
    return undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const off of this.offs) off();
    await closeWithin(this.wss, async () => {
      for (const ws of this.wss.clients) ws.close(1001, 'Gateway shutting down');
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    });
  }
}
