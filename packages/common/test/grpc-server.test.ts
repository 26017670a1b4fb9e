import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Disposables, waitFor } from '../src/testing';
import { AppError, Authenticator, HTTP_STATUS, JwtService, createLogger, loadJwtKeys, type ErrorCode } from '../src';
import {
  ERROR_CODE_TRAILER,
  GRPC_STATUS_FOR,
  HEALTH_SERVICE_NAME,
  PURCHASE_SERVICE_NAME,
  USER_SERVICE_NAME,
  appCodeForGrpcStatus,
  authenticateCall,
  callMetadata,
  fromGrpcError,
  getProtos,
  requestIdOfCall,
  startGrpcServer,
  toGrpcStatus,
  tokenFromMetadata,
  wrapUnary,
  type BuyCourseRequest,
  type BuyCourseResponse,
  type GetUsersRequest,
  type GetUsersResponse,
  type GrpcServerHandle,
  type PurchaseServiceHandlers,
  type UserServiceHandlers,
} from '../src/grpc';
import { captureLogs, rawUnary } from './grpc-helpers';

const d = new Disposables();
afterAll(() => d.disposeAll());

const protos = getProtos();
const keys = loadJwtKeys({ JWT_KEYS_DIR: mkdtempSync(join(tmpdir(), 'grpc-keys-')) });
const jwt = new JwtService({ keys, ttlSeconds: 60 });
const authenticator = new Authenticator(jwt, undefined);
const logs = captureLogs();
const logger = createLogger('grpc-test', { level: 'debug', destination: logs });

/** BuyCourse that authenticates from metadata and echoes who it saw; course ids name an error to throw. */
const purchase: PurchaseServiceHandlers = {
  BuyCourse: wrapUnary<BuyCourseRequest, BuyCourseResponse>(
    async (call) => {
      const user = await authenticateCall(call, authenticator);
      const { courseId } = call.request;
      if (courseId.startsWith('throw:')) throw new AppError(courseId.slice(6) as ErrorCode, `refused: ${courseId.slice(6)}`);
      if (courseId === 'crash') throw new Error('ORA-00942: table or view SECRET.ENROLLMENTS does not exist');
      return { message: `bought by ${user.id} (${requestIdOfCall(call)})`, enrollmentId: `e-${courseId}`, alreadyOwned: false };
    },
    { logger },
  ),
};
const users: UserServiceHandlers = {
  GetUsers: wrapUnary(async (call) => ({
    users: call.request.ids.map((id) => ({ id, username: `u-${id}`, roles: ['STUDENT'], createdAt: '2026-01-01T00:00:00.000Z' })),
  })),
};

let srv: GrpcServerHandle;
let address: string;
beforeAll(async () => {
  srv = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    services: [
      { definition: protos.userService, implementation: users },
      { definition: protos.purchaseService, implementation: purchase },
    ],
  });
  d.defer(() => srv.stop());
  address = `127.0.0.1:${srv.port}`;
});

const healthDef = protos.packageDefinition[HEALTH_SERVICE_NAME] as unknown as grpc.ServiceDefinition;
const check = (addr: string, service: string) =>
  rawUnary<{ service: string }, { status: string }>(addr, healthDef.Check as grpc.MethodDefinition<{ service: string }, { status: string }>, {
    service,
  });
const buy = (req: Partial<BuyCourseRequest>, md?: grpc.Metadata) =>
  rawUnary<Partial<BuyCourseRequest>, BuyCourseResponse>(address, protos.purchaseService.BuyCourse as grpc.MethodDefinition<Partial<BuyCourseRequest>, BuyCourseResponse>, req, md);

describe('startGrpcServer', () => {
  it('binds a free port and serves calls', async () => {
    expect(srv.port).toBeGreaterThan(0);
    expect(srv.serviceNames).toEqual([USER_SERVICE_NAME, PURCHASE_SERVICE_NAME]);
    const getUsers = protos.userService.GetUsers as grpc.MethodDefinition<GetUsersRequest, GetUsersResponse>;
    const { res } = await rawUnary(address, getUsers, { ids: ['1', '2'] });
    expect(res?.users.map((u) => [u.id, u.username, u.createdAt])).toEqual([
      ['1', 'u-1', '2026-01-01T00:00:00.000Z'],
      ['2', 'u-2', '2026-01-01T00:00:00.000Z'],
    ]);
  });

  it('answers grpc.health.v1 Check with SERVING per service and NOT_FOUND for unknown ones', async () => {
    expect((await check(address, '')).res?.status).toBe('SERVING');
    expect((await check(address, PURCHASE_SERVICE_NAME)).res?.status).toBe('SERVING');
    expect((await check(address, USER_SERVICE_NAME)).res?.status).toBe('SERVING');
    expect((await check(address, 'nope.v1.Nothing')).err?.code).toBe(grpc.status.NOT_FOUND);
  });

  it('lists every service through server reflection (what `grpcurl list` asks)', async () => {
    const reflDir = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
    const pkg = protoLoader.loadSync(join(reflDir, 'grpc/reflection/v1/reflection.proto'), { keepCase: false, defaults: true, oneofs: true });
    const def = pkg['grpc.reflection.v1.ServerReflection'] as unknown as grpc.ServiceDefinition;
    const method = def.ServerReflectionInfo as grpc.MethodDefinition<object, Record<string, unknown>>;
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    d.defer(() => client.close());
    const stream = client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
    const answers: Array<Record<string, unknown>> = [];
    stream.on('data', (m: Record<string, unknown>) => answers.push(m));
    stream.write({ listServices: '*' });
    stream.write({ fileContainingSymbol: PURCHASE_SERVICE_NAME });
    stream.end();
    await new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));

    const listed = (answers[0].listServicesResponse as { service: Array<{ name: string }> }).service.map((s) => s.name);
    expect(listed).toEqual(expect.arrayContaining([USER_SERVICE_NAME, PURCHASE_SERVICE_NAME, HEALTH_SERVICE_NAME]));
    // `grpcurl describe` / `invoke` need the file descriptors, not just the names
    const files = (answers[1].fileDescriptorResponse as { fileDescriptorProto: Buffer[] }).fileDescriptorProto;
    const text = Buffer.concat(files).toString('latin1');
    expect(text).toContain('courses.v1.BuyCourseRequest');
    expect(text).toContain('PurchaseService');
  });

  it('marks every service NOT_SERVING on stop (health watchers see it)', async () => {
    const other = await startGrpcServer({ host: '127.0.0.1', services: [{ definition: protos.userService, implementation: users }], shutdownGraceMs: 200 });
    d.defer(() => other.stop());
    const addr = `127.0.0.1:${other.port}`;
    expect((await check(addr, USER_SERVICE_NAME)).res?.status).toBe('SERVING');
    const client = new grpc.Client(addr, grpc.credentials.createInsecure());
    d.defer(() => client.close());
    const watch = healthDef.Watch as grpc.MethodDefinition<{ service: string }, { status: string }>;
    const stream = client.makeServerStreamRequest(watch.path, watch.requestSerialize, watch.responseDeserialize, { service: USER_SERVICE_NAME });
    const seen: string[] = [];
    stream.on('data', (m: { status: string }) => seen.push(m.status));
    stream.on('error', () => undefined); // cancelled by the shutdown
    await waitFor(() => seen.includes('SERVING'), { what: 'first health watch update' });
    await other.stop();
    await waitFor(() => seen.includes('NOT_SERVING'), { what: 'NOT_SERVING on stop' });
    await other.stop(); // twice is fine
  });
});

describe('AppError ↔ gRPC status', () => {
  const codes = Object.keys(HTTP_STATUS) as ErrorCode[];

  it('maps the documented codes', () => {
    expect(GRPC_STATUS_FOR).toMatchObject({
      BAD_USER_INPUT: grpc.status.INVALID_ARGUMENT,
      UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
      FORBIDDEN: grpc.status.PERMISSION_DENIED,
      NOT_FOUND: grpc.status.NOT_FOUND,
      CONFLICT: grpc.status.ALREADY_EXISTS,
      RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
      SERVICE_UNAVAILABLE: grpc.status.UNAVAILABLE,
      INTERNAL_SERVER_ERROR: grpc.status.INTERNAL,
    });
    // a foreign server sends no x-error-code trailer: the status alone decides
    // PAYLOAD_TOO_LARGE, QUERY_TOO_COMPLEX and UNSUPPORTED_MEDIA_TYPE travel as INVALID_ARGUMENT and come back as
    // BAD_USER_INPUT, RANGE_NOT_SATISFIABLE (OUT_OF_RANGE) too; UNPROCESSABLE_CONTENT (FAILED_PRECONDITION) as CONFLICT;
    // the HTTP proxy's BAD_GATEWAY and GATEWAY_TIMEOUT travel as UNAVAILABLE / DEADLINE_EXCEEDED (SERVICE_UNAVAILABLE)
    const lossy: Record<string, string> = {
      PAYLOAD_TOO_LARGE: 'BAD_USER_INPUT',
      QUERY_TOO_COMPLEX: 'BAD_USER_INPUT',
      UNSUPPORTED_MEDIA_TYPE: 'BAD_USER_INPUT',
      RANGE_NOT_SATISFIABLE: 'BAD_USER_INPUT',
      UNPROCESSABLE_CONTENT: 'CONFLICT',
      BAD_GATEWAY: 'SERVICE_UNAVAILABLE',
      GATEWAY_TIMEOUT: 'SERVICE_UNAVAILABLE',
    };
    for (const code of codes) expect(appCodeForGrpcStatus(GRPC_STATUS_FOR[code])).toBe(lossy[code] ?? code);
    expect(appCodeForGrpcStatus(grpc.status.FAILED_PRECONDITION)).toBe('CONFLICT');
    expect(appCodeForGrpcStatus(grpc.status.DEADLINE_EXCEEDED)).toBe('SERVICE_UNAVAILABLE');
    expect(appCodeForGrpcStatus(grpc.status.UNKNOWN)).toBe('INTERNAL_SERVER_ERROR');
    expect(toGrpcStatus(new Error('db password is hunter2'))).toMatchObject({ code: grpc.status.INTERNAL, details: 'Internal server error.' });
  });

  it.each(codes)('round-trips %s over the wire with its message', async (code) => {
    const { err } = await buy({ courseId: `throw:${code}` }, callMetadata({ token: jwt.sign({ id: 'u1', username: 'ann', roles: ['STUDENT'] }) }));
    expect(err?.code).toBe(GRPC_STATUS_FOR[code]);
    expect(err?.metadata.get(ERROR_CODE_TRAILER)).toEqual([code]);
    const back = fromGrpcError(err);
    expect(back).toBeInstanceOf(AppError);
    expect(back.code).toBe(code);
    if (code !== 'INTERNAL_SERVER_ERROR' && code !== 'SERVICE_UNAVAILABLE') expect(back.message).toBe(`refused: ${code}`);
  });

  it('answers an unexpected error with INTERNAL and a safe message, and logs it', async () => {
    const md = callMetadata({ token: jwt.sign({ id: 'u1', username: 'ann', roles: ['STUDENT'] }), requestId: 'req-crash-1' });
    const { err } = await buy({ courseId: 'crash' }, md);
    expect(err?.code).toBe(grpc.status.INTERNAL);
    expect(err?.details).toBe('Internal server error.');
    expect(JSON.stringify(err?.metadata.getMap())).not.toContain('ORA-');
    expect(fromGrpcError(err)).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error.' });
    const line = logs.lines.find((l) => l.msg === 'gRPC handler failed' && l.requestId === 'req-crash-1');
    expect(line).toMatchObject({ method: `/${PURCHASE_SERVICE_NAME}/BuyCourse` });
    expect(JSON.stringify(line)).toContain('ORA-00942');
  });
});

describe('metadata auth', () => {
  it('refuses a call without a token with UNAUTHENTICATED', async () => {
    const { err } = await buy({ courseId: 'c1' });
    expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(fromGrpcError(err).code).toBe('UNAUTHENTICATED');
  });

  it('refuses invalid, foreign-key and expired tokens with UNAUTHENTICATED', async () => {
    const otherKeys = loadJwtKeys({ JWT_KEYS_DIR: mkdtempSync(join(tmpdir(), 'grpc-keys-other-')) });
    const foreign = new JwtService({ keys: otherKeys }).sign({ id: 'u1', username: 'ann', roles: ['STUDENT'] });
    const expired = new JwtService({ keys, ttlSeconds: -10 }).sign({ id: 'u1', username: 'ann', roles: ['STUDENT'] });
    for (const token of ['garbage', foreign, expired]) {
      const { err } = await buy({ courseId: 'c1' }, callMetadata({ token }));
      expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
    }
  });

  it('accepts a valid bearer token and carries x-request-id', async () => {
    const token = jwt.sign({ id: 'student-7', username: 'bob', roles: ['STUDENT'] });
    const { res, err } = await buy({ courseId: 'c1' }, callMetadata({ token, requestId: 'req-42' }));
    expect(err).toBeUndefined();
    expect(res).toEqual({ message: 'bought by student-7 (req-42)', enrollmentId: 'e-c1', alreadyOwned: false });
  });

  it('reads the token from authorization or the spec jwt key, and ignores malformed request ids', () => {
    const md = new grpc.Metadata();
    expect(tokenFromMetadata(md)).toBeUndefined();
    md.set('jwt', 'Bearer abc');
    expect(tokenFromMetadata(md)).toBe('abc');
    expect(tokenFromMetadata(callMetadata({ token: 'xyz' }))).toBe('xyz');
    expect(callMetadata({ requestId: 'bad\nid' }).get('x-request-id')).toEqual([]);
    const bad = new grpc.Metadata();
    bad.set('x-request-id', 'has spaces; drop table');
    expect(requestIdOfCall({ metadata: bad })).toMatch(/^[0-9a-f-]{36}$/);
    bad.set('x-request-id', 'req-1');
    expect(requestIdOfCall({ metadata: bad })).toBe('req-1');
  });
});
