import type { Replica } from '@dream/testenv';
import type { UsersSubgraph } from '../src/service';

export { firstError } from '@dream/common/testing';

/** A users replica a suite started with `useStack({ discovery: false }).subgraph('users')`. */
export type TestUsers = Replica<UsersSubgraph>;

export const SIGNUP = /* GraphQL */ `
  mutation Signup($input: SignupInput!) {
    signup(input: $input) { jwt user { id username email roles createdAt } }
  }
`;
export const LOGIN = /* GraphQL */ `
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) { jwt user { id username email roles } }
  }
`;
export const ME = /* GraphQL */ `{ me { id username email roles createdAt } }`;

export const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

let n = 0;
/** A valid signup input with a unique username/email. */
export function newUser(over: Partial<{ username: string; password: string; email: string; roles: string[] }> = {}) {
  n++;
  const tag = `${process.pid}_${n}`;
  return { username: `user_${tag}`, password: 'correct horse', email: `user_${tag}@example.org`, roles: ['STUDENT'], ...over };
}
