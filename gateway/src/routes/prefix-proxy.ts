import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { AppError, sendJson, type ServiceInstance, type TrustedProxies } from '@dream/common';
import { copyResponseHeaders, upstreamRequestHeaders } from './proxy-headers';
import type { PrefixRoute } from './route-table';

export interface PrefixProxyOptions {
  /** No byte in either direction for this long ends the exchange (504 before the answer started). */
  idleTimeoutMs: number;
  trust: TrustedProxies;
}

export interface ProxyRequestInfo {
  requestId: string;
  clientAddress: string;
}

/** How one attempt against one instance ended when it did not get an answer from it. */
type Outcome = IncomingMessage | 'too-large' | 'client-gone';

/** The sticky key of a request: the path segment right after the route's `afterPrefix`. */
export function stickyKeyOf(route: PrefixRoute, path: string): string | undefined {
  const after = route.sticky?.afterPrefix;
  if (!after || !path.startsWith(after)) return undefined;
  const segment = path.slice(after.length).split('/')[0];
  return segment || undefined;
}

/**
 * Proxies requests under an announced prefix to one instance of its pool, streamed both ways: the
 * request body is piped upstream and the answer piped back, each with backpressure, never buffered
 * whole. Round-robin (or rendezvous by the sticky key) with the pool's breaker per instance; a request
 * whose connection was refused is tried once more on another instance, which is safe because its body
 * is only read once a connection stands. The client going away cancels the upstream request.
 */
export class PrefixProxy {
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });

  constructor(private readonly opts: PrefixProxyOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse, route: PrefixRoute, path: string, info: ProxyRequestInfo): Promise<void> {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > route.maxBodyBytes) return this.tooLarge(res, route);
    const headers = upstreamRequestHeaders(req, { ...info, trust: this.opts.trust });
    const key = stickyKeyOf(route, path);
    let outcome: Outcome;
    try {
      outcome = await route.pool.execute((inst) => this.attempt(req, res, inst, headers, route.maxBodyBytes), { retryOnce: true, idempotent: false, key });
    } catch (err) {
      if (!(err instanceof AppError) || res.headersSent) throw err;
      // 503 (no live instance), 502 or 504; the unread rest of a body is not worth draining
      const retry: Record<string, string> = err.code === 'SERVICE_UNAVAILABLE' ? { 'retry-after': '1' } : {};
      sendJson(res, err.status, { error: { code: err.code, message: err.message } }, { connection: 'close', ...retry });
      return;
    }
    if (outcome === 'client-gone') return;
    if (outcome === 'too-large') return this.tooLarge(res, route);
    copyResponseHeaders(outcome, res);
    res.writeHead(outcome.statusCode ?? 502, outcome.statusMessage);
    // an answer cut off upstream must not look complete to the client
    outcome.on('error', () => res.destroy());
    outcome.once('close', () => {
      if (!outcome.complete) res.destroy();
    });
    outcome.pipe(res);
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * One try against `inst`; resolves with the upstream answer once its headers arrive. Rejections count
   * against the instance's breaker: a refused connection as is (so the pool may retry elsewhere), a
   * failure after the request reached the instance as 502, silence as 504. What the client causes
   * (a body over the limit, going away) resolves instead, so it never opens a breaker.
   */
  private attempt(req: IncomingMessage, res: ServerResponse, inst: ServiceInstance, headers: OutgoingHttpHeaders, limit: number): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const target = new URL(inst.url);
      const up: ClientRequest = httpRequest({
        agent: this.agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        setHost: false,
      });
      let reached = false;
      let settled: Outcome | 'failed' | undefined;
      const settle = (o: Outcome) => {
        if (settled) return;
        settled = o;
        resolve(o);
      };
      const fail = (err: Error) => {
        if (settled) return;
        settled = 'failed';
        reject(err);
      };
      up.setTimeout(this.opts.idleTimeoutMs, () => {
        up.destroy();
        fail(new AppError('GATEWAY_TIMEOUT', `The service behind this path sent nothing for ${this.opts.idleTimeoutMs} ms.`));
      });
      up.on('error', (err) => {
        req.unpipe();
        if (!reached) return fail(err);
        fail(new AppError('BAD_GATEWAY', 'The service behind this path failed before it answered.'));
      });
      up.once('response', (answer) => settle(answer));
      // the client leaving (or its connection failing) cancels the upstream request, whatever stage it is in
      const cancel = () => {
        if (res.writableFinished) return;
        up.destroy();
        settle('client-gone');
      };
      res.once('close', cancel);
      req.once('error', cancel);
      const start = () => {
        reached = true;
        const counter = bodyCounter(limit);
        counter.once('error', () => {
          up.destroy();
          settle('too-large');
        });
        req.pipe(counter).pipe(up);
      };
      up.once('socket', (socket) => (socket.connecting ? socket.once('connect', start) : start()));
    });
  }

  private tooLarge(res: ServerResponse, route: PrefixRoute): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // the rest of the body is not read: the connection closes after this answer
    sendJson(
      res,
      413,
      { error: { code: 'PAYLOAD_TOO_LARGE', message: `Request bodies under ${route.prefix} are limited to ${route.maxBodyBytes} bytes.` } },
      { connection: 'close' },
    );
  }
}

/** Passes bytes through and fails once more than `limit` went by (bodies without a Content-Length). */
function bodyCounter(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) cb(new Error('body over the limit'));
      else cb(null, chunk);
    },
  });
}
