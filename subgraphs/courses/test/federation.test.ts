import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { parse } from 'graphql';
import { Disposables, startRedisServer } from '@dream/common/testing';
import { loadUsersConfig } from '../../users/src/config';
import { startUsersSubgraph, typeDefs as usersSdl } from '../../users/src/service';
import { loadCoursesConfig } from '../src/config';
import { startCoursesSubgraph, typeDefs as coursesSdl } from '../src/service';

/**
 * Both subgraphs compose, and a federated query crosses them through an in-process ApolloGateway:
 * courses → owner { username } (users resolves the reference) and me → ownedCourses / enrolledCourses
 * (courses contributes the fields to users' entity).
 */
interface Ctx {
  authorization?: string;
}

const d = new Disposables();
let gateway: ApolloServer<Ctx>;

function compose(urls: { users: string; courses: string }) {
  return composeServices([
    { name: 'users', typeDefs: parse(usersSdl), url: urls.users },
    { name: 'courses', typeDefs: parse(coursesSdl), url: urls.courses },
  ]);
}

async function run(query: string, variables: Record<string, unknown> = {}, jwt?: string) {
  const res = await gateway.executeOperation<Record<string, any>>(
    { query, variables },
    { contextValue: jwt ? { authorization: `Bearer ${jwt}` } : {} },
  );
  if (res.body.kind !== 'single') throw new Error('expected a single result');
  return res.body.singleResult;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'courses-fed-'));
  d.defer(() => rmSync(dir, { recursive: true, force: true }));
  const redis = d.push(await startRedisServer(), (r) => r.stop());
  const common = { PORT: '0', HOST: '127.0.0.1', REDIS_URL: redis.url, JWT_KEYS_DIR: join(dir, 'keys'), LOG_LEVEL: 'silent' };
  const users = d.push(
    await startUsersSubgraph(loadUsersConfig({ ...common, DATABASE_URL: `sqlite:${join(dir, 'users.db')}` })),
    (s) => s.stop(),
  );
  const courses = d.push(
    await startCoursesSubgraph(loadCoursesConfig({ ...common, DATABASE_URL: `sqlite:${join(dir, 'courses.db')}` })),
    (s) => s.stop(),
  );
  const composed = compose({ users: users.url, courses: courses.url });
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  const apolloGateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<Ctx>({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http?.headers.set('authorization', context.authorization);
        },
      }),
  });
  gateway = d.push(new ApolloServer<Ctx>({ gateway: apolloGateway }), (g) => g.stop());
  await gateway.start();
});
afterAll(() => d.disposeAll());

test('the users and courses SDLs compose with no errors, Subscription included', () => {
  const composed = compose({ users: 'http://users/graphql', courses: 'http://courses/graphql' });
  expect(composed.errors).toBeUndefined();
  expect(composed.supergraphSdl).toMatch(/type Subscription/);
  expect(composed.supergraphSdl).toMatch(/courseCreated\(category: String\): Course!/);
});

const SIGNUP = `mutation($input: SignupInput!) { signup(input: $input) { jwt user { id } } }`;

test('courses { name owner { username } } and User.ownedCourses / enrolledCourses across subgraphs', async () => {
  const owner = await run(SIGNUP, { input: { username: 'fed_owner', password: 'password123', email: 'owner@example.com', roles: ['OWNER'] } });
  expect(owner.errors).toBeUndefined();
  const ownerJwt = owner.data!.signup.jwt as string;
  const student = await run(SIGNUP, { input: { username: 'fed_student', password: 'password123', email: 'student@example.com', roles: ['STUDENT'] } });
  const studentJwt = student.data!.signup.jwt as string;

  const created = await run(
    `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id name owner { id username } } }`,
    { input: { name: 'Federated', info: 'across subgraphs', category: 'Programming', price: '123' } },
    ownerJwt,
  );
  expect(created.errors).toBeUndefined();
  expect(created.data!.createCourse.owner).toEqual({ id: owner.data!.signup.user.id, username: 'fed_owner' });

  const list = await run(`{ courses { name owner { username } } }`);
  expect(list.errors).toBeUndefined();
  expect(list.data!.courses).toEqual([{ name: 'Federated', owner: { username: 'fed_owner' } }]);

  const mine = await run(`{ me { username ownedCourses { name } } }`, {}, ownerJwt);
  expect(mine.data!.me).toEqual({ username: 'fed_owner', ownedCourses: [{ name: 'Federated' }] });

  const joined = await run(`mutation { joinLobby(category: "programming") { status message course { name owner { username } } } }`, {}, studentJwt);
  expect(joined.errors).toBeUndefined();
  expect(joined.data!.joinLobby).toEqual({ status: 'success', message: 'Joined course.', course: { name: 'Federated', owner: { username: 'fed_owner' } } });
  const enrolled = await run(`{ me { enrolledCourses { name } } }`, {}, studentJwt);
  expect(enrolled.data!.me.enrolledCourses).toEqual([{ name: 'Federated' }]);

  const forbidden = await run(
    `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }`,
    { input: { name: 'No', info: '', category: 'X', price: 1 } },
    studentJwt,
  );
  expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');
});
