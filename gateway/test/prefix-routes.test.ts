import { createHash, randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { Disposables, metricValue, waitFor, waitForEvent } from '@dream/common/testing';
import type { Gateway } from '../src/server';
import { FILE, startPrefixService, type PrefixService } from './fixtures/prefix-service';
import { Stack } from './helpers';

jest.setTimeout(60000);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: <T = any>() => T;
}

/** One request through node:http (fetch would refuse hop-by-hop headers the test needs to send). */
function send(gw: Gateway, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const MiB = 1024 * 1024;

describe('path prefixes announced in discovery, proxied by the gateway', () => {
  const stack = new Stack();
  const d = new Disposables();
  let gw: Gateway;
  let a: PrefixService;
  let b: PrefixService;
  let other: PrefixService;

  const service = (svc: string, replica: string, routes: Parameters<typeof startPrefixService>[0]['routes']) =>
    startPrefixService({ service: svc, replica, routes, discoveryUrl: stack.discoveryUrl, discoveryToken: stack.discoveryToken }).then((s) =>
      d.push(s, (x) => x.stop()),
    );
  const echoRoute = { prefix: '/echo/', sticky: { afterPrefix: '/echo/sticky/' }, maxBodyBytes: 8 * MiB };
  const poolSize = (path: string) => gw.prefixRoutes.match(path)?.pool.size ?? 0;

  beforeAll(async () => {
    await stack.start();
    gw = await stack.gateway({ ROUTE_SERVICES: 'echo,other,gone', ROUTE_IDLE_TIMEOUT_MS: '5000' });
    a = await service('echo', 'a', [echoRoute]);
    b = await service('echo', 'b', [echoRoute]);
    other = await service('other', 'o', ['/other/']);
    await waitFor(() => poolSize('/echo/x') === 2 && poolSize('/other/x') === 1, { what: 'both prefixes routed' });
  });
  afterAll(async () => {
    await d.disposeAll();
    await stack.stop();
  });

  it('discovery lists what each instance announced', async () => {
    const snap = await stack.client.list();
    expect(snap.services.echo!.map((i) => i.routes)).toEqual([[echoRoute], [echoRoute]]);
    expect(snap.services.other![0]!.routes).toEqual([{ prefix: '/other/' }]);
    const ready = gw.readyReport().routes;
    expect(Object.keys(ready)).toEqual(['/echo/', '/other/']);
    expect(ready['/echo/']).toEqual({ service: 'echo', available: 2, instances: [expect.objectContaining({ state: 'closed' }), expect.objectContaining({ state: 'closed' })] });
    const metrics = (await send(gw, 'GET', '/metrics')).body.toString();
    expect(metricValue(metrics, 'gateway_route_instances', { prefix: '/echo/', available: 'true' })).toBe(2);
    expect(metricValue(metrics, 'gateway_route_instances', { prefix: '/other/', available: 'true' })).toBe(1);
  });

  it('spreads requests round-robin over the replicas announcing the prefix', async () => {
    const replicas: string[] = [];
    for (let i = 0; i < 6; i++) replicas.push((await send(gw, 'GET', `/echo/rr/${i}?q=1`)).json().replica);
    expect(replicas.filter((r) => r === 'a')).toHaveLength(3);
    expect(replicas.filter((r) => r === 'b')).toHaveLength(3);
    const echoed = (await send(gw, 'GET', '/echo/path/x?y=1%202')).json();
    expect(echoed.url).toBe('/echo/path/x?y=1%202');
  });

  it('forwards the request id and its own X-Forwarded-*, strips hop-by-hop headers, and answers with the gateway security headers', async () => {
    const res = await send(gw, 'GET', '/echo/headers', {
      'x-request-id': 'prefix-route-test-1',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      connection: 'keep-alive, x-hop',
      'x-hop': 'secret for the next hop only',
      authorization: 'Bearer tus-ticket',
      'upload-offset': '42',
    });
    expect(res.status).toBe(200);
    const seen = res.json().headers;
    expect(seen['x-request-id']).toBe('prefix-route-test-1');
    // the client is not a trusted proxy: what it claims about addresses and scheme is replaced
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe(new URL(gw.url).host);
    expect(seen['x-hop']).toBeUndefined();
    expect(seen.authorization).toBe('Bearer tus-ticket');
    expect(seen['upload-offset']).toBe('42');
    expect(res.headers['x-request-id']).toBe('prefix-route-test-1');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('keeps every request of one sticky key on one replica, and spreads the keys', async () => {
    const owner = new Map<string, string>();
    for (let k = 0; k < 16; k++) {
      const key = `upload-${k}`;
      const seen = new Set<string>();
      for (const tail of ['', '/x', '/y/z']) seen.add((await send(gw, 'PATCH', `/echo/sticky/${key}${tail}`)).json().replica);
      expect(seen.size).toBe(1);
      owner.set(key, [...seen][0]!);
    }
    expect(new Set(owner.values())).toEqual(new Set(['a', 'b']));
  });

  it('passes Range requests and their answers through (206, suffix range, 416)', async () => {
    const first = await send(gw, 'GET', '/echo/file', { range: 'bytes=0-9' });
    expect(first.status).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-9/${FILE.length}`);
    expect(first.body).toEqual(FILE.subarray(0, 10));
    const suffix = await send(gw, 'GET', '/echo/file', { range: 'bytes=-5' });
    expect(suffix.status).toBe(206);
    expect(suffix.body).toEqual(FILE.subarray(FILE.length - 5));
    const open = await send(gw, 'GET', '/echo/file', { range: 'bytes=990-' });
    expect(open.body).toEqual(FILE.subarray(990));
    const bad = await send(gw, 'GET', '/echo/file', { range: 'bytes=5000-' });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${FILE.length}`);
  });

  it('streams a 5 MB upload: the replica has its first bytes before the client sent the last', async () => {
    const body = randomBytes(5 * MiB);
    const done = new Promise<Answer>((resolve, reject) => {
      const req = request(`${gw.url}/echo/upload`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), json: () => JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on('error', reject);
      const started = Promise.race([waitForEvent(a.events, 'body-start', { timeoutMs: 10000 }), waitForEvent(b.events, 'body-start', { timeoutMs: 10000 })]);
      req.write(body.subarray(0, MiB));
      // the rest is sent only once a replica is already reading the body: nothing waited for the whole of it
      void started.then(() => req.end(body.subarray(MiB)), reject);
    });
    const res = await done;
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ replica: expect.any(String), bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('a client that goes away mid-upload cancels the upstream request', async () => {
    const req = request(`${gw.url}/echo/upload`, { method: 'POST' });
    req.on('error', () => undefined);
    const started = Promise.race([waitForEvent(a.events, 'body-start'), waitForEvent(b.events, 'body-start')]);
    const aborted = Promise.race([waitForEvent(a.events, 'body-aborted'), waitForEvent(b.events, 'body-aborted')]);
    req.write(randomBytes(256 * 1024));
    await started;
    req.destroy();
    await expect(aborted).resolves.toEqual(expect.any(String));
  });

  it('refuses bodies over the announced limit with 413, declared or streamed', async () => {
    const declared = await send(gw, 'PUT', '/echo/upload', { 'content-length': String(9 * MiB) });
    expect(declared.status).toBe(413);
    expect(declared.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(`${gw.url}/echo/upload`, { method: 'PUT' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(MiB);
      let sent = 0;
      const pump = () => {
        while (sent < 12 && req.write(chunk)) sent++;
        if (sent < 12) req.once('drain', pump);
        else req.end();
      };
      pump();
    }).catch(() => 413); // the gateway may close the connection before the client finished writing
    expect(streamed).toBe(413);
  });

  it('answers 502 with a JSON error when the service fails before answering', async () => {
    const res = await send(gw, 'GET', '/echo/hangup');
    expect(res.status).toBe(502);
    expect(res.json().error.code).toBe('BAD_GATEWAY');
  });

  it('cuts the client off when the service dies halfway through its answer (an incomplete body never looks complete)', async () => {
    await expect(send(gw, 'GET', '/echo/cut')).rejects.toThrow();
    expect((await send(gw, 'GET', '/echo/still-up')).status).toBe(200);
  });

  it('answers 504 when the service stays silent longer than ROUTE_IDLE_TIMEOUT_MS', async () => {
    const impatient = await stack.gateway({ ROUTE_SERVICES: 'echo', ROUTE_IDLE_TIMEOUT_MS: '300' });
    await waitFor(() => impatient.prefixRoutes.match('/echo/')?.pool.size === 2, { what: 'echo routed by the second gateway' });
    const res = await send(impatient, 'GET', '/echo/stall');
    expect(res.status).toBe(504);
    expect(res.json().error.code).toBe('GATEWAY_TIMEOUT');
  });

  it('drops a prefix from routing when its service deregisters', async () => {
    const gone = await service('gone', 'g', ['/gone/']);
    await waitFor(() => poolSize('/gone/x') === 1, { what: '/gone/ routed' });
    expect((await send(gw, 'GET', '/gone/x')).json().replica).toBe('g');
    await gone.stop();
    await waitFor(() => gw.prefixRoutes.match('/gone/x') === undefined, { what: '/gone/ no longer routed' });
    // (a GET would be the web app's to answer now: PUT has no other taker)
    const res = await send(gw, 'PUT', '/gone/x');
    expect(res.status).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('sends everything to the surviving replica when one is killed, and 503 when none is left', async () => {
    await a.crash();
    for (let i = 0; i < 6; i++) {
      const res = await send(gw, 'GET', `/echo/after-crash/${i}`);
      expect(res.status).toBe(200);
      expect(res.json().replica).toBe('b');
    }
    for (let k = 0; k < 8; k++) expect((await send(gw, 'PATCH', `/echo/sticky/upload-${k}`)).json().replica).toBe('b');

    await other.crash();
    const res = await send(gw, 'GET', '/other/x');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.json().error.code).toBe('SERVICE_UNAVAILABLE');
  });
});
