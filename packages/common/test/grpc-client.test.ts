import * as grpc from '@grpc/grpc-js';
import { Disposables, waitFor } from '../src/testing';
import { AppError, notFound } from '../src';
import {
  GrpcServiceClient,
  createUserServiceClient,
  getProtos,
  startGrpcServer,
  wrapUnary,
  type GrpcInstance,
  type GrpcServerHandle,
  type UserServiceHandlers,
} from '../src/grpc';

const d = new Disposables();
afterEach(() => d.disposeAll());

const protos = getProtos();

/** A UserService instance that answers with its own name, counting the calls it received. */
async function startUsers(name: string, counts: Record<string, number>, opts: { hang?: boolean; port?: number } = {}) {
  counts[name] = 0;
  const impl: UserServiceHandlers = {
    GetUsers: opts.hang
      ? () => {
          counts[name]++; // never answers
        }
      : wrapUnary(async (call) => {
          counts[name]++;
          if (call.request.ids.includes('missing')) throw notFound('No such user.');
          return { users: [{ id: name, username: name, roles: ['STUDENT'], createdAt: '2026-01-01T00:00:00.000Z' }] };
        }),
  };
  const srv = await startGrpcServer({
    host: '127.0.0.1',
    port: opts.port ?? 0,
    services: [{ definition: protos.userService, implementation: impl }],
    shutdownGraceMs: 100,
  });
  d.defer(() => srv.stop());
  return srv;
}

const inst = (id: string, srv: GrpcServerHandle): GrpcInstance => ({ id, grpcUrl: `grpc://127.0.0.1:${srv.port}` });

function client(instances: GrpcInstance[], opts: Partial<Parameters<typeof createUserServiceClient>[0]> = {}) {
  const c = createUserServiceClient({ instances: () => instances, ...opts });
  d.defer(() => c.close());
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return e instanceof AppError ? e.code : `not an AppError: ${String(e)}`;
  }
}

const whoAnswered = async (c: GrpcServiceClient<UserServiceHandlers>, idempotent = true) =>
  (await c.unary('GetUsers', { ids: ['x'] }, { idempotent })).users[0].id;

describe('GrpcServiceClient', () => {
  it('round-robins over the instances, one cached channel per address', async () => {
    const counts: Record<string, number> = {};
    const a = await startUsers('A', counts);
    const b = await startUsers('B', counts);
    const c = client([inst('a', a), inst('b', b)]);
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await whoAnswered(c));
    expect(seen).toEqual(['A', 'B', 'A', 'B', 'A', 'B']);
    expect((c as unknown as { clients: Map<string, unknown> }).clients.size).toBe(2);
    expect(c.status().map((s) => s.state)).toEqual(['closed', 'closed']);
  });

  it('retries an idempotent call on the next instance when one is stopped', async () => {
    const counts: Record<string, number> = {};
    const a = await startUsers('A', counts);
    const b = await startUsers('B', counts);
    const c = client([inst('a', a), inst('b', b)], { healthProbe: false });
    expect(await whoAnswered(c)).toBe('A'); // connects to A
    await a.stop();
    for (let i = 0; i < 4; i++) expect(await whoAnswered(c)).toBe('B');
  });

  it('retries a non-idempotent call only when it never reached the instance', async () => {
    const counts: Record<string, number> = {};
    const hang = await startUsers('H', counts, { hang: true });
    const b = await startUsers('B', counts);
    const c = client([inst('h', hang), inst('b', b)], { deadlineMs: 300, healthProbe: false });
    // reached H and timed out: it may have run there, so it is not repeated on B
    await expect(c.unary('GetUsers', { ids: ['x'] }, { idempotent: false })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(counts).toEqual({ H: 1, B: 0 });
    // the same call marked idempotent is retried on B after H's deadline
    expect(await whoAnswered(c, true)).toBe('B'); // round-robin starts at B now
    expect(await whoAnswered(c, true)).toBe('B'); // H times out, B answers
    expect(counts).toEqual({ H: 2, B: 2 });

    // a refused connection never reached anything: even a non-idempotent call moves on
    const down = await startUsers('D', counts);
    await down.stop();
    const c2 = client([inst('d', down), inst('b', b)], { healthProbe: false });
    expect(await whoAnswered(c2, false)).toBe('B');
  });

  it('passes API errors through without retrying or counting them against the instance', async () => {
    const counts: Record<string, number> = {};
    const a = await startUsers('A', counts);
    const b = await startUsers('B', counts);
    const c = client([inst('a', a), inst('b', b)]);
    for (let i = 0; i < 4; i++) {
      await expect(c.unary('GetUsers', { ids: ['missing'] }, { idempotent: true })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: 'No such user.',
      });
    }
    expect(counts).toEqual({ A: 2, B: 2 });
    expect(c.status().map((s) => [s.state, s.consecutiveFailures])).toEqual([
      ['closed', 0],
      ['closed', 0],
    ]);
  });

  it('opens the breaker after 3 consecutive failures and closes it after a healthy half-open probe', async () => {
    const counts: Record<string, number> = {};
    const a = await startUsers('A', counts);
    const port = a.port;
    await a.stop();
    const c = client([{ id: 'a', grpcUrl: `127.0.0.1:${port}` }], { breaker: { cooldownMs: 300 } });
    for (let i = 0; i < 3; i++) expect(await codeOf(whoAnswered(c))).toBe('SERVICE_UNAVAILABLE');
    expect(c.status()[0]).toMatchObject({ state: 'open', consecutiveFailures: 3 });
    // open: refused without trying the instance
    await expect(whoAnswered(c)).rejects.toThrow(/circuit open/);

    // the instance comes back on the same address; the background health probe closes the breaker
    await startUsers('A2', counts, { port });
    await waitFor(() => c.status()[0].state === 'closed', { timeoutMs: 15000, what: 'breaker closed by the health probe' });
    expect(await whoAnswered(c)).toBe('A2');
  });

  it('answers SERVICE_UNAVAILABLE at once when every instance is down or none is registered', async () => {
    const counts: Record<string, number> = {};
    const a = await startUsers('A', counts);
    const b = await startUsers('B', counts);
    await a.stop();
    await b.stop();
    const c = client([inst('a', a), inst('b', b)], { deadlineMs: 10_000 });
    // each call tries two instances: three calls open both breakers
    for (let i = 0; i < 3; i++) expect(await codeOf(whoAnswered(c))).toBe('SERVICE_UNAVAILABLE');
    expect(c.status().map((s) => s.state)).toEqual(['open', 'open']);
    const started = Date.now();
    const err = await whoAnswered(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('circuit open') });
    // refused by the breakers, not after waiting for the 10 s deadline
    expect(Date.now() - started).toBeLessThan(5000);

    const none = client([]);
    await expect(whoAnswered(none)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('no registered instance') });
    const noGrpc = client([{ id: 'http-only' }]);
    expect(await codeOf(whoAnswered(noGrpc))).toBe('SERVICE_UNAVAILABLE');
  });

  it('gives a clean SERVICE_UNAVAILABLE when the server never answers within the deadline', async () => {
    const counts: Record<string, number> = {};
    const hang = await startUsers('H', counts, { hang: true });
    const c = client([inst('h', hang)], { deadlineMs: 200 });
    const err = (await whoAnswered(c).catch((e: unknown) => e)) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe('SERVICE_UNAVAILABLE');
    expect(err.message).toBe('Service "users.v1.UserService" is unavailable: no answer within 200 ms.');
    expect(err.message).not.toContain(String(hang.port));
    // idempotent: retried once (on the same instance, the only one), so two failures count
    expect(c.status()[0]).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
    expect(counts.H).toBe(2);
  });

  it('forwards metadata and follows changes in the instance list', async () => {
    const seen: string[] = [];
    const impl: UserServiceHandlers = {
      GetUsers: wrapUnary(async (call) => {
        seen.push(String(call.metadata.get('x-request-id')[0]));
        return { users: [] };
      }),
    };
    const s = await startGrpcServer({ host: '127.0.0.1', services: [{ definition: protos.userService, implementation: impl }] });
    d.defer(() => s.stop());
    let list: GrpcInstance[] = [];
    const c = createUserServiceClient({ instances: async () => list });
    d.defer(() => c.close());
    expect(await codeOf(c.unary('GetUsers', { ids: [] }))).toBe('SERVICE_UNAVAILABLE');
    list = [{ id: 's', grpcUrl: `127.0.0.1:${s.port}` }];
    const md = new grpc.Metadata();
    md.set('x-request-id', 'req-9');
    await c.unary('GetUsers', { ids: [] }, { metadata: md });
    expect(seen).toEqual(['req-9']);
    list = [];
    expect(await codeOf(c.unary('GetUsers', { ids: [] }))).toBe('SERVICE_UNAVAILABLE');
    expect((c as unknown as { clients: Map<string, unknown> }).clients.size).toBe(0);
  });
});
