/**
 * Headers every gateway HTTP response carries. The API answers JSON, so its CSP forbids everything;
 * GET /graphql may be the Apollo Sandbox landing page (HTML that loads Apollo's CDN and embeds the
 * Sandbox iframe), so it gets a CSP that allows exactly those origins. The page adds its own
 * nonce-based CSP in a <meta> tag; browsers enforce both.
 */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const CDN = 'https://apollo-server-landing-page.cdn.apollographql.com';
const LANDING_CSP = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline' ${CDN} https://embeddable-sandbox.cdn.apollographql.com https://embeddable-explorer.cdn.apollographql.com`,
  `style-src 'self' 'unsafe-inline' ${CDN} https://fonts.googleapis.com`,
  "font-src 'self' https://fonts.gstatic.com",
  `img-src 'self' data: ${CDN}`,
  `manifest-src ${CDN}`,
  'frame-src https://sandbox.embed.apollographql.com https://explorer.embed.apollographql.com',
  "connect-src 'self' https://*.apollographql.com",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface SecurityHeaderOptions {
  /** Strict-Transport-Security max-age; 0 = not sent (the gateway itself speaks plain HTTP). */
  hstsMaxAgeSeconds: number;
}

/**
 * The security headers of every answer, as a function of method and path that returns one of two
 * objects built once (the skeleton copies them onto each response).
 */
export function securityHeadersOf(opts: SecurityHeaderOptions): (method: string | undefined, path: string) => Readonly<Record<string, string>> {
  const hsts: Record<string, string> = opts.hstsMaxAgeSeconds > 0 ? { 'strict-transport-security': `max-age=${opts.hstsMaxAgeSeconds}; includeSubDomains` } : {};
  const common = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' };
  const api = Object.freeze({ ...common, 'content-security-policy': API_CSP, ...hsts });
  const landing = Object.freeze({ ...common, 'content-security-policy': LANDING_CSP, ...hsts });
  return (method, path) => (method === 'GET' && path === '/graphql' ? landing : api);
}

/** The security headers of an answer (also written by hand on refused WebSocket upgrades, which bypass ServerResponse). */
export function securityHeaders(method: string | undefined, path: string, opts: SecurityHeaderOptions): Record<string, string> {
  return { ...securityHeadersOf(opts)(method, path) };
}

/**
 * CORS origins: exact origins, or `scheme://host:*` for any port of a host; `*` allows any origin
 * (tokens travel in headers, never cookies, so `*` is not a credential leak — but it lets any site
 * drive a user's token-holding browser app, so it is opt-in).
 */
export function corsMatcher(list: string): (origin: string) => string | undefined {
  const entries = list
    .split(',')
    .map((o) => o.trim().replace(/\/$/, ''))
    .filter(Boolean);
  if (entries.includes('*')) return () => '*';
  const exact = new Set(entries.filter((e) => !e.endsWith(':*')));
  const anyPort = entries.filter((e) => e.endsWith(':*')).map((e) => e.slice(0, -2));
  return (origin) => {
    if (exact.has(origin)) return origin;
    const m = /^(https?:\/\/[^/:]+)(:\d{1,5})?$/.exec(origin);
    return m && anyPort.includes(m[1]) ? origin : undefined;
  };
}

/** Apollo Studio / Sandbox (hosted and embedded) and browser apps on this machine. */
export const DEFAULT_CORS_ORIGINS =
  'https://studio.apollographql.com,https://sandbox.embed.apollographql.com,https://explorer.embed.apollographql.com,http://localhost:*,http://127.0.0.1:*';
