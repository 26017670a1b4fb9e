import * as grpc from '@grpc/grpc-js';
import { callMetadata, getProtos } from '@dream/common/grpc';
import { waitFor } from '@dream/common/testing';
import { rawUnary } from '../../../packages/common/test/grpc-helpers';
import type { Gateway } from '../../../gateway/src/server';
import type { CoursesSubgraph } from '../../courses/src/service';
import type { UsersSubgraph } from '../src/service';
import { gql, useStack } from '@dream/testenv';
import { BUY, auth, createCourse, signup } from './purchase-ops';

jest.setTimeout(60000);

const purchaseDef = getProtos().purchaseService.BuyCourse;

describe('purchase over gRPC (users → discovery → courses), real topology', () => {
  const stack = useStack();
  let gw: Gateway;
  let users: UsersSubgraph;
  let coursesA: CoursesSubgraph;
  let owner: { id: string; token: string; username: string };
  let student: { id: string; token: string; username: string };
  let courseId: string;

  const enrollments = (userId: string, cid: string) =>
    coursesA.db.db.selectFrom('enrollments').selectAll().where('user_id', '=', userId).where('course_id', '=', cid).execute();

  beforeAll(async () => {
    coursesA = (await stack.subgraph('courses', { grpc: true })).service;
    await stack.subgraph('courses', { grpc: true });
    users = (await stack.subgraph('users', { grpc: true, discover: true })).service;
    gw = await stack.gateway();
    await gw.ready();
    await waitFor(() => gw.pools.has('courses') && gw.pools.get('courses').size === 2 && gw.pools.has('users'), { what: 'gateway pools' });
    // STUDENT/OWNER: passes the users-side role check, so the own-course refusal comes from courses.
    owner = await signup(gw, ['STUDENT', 'OWNER']);
    student = await signup(gw, ['STUDENT']);
    courseId = await createCourse(gw, owner.token);
  });

  it('buys through the gateway: the spec message, an enrollment, the course resolved from courses, the owner notified', async () => {
    const sub = stack.redis.url;
    const { Redis } = await import('ioredis');
    const listener = new Redis(sub);
    const got: string[] = [];
    await listener.subscribe('notification');
    listener.on('message', (_ch: string, msg: string) => got.push(msg));
    try {
      const r = await gql(
        gw,
        'mutation($c: ID!) { buyCourse(courseId: $c) { message enrollmentId alreadyOwned course { id name owner { username } } } }',
        { variables: { c: courseId }, headers: { ...auth(student.token), 'x-request-id': 'buy-test-1' } },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.buyCourse).toMatchObject({
        message: 'Student bought course using gRPC.',
        alreadyOwned: false,
        course: { id: courseId, name: 'Strategy', owner: { username: owner.username } },
      });
      expect(await enrollments(student.id, courseId)).toHaveLength(1);
      const n = JSON.parse(await waitFor(() => got[0], { what: 'notification' }));
      expect(n).toMatchObject({ userId: owner.id, kind: 'course.bought', courseId });
      expect(typeof n.text).toBe('string');

      // A repeat (no key: the derived one) answers the same enrollment, buys nothing, notifies nobody.
      const again = await gql(gw, BUY, { variables: { courseId }, headers: auth(student.token) });
      expect(again.body.data!.buyCourse).toEqual({
        message: 'Student bought course using gRPC.',
        enrollmentId: r.body.data!.buyCourse.enrollmentId,
        alreadyOwned: true,
      });
      expect(await enrollments(student.id, courseId)).toHaveLength(1);
    } finally {
      listener.disconnect();
    }
    expect(got).toHaveLength(1);
  });

  it('20 concurrent buys of one course by one student: one enrollment, 20 successes', async () => {
    const buyer = await signup(gw, ['STUDENT']);
    const cid = await createCourse(gw, owner.token, 'Concurrency');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gql(gw, BUY, { variables: { courseId: cid, key: i % 2 ? `k-${i}` : undefined }, headers: auth(buyer.token) }),
      ),
    );
    for (const r of results) {
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.buyCourse.message).toBe('Student bought course using gRPC.');
    }
    const ids = new Set(results.map((r) => r.body.data!.buyCourse.enrollmentId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.body.data!.buyCourse.alreadyOwned)).toHaveLength(1);
    const rows = await enrollments(buyer.id, cid);
    expect(rows).toHaveLength(1);
    expect(rows[0].id).toBe([...ids][0]);
  });

  it('maps refusals to GraphQL codes: own course FORBIDDEN, unknown and deleted NOT_FOUND, OWNER-only FORBIDDEN, no token UNAUTHENTICATED', async () => {
    const own = await gql(gw, BUY, { variables: { courseId }, headers: auth(owner.token) });
    expect(own.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const unknown = await gql(gw, BUY, { variables: { courseId: 'no-such-course' }, headers: auth(student.token) });
    expect(unknown.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');

    const doomed = await createCourse(gw, owner.token, 'Doomed');
    const del = await gql(gw, 'mutation($id: ID!) { deleteCourse(id: $id) { id } }', { variables: { id: doomed }, headers: auth(owner.token) });
    expect(del.body.errors).toBeUndefined();
    const deleted = await gql(gw, BUY, { variables: { courseId: doomed }, headers: auth(student.token) });
    expect(deleted.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');

    const pureOwner = await signup(gw, ['OWNER']);
    const notStudent = await gql(gw, BUY, { variables: { courseId }, headers: auth(pureOwner.token) });
    expect(notStudent.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const anonymous = await gql(gw, BUY, { variables: { courseId } });
    expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(await enrollments(pureOwner.id, courseId)).toHaveLength(0);
  });

  it('a repeat after the course was deleted still answers success with the same enrollment', async () => {
    const buyer = await signup(gw, ['STUDENT']);
    const cid = await createCourse(gw, owner.token, 'Short-lived');
    const first = await gql(gw, BUY, { variables: { courseId: cid }, headers: auth(buyer.token) });
    expect(first.body.data!.buyCourse.alreadyOwned).toBe(false);
    await gql(gw, 'mutation($id: ID!) { deleteCourse(id: $id) { id } }', { variables: { id: cid }, headers: auth(owner.token) });
    const repeat = await gql(gw, BUY, { variables: { courseId: cid }, headers: auth(buyer.token) });
    expect(repeat.body.data!.buyCourse).toEqual({ ...first.body.data!.buyCourse, alreadyOwned: true });
  });

  it('direct gRPC BuyCourse: UNAUTHENTICATED without a valid token, PERMISSION_DENIED for another user_id or a non-student', async () => {
    const address = `127.0.0.1:${coursesA.grpcPort}`;
    // signed as a platform service (a direct caller without the SERVICE_TOKEN signature is refused: security.test)
    const signed = (o: { token: string }) => callMetadata({ ...o, service: { name: 'users', secret: stack.serviceToken } });
    const none = await rawUnary(address, purchaseDef, { userId: '', courseId, idempotencyKey: '' });
    expect(none.err?.code).toBe(grpc.status.UNAUTHENTICATED);
    const bad = await rawUnary(address, purchaseDef, { userId: '', courseId, idempotencyKey: '' }, signed({ token: 'not-a-jwt' }));
    expect(bad.err?.code).toBe(grpc.status.UNAUTHENTICATED);
    const other = await rawUnary(address, purchaseDef, { userId: owner.id, courseId, idempotencyKey: '' }, signed({ token: student.token }));
    expect(other.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    const pureOwner = await signup(gw, ['OWNER']);
    const notStudent = await rawUnary(address, purchaseDef, { userId: '', courseId, idempotencyKey: '' }, signed({ token: pureOwner.token }));
    expect(notStudent.err?.code).toBe(grpc.status.PERMISSION_DENIED);
    const missing = await rawUnary(address, purchaseDef, { userId: '', courseId: 'nope', idempotencyKey: '' }, signed({ token: student.token }));
    expect(missing.err?.code).toBe(grpc.status.NOT_FOUND);

    // With a valid token the body's user_id may be omitted: the buyer is the token's user.
    const buyer = await signup(gw, ['STUDENT']);
    const ok = await rawUnary(address, purchaseDef, { userId: '', courseId, idempotencyKey: 'direct-1' }, signed({ token: buyer.token }));
    expect(ok.err).toBeUndefined();
    expect(ok.res).toMatchObject({ message: 'Student bought course using gRPC.', alreadyOwned: false });
    expect(await enrollments(buyer.id, courseId)).toHaveLength(1);
  });

  it('one courses replica down: every purchase still succeeds (the idempotent call is retried on the other)', async () => {
    const buyer = await signup(gw, ['STUDENT']);
    const cids: string[] = [];
    for (let i = 0; i < 4; i++) cids.push(await createCourse(gw, owner.token, `Half ${i}`));
    const spare = await stack.subgraph('courses', { grpc: true });
    const victim = stack.courses.find((r) => !r.stopped && r !== spare)!;
    await stack.crash(victim); // still listed by discovery
    coursesA = spare.service as CoursesSubgraph;
    for (const cid of cids) {
      const r = await gql(gw, BUY, { variables: { courseId: cid }, headers: auth(buyer.token) });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.buyCourse.alreadyOwned).toBe(false);
      expect(await enrollments(buyer.id, cid)).toHaveLength(1);
    }
  });

  it('all courses instances down → SERVICE_UNAVAILABLE and nothing recorded; the same key succeeds once when courses is back', async () => {
    const buyer = await signup(gw, ['STUDENT']);
    const cid = await createCourse(gw, owner.token, 'Outage');
    const live = stack.courses.filter((r) => !r.stopped);
    for (const r of live) await stack.crash(r); // leases stay: discovery still lists them, as after a crash
    const down = await gql(gw, BUY, { variables: { courseId: cid, key: 'outage-key' }, headers: auth(buyer.token) });
    expect(down.status).toBe(503); // the gateway answers SERVICE_UNAVAILABLE as HTTP 503
    expect(down.body.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(down.body.data).toBeNull();

    const back = await stack.subgraph('courses', { grpc: true });
    coursesA = back.service as CoursesSubgraph;
    for (const r of live) await r.registration!.deregister();
    expect(await enrollments(buyer.id, cid)).toHaveLength(0);

    // Until users' discovery watch delivers the new instance the answer stays SERVICE_UNAVAILABLE (and records nothing).
    const first = await waitFor(
      async () => {
        const r = await gql(gw, BUY, { variables: { courseId: cid, key: 'outage-key' }, headers: auth(buyer.token) });
        return r.body.errors?.[0]?.extensions?.code === 'SERVICE_UNAVAILABLE' ? undefined : r;
      },
      { timeoutMs: 15000, intervalMs: 100, what: 'a purchase after courses came back' },
    );
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data!.buyCourse.alreadyOwned).toBe(false);
    const repeat = await gql(gw, BUY, { variables: { courseId: cid, key: 'outage-key' }, headers: auth(buyer.token) });
    expect(repeat.body.data!.buyCourse).toMatchObject({ alreadyOwned: true, enrollmentId: first.body.data!.buyCourse.enrollmentId });
    expect(await enrollments(buyer.id, cid)).toHaveLength(1);
  });
});
