import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { REQUEST_ID_HEADER, type TrustedProxies } from '@dream/common';

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** What a client could forge about where a request came from: the gateway writes these itself. */
const FORWARDING = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', REQUEST_ID_HEADER]);

/** Hop-by-hop headers, including those a `Connection` header names for this hop. */
function hopByHop(headers: IncomingHttpHeaders): Set<string> {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return new Set([...HOP_BY_HOP, ...named]);
}

/** The first value of a header a trusted proxy set (it may have appended to a client's own). */
const firstOf = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;

export interface ForwardingInfo {
  requestId: string;
  /** The client's address as the gateway decided it (TRUSTED_PROXIES applied). */
  clientAddress: string;
  trust: TrustedProxies;
}

/**
 * The headers a proxied request goes upstream with: the client's end-to-end headers (Authorization,
 * Range, tus headers, Host so the service builds its own absolute URLs) and the gateway's request id
 * and X-Forwarded-*. Proto and host come from the peer only when it is a trusted proxy.
 */
export function upstreamRequestHeaders(req: IncomingMessage, info: ForwardingInfo): OutgoingHttpHeaders {
  const drop = hopByHop(req.headers);
  // the gateway already answered any `Expect: 100-continue`
  drop.add('expect');
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || drop.has(name) || FORWARDING.has(name)) continue;
    out[name] = value;
  }
  const peerTrusted = !!req.socket.remoteAddress && info.trust(req.socket.remoteAddress, 0);
  out[REQUEST_ID_HEADER] = info.requestId;
  out['x-forwarded-for'] = info.clientAddress;
  out['x-forwarded-proto'] = (peerTrusted && firstOf(req.headers['x-forwarded-proto'])) || 'http';
  const host = (peerTrusted && firstOf(req.headers['x-forwarded-host'])) || req.headers.host;
  if (host) out['x-forwarded-host'] = host;
  return out;
}

/**
 * Copies an upstream answer's end-to-end headers onto `res`. Headers the gateway already set (security
 * headers, request id, CORS) stay the gateway's: a service cannot loosen them. Exposed headers are
 * merged, so a browser client can read what the service exposes (tus: Location, Upload-Offset…).
 */
export function copyResponseHeaders(from: IncomingMessage, res: ServerResponse): void {
  const drop = hopByHop(from.headers);
  for (const [name, value] of Object.entries(from.headers)) {
    if (value === undefined || drop.has(name) || name.startsWith('access-control-allow-')) continue;
    if (name === 'access-control-expose-headers') {
      const mine = res.getHeader(name);
      res.setHeader(name, mine ? `${String(mine)}, ${String(value)}` : value);
      continue;
    }
    if (res.hasHeader(name)) continue;
    res.setHeader(name, value);
  }
}
