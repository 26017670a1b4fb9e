import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { AppError, HTTP_STATUS, type ErrorCode } from './errors';

export const REQUEST_ID_HEADER = 'x-request-id';

/** The caller's request id when it sent a sane one, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const v = req.headers[REQUEST_ID_HEADER];
  return wellFormedRequestId(Array.isArray(v) ? v[0] : v) ?? randomUUID();
}

/** A caller's request id when it has the shape we log and forward (anything else is dropped). */
export function wellFormedRequestId(id: string | null | undefined): string | undefined {
  return id && /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? id : undefined;
}

/** Reads the whole body, refusing more than `limit` bytes with 413 before buffering it all. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${limit} bytes.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${limit} bytes.`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => !failed && resolve(Buffer.concat(chunks)));
    req.on('error', (e) => !failed && reject(e));
  });
}

/** Parses a JSON body; malformed JSON is a 400 with a clear message, never a 500. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const buf = await readBody(req, limit);
  if (buf.length === 0) throw new AppError('BAD_USER_INPUT', 'Request body must be a JSON document.');
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw new AppError('BAD_USER_INPUT', 'Request body is not valid JSON.');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** The REST error shape: `{"error": {"code", "message"}}` with the code's HTTP status. */
export function sendError(res: ServerResponse, code: ErrorCode, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, HTTP_STATUS[code], { error: { code, message, ...extra } });
}

/** Address a server listens on, as a URL base (http://127.0.0.1:PORT). */
export function serverUrl(server: Server, host = '127.0.0.1'): string {
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('server is not listening on TCP');
  return `http://${host}:${addr.port}`;
}

export function listen(server: Server, port: number, host = '0.0.0.0'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(addr && typeof addr === 'object' ? addr.port : port);
    });
  });
}

/** Closes a server and its idle keep-alive sockets so tests and SIGTERM never hang. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections?.();
    setTimeout(() => server.closeAllConnections?.(), 2000).unref();
  });
}
