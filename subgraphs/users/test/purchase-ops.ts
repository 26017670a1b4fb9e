import { gql } from '@dream/testenv';

let n = 0;
/** Signs a real user up through the gateway; returns its id and token. */
export async function signup(gw: { url: string }, roles: string[]): Promise<{ id: string; token: string; username: string }> {
  n++;
  const username = `p${process.pid}_${n}`;
  const r = await gql(gw, 'mutation($i: SignupInput!) { signup(input: $i) { jwt user { id } } }', {
    variables: { i: { username, password: 'correct horse', email: `${username}@example.org`, roles } },
  });
  if (!r.body.data?.signup) throw new Error(`signup failed: ${JSON.stringify(r.body)}`);
  return { id: r.body.data.signup.user.id, token: r.body.data.signup.jwt, username };
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

export const BUY = /* GraphQL */ `
  mutation Buy($courseId: ID!, $key: String) {
    buyCourse(courseId: $courseId, idempotencyKey: $key) { message enrollmentId alreadyOwned }
  }
`;

export async function createCourse(gw: { url: string }, token: string, name = 'Strategy'): Promise<string> {
  const r = await gql(gw, 'mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }', {
    variables: { i: { name, info: 'text', category: 'Programming', price: '10' } },
    headers: auth(token),
  });
  if (!r.body.data?.createCourse) throw new Error(`createCourse failed: ${JSON.stringify(r.body)}`);
  return r.body.data.createCourse.id;
}
