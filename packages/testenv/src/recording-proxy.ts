import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that passed through the proxy, with what the real service answered. */
export interface ProxiedExchange {
  method: string;
  path: string;
  /** Headers as the service received them (the gateway's forwarded token, address, request id). */
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  /** The service's own response headers (a subgraph echoes the request id it used in x-request-id). */
  responseHeaders: IncomingHttpHeaders;
  responseBody: string;
}

export interface RecordingProxy {
  /** http://127.0.0.1:PORT/graphql, to register with discovery in place of the service. */
  url: string;
  /** Every exchange, in the order the answers came back. */
  readonly seen: ProxiedExchange[];
  /**
   * Holds the next requests until `count` of them are waiting (or `maxMs` passed since the first),
   * then passes them on together: requests the gateway sent concurrently are then certainly in flight
   * at the same time. Requests the gateway merged never arrive, so the hold ends by its timeout.
   */
  holdNext(count: number, maxMs: number): void;
  /** Requests held right now. */
  readonly waiting: number;
  stop(): Promise<void>;
}

/**
 * A transparent HTTP proxy in front of a real service (nothing is answered by the proxy itself): it
 * shows what really reached the service and what the service answered, where the service's own
 * behaviour alone cannot be observed from outside (how many fetches the gateway merged, which headers
 * each carried).
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const targetUrl = new URL(target);
  const seen: ProxiedExchange[] = [];
  let hold: { count: number; maxMs: number; waiting: Array<() => void>; timer?: NodeJS.Timeout } | undefined;

  const release = () => {
    const h = hold;
    hold = undefined;
    if (!h) return;
    clearTimeout(h.timer);
    for (const go of h.waiting) go();
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = () => {
        const up = request(
          { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: { ...req.headers, host: targetUrl.host } },
          (upRes) => {
            const out: Buffer[] = [];
            upRes.on('data', (c: Buffer) => out.push(c));
            upRes.on('end', () => {
              const responseBody = Buffer.concat(out);
              seen.push({
                method: req.method ?? 'GET',
                path: req.url ?? '/',
                headers: req.headers,
                body: body.toString(),
                status: upRes.statusCode ?? 0,
                responseHeaders: upRes.headers,
                responseBody: responseBody.toString(),
              });
              res.writeHead(upRes.statusCode ?? 502, upRes.headers);
              res.end(responseBody);
            });
          },
        );
        up.on('error', () => res.destroy());
        up.end(body);
      };
      // only GraphQL POSTs are held; health probes pass at once
      if (!hold || req.method !== 'POST') return forward();
      const h = hold;
      h.waiting.push(forward);
      if (h.waiting.length === 1) h.timer = setTimeout(release, h.maxMs);
      if (h.waiting.length >= h.count) release();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${targetUrl.pathname}`,
    seen,
    holdNext(count, maxMs) {
      release();
      hold = { count, maxMs, waiting: [] };
    },
    get waiting() {
      return hold?.waiting.length ?? 0;
    },
    stop: () =>
      new Promise<void>((r) => {
        release();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
