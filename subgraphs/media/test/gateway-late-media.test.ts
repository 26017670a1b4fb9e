import { waitFor } from '@dream/common/testing';
import { gql, useStack } from '@dream/testenv';

jest.setTimeout(120_000);

const stack = useStack();

/** Adding media needs no media-specific code in the gateway: it registers, and the gateway composes it live. */
it('a gateway running without media serves Course.lessons within 2 s of media starting', async () => {
  await stack.spawnSubgraph('users');
  await stack.spawnSubgraph('courses');
  const gw = await stack.gateway({ SUBGRAPHS: 'users,courses,media' });
  await waitFor(() => gw.supergraph.subgraphs.length === 2, { timeoutMs: 30_000, what: 'users and courses composed' });
  const signup = await gql(gw, 'mutation { signup(input: { username: "lateowner", password: "correct horse battery", email: "late@example.com", roles: [OWNER] }) { jwt } }');
  const headers = { authorization: `Bearer ${signup.body.data!.signup.jwt as string}` };
  const created = await gql(gw, 'mutation { createCourse(input: { name: "Late", info: "x", category: "late", price: 1 }) { id } }', { headers });
  const courseId = created.body.data!.createCourse.id as string;
  const LESSONS = 'query($id: ID!) { course(id: $id) { id lessons { id } } }';
  // before media: the field is not in the supergraph at all
  expect((await gql(gw, LESSONS, { variables: { id: courseId }, headers })).body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

  await stack.subgraph('media', { discover: true, register: false });
  const answer = await waitFor(
    async () => {
      const res = await gql(gw, LESSONS, { variables: { id: courseId }, headers });
      return res.body.errors ? undefined : res.body.data;
    },
    { timeoutMs: 2000, intervalMs: 50, what: 'Course.lessons through the gateway' },
  );
  expect(answer).toEqual({ course: { id: courseId, lessons: [] } });
});
