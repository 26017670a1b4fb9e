import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createRedis, redisHealthy } from '../src';
import { startRedisServer, Disposables, waitFor } from '../src/testing';

const d = new Disposables();
afterAll(() => d.disposeAll());

it('starts a private redis-server on a free port, stops and restarts it', async () => {
  const srv = d.push(await startRedisServer(), (s) => s.stop());
  expect(srv.port).not.toBe(6379);
  const client = d.push(createRedis(srv.url), (c) => c.disconnect());
  await client.set('k', 'v');
  expect(await client.get('k')).toBe('v');
  await srv.stop();
  expect(await redisHealthy(client)).toBe(false);
  await srv.start();
  await waitFor(() => redisHealthy(client), { what: 'redis back' });
});

it('runs in a folder of its own, so a dump.rdb in the folder of the caller never comes back after a restart', async () => {
  const srv = d.push(await startRedisServer(), (s) => s.stop());
  const client = d.push(createRedis(srv.url), (c) => c.disconnect());
  const [, dir] = (await client.config('GET', 'dir')) as [string, string];
  expect(dir).not.toBe(process.cwd());
  expect(dir.startsWith(process.cwd())).toBe(false);
});

/**
 * A TCP link to `port` that can lose everything in flight without closing (a partition: no reset, no
 * refusal) and heal; what was held is delivered after the heal, as TCP retransmission would.
 */
async function partitionableLink(port: number) {
  const sockets = new Set<Socket>();
  let cut = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    if (cut) s.pause();
  };
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    // after pipe(), which resumes its source
    track(client);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => ((cut = true), sockets.forEach((s) => s.pause())),
    heal: () => ((cut = false), sockets.forEach((s) => s.resume())),
    close: () => (sockets.forEach((s) => s.destroy()), new Promise<void>((r) => server.close(() => r()))),
  };
}

it('comes back after a partition heals: commands timed out, the connection was dropped, and the new one is not failed fast', async () => {
  const srv = d.push(await startRedisServer(), (s) => s.stop());
  const link = d.push(await partitionableLink(srv.port), (l) => l.close());
  const client = d.push(createRedis(`redis://127.0.0.1:${link.port}`, undefined, { commandTimeout: 300 }), (c) => c.disconnect());
  expect(await client.ping()).toBe('PONG');
  link.cut();
  await expect(client.ping()).rejects.toThrow('Command timed out');
  // the client drops the connection and dials again; that handshake waits on the cut link until the heal
  await waitFor(() => client.status === 'connect', { what: 'a new connection in its handshake' });
  link.heal();
  await waitFor(() => client.status === 'ready', { timeoutMs: 10_000, what: 'the client ready again after the heal' });
  expect(await client.ping()).toBe('PONG');
});
