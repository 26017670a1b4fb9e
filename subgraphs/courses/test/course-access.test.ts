import { randomBytes } from 'node:crypto';
import { callMetadata, createCourseAccessServiceClient, type GrpcServiceClient, type CourseAccessServiceHandlers } from '@dream/common/grpc';
import { useStack } from '@dream/testenv';
import { CREATE, courseInput, JOIN, type TestCourses } from './helpers';

// a lone courses replica with the service secrets, so its gRPC services demand our signature
const stack = useStack({ discovery: false, serviceAuth: true });
const secret = stack.serviceToken;
let t: TestCourses;
let client: GrpcServiceClient<CourseAccessServiceHandlers>;
const signed = { idempotent: true, metadata: callMetadata({ service: { name: 'media', secret } }) };

beforeAll(async () => {
  t = await stack.subgraph('courses');
  client = stack.d.push(createCourseAccessServiceClient({ instances: () => [{ id: 'c', grpcUrl: `127.0.0.1:${t.service.grpcPort}` }] }), (c) => c.close());
});

test('owner, existence and enrollment of courses; the students of a course', async () => {
  const owner = stack.user(['OWNER']);
  const student = stack.user(['STUDENT']);
  const category = `access-${randomBytes(4).toString('hex')}`;
  const course = (await t.gql(CREATE, { input: courseInput({ category }) }, owner.token)).body.data!.createCourse.id as string;
  const deleted = (await t.gql(CREATE, { input: courseInput({ category: `${category}-gone` }) }, owner.token)).body.data!.createCourse.id as string;
  await t.gql(`mutation($id: ID!) { deleteCourse(id: $id) { id } }`, { id: deleted }, owner.token);
  await t.gql(JOIN, { category }, student.token);

  const res = await client.unary('GetCourseAccess', { userId: student.id, courseIds: [course, deleted, 'unknown', course] }, signed);
  expect(res.courses).toEqual([
    { courseId: course, exists: true, ownerId: owner.id, enrolled: true },
    { courseId: deleted, exists: false, ownerId: '', enrolled: false },
    { courseId: 'unknown', exists: false, ownerId: '', enrolled: false },
  ]);
  const anonymous = await client.unary('GetCourseAccess', { userId: '', courseIds: [course] }, signed);
  expect(anonymous.courses).toEqual([{ courseId: course, exists: true, ownerId: owner.id, enrolled: false }]);
  expect((await client.unary('ListCourseStudents', { courseId: course }, signed)).userIds).toEqual([student.id]);
  expect((await client.unary('ListCourseStudents', { courseId: deleted }, signed)).userIds).toEqual([]);
});

test('calls without our service signature are UNAUTHENTICATED; bad requests INVALID_ARGUMENT', async () => {
  const forged = { idempotent: true, metadata: callMetadata({ service: { name: 'media', secret: 'not-the-secret' } }) };
  for (const opts of [{ idempotent: true }, forged]) {
    await expect(client.unary('GetCourseAccess', { userId: '', courseIds: ['x'] }, opts)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(client.unary('ListCourseStudents', { courseId: 'x' }, opts)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  }
  await expect(client.unary('GetCourseAccess', { userId: '', courseIds: [] }, signed)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  const tooMany = Array.from({ length: 101 }, (_, i) => `c${i}`);
  await expect(client.unary('GetCourseAccess', { userId: '', courseIds: tooMany }, signed)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  await expect(client.unary('ListCourseStudents', { courseId: 'bad id!' }, signed)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
});
