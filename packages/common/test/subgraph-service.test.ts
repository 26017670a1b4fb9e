import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Migration } from 'kysely';
import { Disposables, fetchBody, freePort, startRedisServer, type RedisServerHandle } from '../src/testing';
import { loadSubgraphConfig, startSubgraphService, subgraphEnv, type SubgraphConfig, type SubgraphSpec } from '../src/subgraph';

/** A one-table subgraph: enough to run every step of startSubgraphService for real. */
const migrations: Record<string, Migration> = {
  '001_notes': { up: async (db) => void (await db.schema.createTable('notes').addColumn('id', 'text', (c) => c.primaryKey()).execute()) },
};
const typeDefs = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\ntype Query { hello: String }\n';

const d = new Disposables();
let redis: RedisServerHandle;
let dir: string;
beforeAll(async () => {
  redis = d.push(await startRedisServer(), (r) => r.stop());
  dir = mkdtempSync(join(tmpdir(), 'subgraph-service-'));
  d.defer(() => rmSync(dir, { recursive: true, force: true }));
});
afterAll(() => d.disposeAll());

const CONNECTION_NAME = 'subgraph-under-test';

function configOf(env: Record<string, string> = {}): SubgraphConfig {
  return loadSubgraphConfig('notes', subgraphEnv({ port: 0, database: `sqlite:${join(dir, 'notes.db')}` }), {
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    JWT_KEYS_DIR: join(dir, 'keys'),
    LOG_LEVEL: 'silent',
    ...env,
  });
}

function spec(config: SubgraphConfig, stopped: string[]): SubgraphSpec<SubgraphConfig, unknown, object, { greeting: string }> {
  return {
    name: 'notes',
    config,
    typeDefs,
    migrations: () => migrations,
    redisOptions: { connectionName: CONNECTION_NAME },
    parts: async (infra) => {
      infra.onStop('probe', () => void stopped.push('probe'));
      return { resolvers: { Query: { hello: () => 'hi' } }, context: async () => ({}), grpcServices: [], exposed: { greeting: 'hi' } };
    },
  };
}

/** Connections the service under test holds to Redis (CLIENT LIST, seen from a separate client). */
async function serviceConnections(): Promise<number> {
  const probe = new Redis(redis.url);
  try {
    const list = (await probe.client('LIST')) as string;
    return list.split('\n').filter((l) => l.includes(`name=${CONNECTION_NAME}`)).length;
  } finally {
    probe.disconnect();
  }
}

function occupyPort(): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('runs every step: serves GraphQL, health and metrics, exposes its parts, and stop() closes all of it', async () => {
  const stopped: string[] = [];
  const service = await startSubgraphService(spec(configOf(), stopped));
  expect(service.greeting).toBe('hi');
  const base = service.url.replace(/\/graphql$/, '');
  const gql = await fetchBody(service.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ hello }' }) });
  expect(gql).toEqual({ status: 200, body: { data: { hello: 'hi' } } });
  expect((await fetchBody(`${base}/health`)).body).toEqual({ status: 'ok', service: 'notes', db: 'up', redis: 'up' });
  expect(await serviceConnections()).toBe(1);

  await service.stop();
  expect(stopped).toEqual(['probe']);
  expect(await serviceConnections()).toBe(0);
  await expect(fetch(`${base}/health`)).rejects.toThrow();
  await service.stop(); // a second stop is harmless
});

test('a step that fails rolls back what the earlier steps started, and the error reaches the caller', async () => {
  // gRPC comes after the database, Redis and the subgraph's own parts: a taken port makes it fail for real.
  const taken = await occupyPort();
  d.defer(() => new Promise<void>((r) => taken.close(() => r())));
  const stopped: string[] = [];
  const httpPort = await freePort();
  const grpcPort = (taken.address() as AddressInfo).port;
  await expect(startSubgraphService(spec(configOf({ GRPC_PORT: String(grpcPort), PORT: String(httpPort) }), stopped))).rejects.toThrow();
  expect(stopped).toEqual(['probe']);
  expect(await serviceConnections()).toBe(0);
  // HTTP came after gRPC, so it never listened.
  await expect(fetch(`http://127.0.0.1:${httpPort}/health`)).rejects.toThrow();
});
