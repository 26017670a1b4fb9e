import { useStack } from '@dream/testenv';
import { LOGIN, SIGNUP, firstError, newUser, type TestUsers } from './helpers';

/** Login and signup limits that must hold when requests arrive in parallel and from many addresses. */
const stack = useStack({ discovery: false });
let t: TestUsers;
const MAX = 3;
const ACCOUNT_MAX = 5;
const SIGNUPS = 4;

beforeAll(async () => {
  t = await stack.subgraph('users', { env: {
    LOGIN_MAX_ATTEMPTS: String(MAX),
    LOGIN_ACCOUNT_MAX_ATTEMPTS: String(ACCOUNT_MAX),
    LOGIN_WINDOW_SECONDS: '600',
    SIGNUP_MAX_PER_WINDOW: String(SIGNUPS),
    SIGNUP_WINDOW_SECONDS: '600',
  } });
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });
const codes = (rs: Array<Awaited<ReturnType<TestUsers['gql']>>>) => rs.map((r) => r.body.errors?.[0]?.extensions?.code ?? 'OK');
const count = (xs: string[], x: string) => xs.filter((v) => v === x).length;

async function signupFrom(ip: string) {
  const input = newUser();
  const r = await t.gql(SIGNUP, { input }, from(ip));
  if (r.body.errors) throw new Error(JSON.stringify(r.body.errors));
  return input;
}

it(`parallel wrong guesses from one address: exactly ${MAX} reach the password check, the rest are RATE_LIMITED`, async () => {
  const a = await signupFrom('198.51.100.1');
  const guesses = await Promise.all(
    Array.from({ length: 20 }, (_, i) => t.gql(LOGIN, { username: a.username, password: `guess ${i}` }, from('192.0.2.10'))),
  );
  const got = codes(guesses);
  expect(count(got, 'UNAUTHENTICATED')).toBe(MAX);
  expect(count(got, 'RATE_LIMITED')).toBe(20 - MAX);
});

it(`a distributed guess (one try per address) stops at the per-account ceiling of ${ACCOUNT_MAX}`, async () => {
  const a = await signupFrom('198.51.100.2');
  const guesses = await Promise.all(
    Array.from({ length: 12 }, (_, i) => t.gql(LOGIN, { username: a.username, password: `guess ${i}` }, from(`203.0.113.${i + 1}`))),
  );
  const got = codes(guesses);
  expect(count(got, 'UNAUTHENTICATED')).toBe(ACCOUNT_MAX);
  expect(count(got, 'RATE_LIMITED')).toBe(12 - ACCOUNT_MAX);
});

it('IPv6 clients are counted per /64: rotating the interface id does not give fresh attempts', async () => {
  const a = await signupFrom('198.51.100.3');
  for (let i = 1; i <= MAX; i++) {
    const r = await t.gql(LOGIN, { username: a.username, password: 'wrong' }, from(`2001:db8:1:2::${i.toString(16)}`));
    expect(firstError(r).extensions!.code).toBe('UNAUTHENTICATED');
  }
  const rotated = await t.gql(LOGIN, { username: a.username, password: 'wrong' }, from('2001:db8:1:2:ffff:1:2:3'));
  expect(firstError(rotated).extensions!.code).toBe('RATE_LIMITED');
  // another /64 is another client
  const other = await t.gql(LOGIN, { username: a.username, password: a.password }, from('2001:db8:1:3::1'));
  expect(other.body.errors).toBeUndefined();
});

it(`signups are limited per address (${SIGNUPS} per window), also in parallel; other addresses unaffected`, async () => {
  const rs = await Promise.all(Array.from({ length: 10 }, () => t.gql(SIGNUP, { input: newUser() }, from('192.0.2.77'))));
  const got = codes(rs);
  expect(count(got, 'OK')).toBe(SIGNUPS);
  expect(count(got, 'RATE_LIMITED')).toBe(10 - SIGNUPS);
  const limited = rs.find((r) => r.body.errors?.[0]?.extensions?.code === 'RATE_LIMITED')!;
  expect(limited.status).toBe(429);
  expect(firstError(limited).extensions!.retryAfter).toBeGreaterThan(0);
  expect((await t.gql(SIGNUP, { input: newUser() }, from('192.0.2.78'))).body.errors).toBeUndefined();
});

describe('a users subgraph that trusts no proxy', () => {
  const stack2 = useStack({ discovery: false });
  it('x-forwarded-for from an untrusted peer is ignored (TRUSTED_PROXIES=none: the socket address counts)', async () => {
    const strict = await stack2.subgraph('users', { env: { LOGIN_MAX_ATTEMPTS: '2', TRUSTED_PROXIES: 'none' } });
    const input = newUser();
    expect((await strict.gql(SIGNUP, { input })).body.errors).toBeUndefined();
    for (let i = 0; i < 2; i++) await strict.gql(LOGIN, { username: input.username, password: 'wrong' }, from(`192.0.2.${100 + i}`));
    const r = await strict.gql(LOGIN, { username: input.username, password: input.password }, from('192.0.2.200'));
    expect(firstError(r).extensions!.code).toBe('RATE_LIMITED');
  });
});
