import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from '@dream/common';
import type { Disposables } from '@dream/common/testing';

/** A node:http server on a free port running `handler`, closed by `disposables`; returns its base URL. */
export async function serve(
  disposables: Disposables,
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void,
): Promise<string> {
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  disposables.defer(() => closeServer(server));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A GET with the path sent exactly as given (fetch would normalise `..` away). */
export function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  return rawRequest(base, 'GET', path);
}

/** A request with the path sent exactly as given. */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The `{ error: { code, message } }` body of an error answer. */
export async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}
