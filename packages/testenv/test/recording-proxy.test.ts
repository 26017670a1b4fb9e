import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Disposables, waitFor } from '@dream/common/testing';
import { startHangingServer, startRecordingProxy } from '../src';

/** A plain HTTP server that answers each POST with what it received, to see what the proxy passed on. */
async function startEcho(d: Disposables): Promise<{ url: string; got: Array<{ headers: IncomingHttpHeaders; body: string; at: number }> }> {
  const got: Array<{ headers: IncomingHttpHeaders; body: string; at: number }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      got.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': String(req.headers['x-request-id'] ?? 'none') });
      res.end(JSON.stringify({ echo: body, path: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  d.defer(() => new Promise<void>((r) => server.close(() => r())));
  d.defer(() => server.closeAllConnections());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, got };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(10000) });

describe('startRecordingProxy', () => {
  const d = new Disposables();
  afterEach(() => d.disposeAll());

  it('passes requests and answers through unchanged and records both sides', async () => {
    const echo = await startEcho(d);
    const proxy = await startRecordingProxy(echo.url);
    d.defer(() => proxy.stop());
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(proxy.url).not.toBe(echo.url);

    const res = await post(proxy.url, '{"query":"{ a }"}', { authorization: 'Bearer t1', 'x-request-id': 'r-1' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('r-1');
    expect(await res.json()).toEqual({ echo: '{"query":"{ a }"}', path: '/graphql' });
    // the service got the client's headers
    expect(echo.got).toHaveLength(1);
    expect(echo.got[0].headers.authorization).toBe('Bearer t1');
    expect(proxy.seen).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/graphql',
        body: '{"query":"{ a }"}',
        status: 201,
        responseBody: JSON.stringify({ echo: '{"query":"{ a }"}', path: '/graphql' }),
        headers: expect.objectContaining({ authorization: 'Bearer t1', 'x-request-id': 'r-1' }),
        responseHeaders: expect.objectContaining({ 'x-request-id': 'r-1' }),
      }),
    ]);
  });

  it('holdNext(n) keeps requests until n are waiting, then passes them on together', async () => {
    const echo = await startEcho(d);
    const proxy = await startRecordingProxy(echo.url);
    d.defer(() => proxy.stop());
    proxy.holdNext(3, 20_000);
    const first = post(proxy.url, '1');
    const second = post(proxy.url, '2');
    await waitFor(() => proxy.waiting === 2, { what: 'two requests held' });
    // two of three: nothing reached the service yet
    expect(echo.got).toHaveLength(0);
    const third = post(proxy.url, '3');
    const answers = await Promise.all([first, second, third]);
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(echo.got.map((g) => g.body).sort()).toEqual(['1', '2', '3']);
    // after the hold, requests pass at once
    const started = echo.got.length;
    await post(proxy.url, '4');
    expect(echo.got).toHaveLength(started + 1);
  });

  it('a hold that never fills ends after maxMs, and health checks (GET) are never held', async () => {
    const echo = await startEcho(d);
    const proxy = await startRecordingProxy(echo.url);
    d.defer(() => proxy.stop());
    proxy.holdNext(2, 300);
    const t0 = Date.now();
    const getAnswer = await fetch(proxy.url.replace('/graphql', '/health'));
    expect(getAnswer.status).toBe(201); // the echo answers GETs too: passed on at once, not held
    const lone = await post(proxy.url, 'alone');
    expect(lone.status).toBe(201);
    // held until the timeout: the service saw it only after maxMs
    const seen = echo.got.find((g) => g.body === 'alone')!;
    expect(seen.at - t0).toBeGreaterThanOrEqual(250);
    expect(proxy.waiting).toBe(0);
  });
});

describe('startHangingServer', () => {
  it('accepts connections and never answers', async () => {
    const hang = await startHangingServer();
    try {
      expect(hang.url).toBe(`http://127.0.0.1:${hang.port}/graphql`);
      // no answer at all: the client's own deadline is what ends the request
      await expect(fetch(hang.url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(300) })).rejects.toThrow(/aborted due to timeout/);
      expect(hang.connections).toBeGreaterThan(0);
    } finally {
      await hang.stop();
    }
  });
});
