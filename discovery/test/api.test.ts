import { Disposables, startRedisServer, type RedisServerHandle } from '@dream/common/testing';
import type { DiscoveryHandle } from '../src/server';
import { http, startTestDiscovery } from './helpers';

const d = new Disposables();
let redis: RedisServerHandle;
let disc: DiscoveryHandle;

beforeAll(async () => {
  redis = d.push(await startRedisServer(), (r) => r.stop());
  disc = d.push(await startTestDiscovery(redis.url, { ttlSeconds: 10 }), (s) => s.stop());
});
afterAll(() => d.disposeAll());

const users1 = { service: 'users', url: 'http://127.0.0.1:4001/graphql', grpcUrl: '127.0.0.1:5001', sdlHash: 'sha256:abc' };
const users2 = { service: 'users', url: 'http://127.0.0.1:4002/graphql', grpcUrl: 'grpc://127.0.0.1:5002' };

describe('registration lifecycle', () => {
  it('registers, lists, heartbeats and deregisters', async () => {
    const a = await http('POST', `${disc.url}/v1/instances`, users1);
    expect(a.status).toBe(201);
    expect(a.body).toEqual({ id: expect.any(String), ttlSeconds: 10 });
    const b = await http('POST', `${disc.url}/v1/instances`, users2);
    expect(b.status).toBe(201);
    expect(b.body.id).not.toBe(a.body.id);

    const all = await http('GET', `${disc.url}/v1/services`);
    expect(all.status).toBe(200);
    expect(all.body.version).toBeGreaterThanOrEqual(2);
    expect(all.body.services.users).toHaveLength(2);
    expect(all.body.services.users).toContainEqual({
      id: a.body.id,
      ...users1,
      registeredAt: expect.any(String),
      lastHeartbeat: expect.any(String),
    });

    const one = await http('GET', `${disc.url}/v1/services/users`);
    expect(one.body.instances.map((i: { url: string }) => i.url).sort()).toEqual([users1.url, users2.url]);
    expect(one.body.version).toBe(all.body.version);

    const hb = await http('PUT', `${disc.url}/v1/instances/${a.body.id}/heartbeat`);
    expect(hb.status).toBe(204);
    // heartbeats keep the lease but are not a change: watchers are not woken for them
    expect((await http('GET', `${disc.url}/v1/services`)).body.version).toBe(all.body.version);

    expect((await http('DELETE', `${disc.url}/v1/instances/${a.body.id}`)).status).toBe(204);
    const after = await http('GET', `${disc.url}/v1/services/users`);
    expect(after.body.instances.map((i: { id: string }) => i.id)).toEqual([b.body.id]);
    expect(after.body.version).toBeGreaterThan(all.body.version);

    // heartbeat of a removed lease: 404 tells the client to register again
    const gone = await http('PUT', `${disc.url}/v1/instances/${a.body.id}/heartbeat`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('NOT_FOUND');
    // deregistering twice is fine
    expect((await http('DELETE', `${disc.url}/v1/instances/${a.body.id}`)).status).toBe(204);
    expect((await http('DELETE', `${disc.url}/v1/instances/${b.body.id}`)).status).toBe(204);
  });

  it('is idempotent for the same (service, url): same id, listed once', async () => {
    const first = await http('POST', `${disc.url}/v1/instances`, { service: 'courses', url: 'http://10.0.0.9:4100/graphql' });
    const version = (await http('GET', `${disc.url}/v1/services`)).body.version;
    const again = await http('POST', `${disc.url}/v1/instances`, { service: 'courses', url: 'http://10.0.0.9:4100/graphql' });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    const list = await http('GET', `${disc.url}/v1/services/courses`);
    expect(list.body.instances).toHaveLength(1);
    expect(list.body.version).toBe(version); // nothing changed
    // a new SDL hash is a change: same id, new version, new hash
    await http('POST', `${disc.url}/v1/instances`, { service: 'courses', url: 'http://10.0.0.9:4100/graphql', sdlHash: 'v2' });
    const changed = await http('GET', `${disc.url}/v1/services/courses`);
    expect(changed.body.instances).toEqual([expect.objectContaining({ id: first.body.id, sdlHash: 'v2' })]);
    expect(changed.body.version).toBeGreaterThan(version);
    await http('DELETE', `${disc.url}/v1/instances/${first.body.id}`);
  });

  it('answers an unknown service with an empty list', async () => {
    const r = await http('GET', `${disc.url}/v1/services/nobody-here`);
    expect(r.status).toBe(200);
    expect(r.body.instances).toEqual([]);
  });
});

describe('malformed registrations', () => {
  const post = (body: unknown) => http('POST', `${disc.url}/v1/instances`, body);
  it.each([
    ['missing service', { url: 'http://a:1/graphql' }, 'service'],
    ['service with capitals', { service: 'Users', url: 'http://a:1/graphql' }, 'service'],
    ['service not a string', { service: 42, url: 'http://a:1/graphql' }, 'service'],
    ['missing url', { service: 'users' }, 'url'],
    ['url not http', { service: 'users', url: 'ftp://a/x' }, 'url'],
    ['url not a URL', { service: 'users', url: 'localhost:4001' }, 'url'],
    ['grpcUrl without port', { service: 'users', url: 'http://a:1/', grpcUrl: 'grpc://host' }, 'grpcUrl'],
    ['grpcUrl as http URL', { service: 'users', url: 'http://a:1/', grpcUrl: 'http://host:50051' }, 'grpcUrl'],
    ['meta not an object', { service: 'users', url: 'http://a:1/', meta: 'x' }, 'meta'],
    ['route prefix not absolute', { service: 'media', url: 'http://a:1/', routes: ['media/'] }, 'routes.0.prefix'],
    ['route prefix without trailing slash', { service: 'media', url: 'http://a:1/', routes: ['/media'] }, 'routes.0.prefix'],
    ['route prefix with ..', { service: 'media', url: 'http://a:1/', routes: ['/media/../api/'] }, 'routes.0.prefix'],
    ['route prefix /', { service: 'media', url: 'http://a:1/', routes: ['/'] }, 'routes.0.prefix'],
    ['route prefix over /graphql', { service: 'media', url: 'http://a:1/', routes: [{ prefix: '/graphql/' }] }, 'routes.0.prefix'],
    ['route prefix under /api', { service: 'media', url: 'http://a:1/', routes: ['/media/', '/api/media/'] }, 'routes.1.prefix'],
    ['sticky outside the prefix', { service: 'media', url: 'http://a:1/', routes: [{ prefix: '/media/', sticky: { afterPrefix: '/up/' } }] }, 'routes.0.sticky.afterPrefix'],
    ['route body limit not a number', { service: 'media', url: 'http://a:1/', routes: [{ prefix: '/media/', maxBodyBytes: 'big' }] }, 'routes.0.maxBodyBytes'],
    ['unknown route field', { service: 'media', url: 'http://a:1/', routes: [{ prefix: '/media/', weight: 2 }] }, 'routes.0'],
    ['prefix twice', { service: 'media', url: 'http://a:1/', routes: ['/media/', { prefix: '/media/' }] }, 'routes.1'],
    ['array body', [], 'body'],
  ])('%s → 400 naming the field', async (_what, body, field) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.body.error).toEqual(expect.objectContaining({ code: 'BAD_USER_INPUT', field, message: expect.any(String) }));
  });

  it('names the gateway route a prefix would overlap', async () => {
    const r = await post({ service: 'media', url: 'http://a:1/', routes: ['/metrics/x/'] });
    expect(r.body.error.message).toBe("Invalid registration: routes.0.prefix overlaps the gateway's own route /metrics");
  });

  it('stores announced routes (bare prefixes as objects) and lists them', async () => {
    const routes = ['/files/', { prefix: '/media/', sticky: { afterPrefix: '/media/uploads/' }, maxBodyBytes: 1024 }];
    const reg = await post({ service: 'media', url: 'http://10.0.0.7:4300/graphql', routes });
    expect(reg.status).toBe(201);
    const listed = await http('GET', `${disc.url}/v1/services/media`);
    expect(listed.body.instances[0].routes).toEqual([{ prefix: '/files/' }, routes[1]]);
    // a changed announcement is a change watchers hear about
    const before = listed.body.version;
    await post({ service: 'media', url: 'http://10.0.0.7:4300/graphql', routes: ['/files/'] });
    const after = await http('GET', `${disc.url}/v1/services/media`);
    expect(after.body.version).toBeGreaterThan(before);
    expect(after.body.instances[0].routes).toEqual([{ prefix: '/files/' }]);
    await http('DELETE', `${disc.url}/v1/instances/${reg.body.id}`);
  });

  it('non-JSON → 400 naming the body', async () => {
    const r = await http('POST', `${disc.url}/v1/instances`, undefined, '{"service": "users",');
    expect(r.status).toBe(400);
    expect(r.body.error).toEqual(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'body' }));
  });

  it('empty body → 400', async () => {
    const r = await http('POST', `${disc.url}/v1/instances`, undefined, '');
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe('body');
  });

  it('oversized body → 413', async () => {
    const r = await post({ service: 'users', url: 'http://a:1/', meta: { blob: 'x'.repeat(64 * 1024) } });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('accepts IPv6 and host:port gRPC addresses', async () => {
    for (const grpcUrl of ['[::1]:50051', 'users-1:50051', 'grpc://10.1.2.3:7000']) {
      const r = await post({ service: 'grpc-check', url: `https://example.test/${encodeURIComponent(grpcUrl)}`, grpcUrl });
      expect(r.status).toBe(201);
      await http('DELETE', `${disc.url}/v1/instances/${r.body.id}`);
    }
  });

  it('unknown routes are JSON 404s; bad watch parameters are 400', async () => {
    const r = await http('GET', `${disc.url}/v2/nothing`);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
    const bad = await http('GET', `${disc.url}/v1/services/%E0%A4%A`);
    expect(bad.status).toBe(400);
    const w = await http('GET', `${disc.url}/v1/watch?since=abc`);
    expect(w.status).toBe(400);
    expect(w.body.error.field).toBe('since');
  });
});

describe('watch long-poll', () => {
  it('returns at once without since or when since differs, waits for a change otherwise', async () => {
    const now = await http('GET', `${disc.url}/v1/watch`);
    expect(now.status).toBe(200);
    const v = now.body.version as number;
    const stale = await http('GET', `${disc.url}/v1/watch?since=${v + 1000}`);
    expect(stale.body.version).toBe(v); // a counter that went backwards (Redis wiped) also returns at once

    const pending = http('GET', `${disc.url}/v1/watch?since=${v}&timeoutMs=10000`);
    const reg = await http('POST', `${disc.url}/v1/instances`, { service: 'watched', url: 'http://w:1/graphql' });
    const changed = await pending;
    expect(changed.status).toBe(200);
    expect(changed.body.version).toBeGreaterThan(v);
    expect(changed.body.services.watched).toEqual([expect.objectContaining({ id: reg.body.id })]);
    await http('DELETE', `${disc.url}/v1/instances/${reg.body.id}`);
  });

  it('on timeout answers 200 with the unchanged state', async () => {
    const v = (await http('GET', `${disc.url}/v1/watch`)).body.version as number;
    const r = await http('GET', `${disc.url}/v1/watch?since=${v}&timeoutMs=200`);
    expect(r.status).toBe(200);
    expect(r.body.version).toBe(v);
  });
});

describe('health', () => {
  it('is ok while Redis answers', async () => {
    expect(await http('GET', `${disc.url}/health`)).toEqual({ status: 200, body: { status: 'ok' } });
  });
});
