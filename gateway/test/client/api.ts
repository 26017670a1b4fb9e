import type { Gateway } from '../../src/server';

export interface Recorded {
  method: string;
  /** OpenAPI path template, e.g. /api/course/{courseId}. */
  template: string;
  status: number;
  body: unknown;
}

/** Every REST answer seen by the tests, checked against the OpenAPI document at the end. */
export const recorded: Recorded[] = [];

export interface ApiResult {
  status: number;
  headers: Headers;
  body: any;
}

/** A real HTTP request to the gateway; `raw` sends the body as is (malformed JSON, oversized). */
export async function api(
  gw: Gateway,
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; jwt?: string; bearer?: string; template?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.jwt) headers.jwt = opts.jwt;
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  let body: string | undefined = opts.raw;
  if (body === undefined && opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${gw.url}${path}`, { method, headers, body, signal: AbortSignal.timeout(15000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* asserted by the caller */
  }
  recorded.push({ method: method.toLowerCase(), template: opts.template ?? path.split('?')[0], status: res.status, body: parsed });
  return { status: res.status, headers: res.headers, body: parsed };
}

/** A single-use WebSocket ticket for `?ticket=` (browsers cannot send headers on an upgrade). */
export async function wsTicket(gw: Gateway, jwt: string): Promise<string> {
  const r = await api(gw, 'POST', '/api/ws-ticket', { jwt });
  if (r.status !== 201) throw new Error(`ws-ticket failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.ticket as string;
}

let n = 0;
export const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(n++).toString(36)}`;

/** Signs up through the REST shim and returns the token and the user id inside it. */
export async function signup(gw: Gateway, roles: unknown, name = unique('u')): Promise<{ jwt: string; id: string; username: string }> {
  const r = await api(gw, 'POST', '/api/user/signup', {
    body: { username: name, password: 'correct horse battery', email: `${name}@example.org`, roles },
  });
  if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`);
  const payload = JSON.parse(Buffer.from(r.body.jwt.split('.')[1], 'base64url').toString()) as { sub?: string; id?: string };
  return { jwt: r.body.jwt, id: (payload.sub ?? payload.id)!, username: name };
}
