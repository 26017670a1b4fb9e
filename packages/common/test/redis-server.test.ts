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
