import { request } from 'node:http';
import { waitFor } from '@dream/common/testing';
import type { Gateway } from '../src/server';
import { useStack, gql, startRecordingProxy, waitForPool, type RecordingProxy } from './helpers';
import { api, signup } from './client/api';
import { gqlWsClient, subscribe } from './client/ws-clients';

jest.setTimeout(60000);

type User = { jwt: string; id: string; username: string };
const emailOf = (u: User) => `${u.username}@example.org`;

/** A POST to the gateway from a chosen loopback source address (127.0.0.2, 127.0.0.3, …: all routed to lo on Linux). */
function gqlFrom(gw: Gateway, localAddress: string, query: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: '/graphql', method: 'POST', localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

/**
 * Users kept apart end to end: real gateway (in-flight merging on, the default), real users and
 * courses subgraphs. The users subgraph is reached through a recording proxy, which passes every
 * request on unchanged and shows what the subgraph really received and answered; its `holdNext`
 * makes two client requests certainly in flight at the same moment.
 */
describe('users kept apart through the real gateway', () => {
  const stack = useStack();
  let gw: Gateway;
  let proxy: RecordingProxy;
  let ann: User;
  let bob: User;

  beforeAll(async () => {
    const users = await stack.startUsers();
    proxy = await startRecordingProxy(users.url);
    stack.d.defer(() => proxy.stop());
    const reg = await stack.client.register({ service: 'users', url: proxy.url }, { heartbeatMs: 500, retryMs: 100, maxRetryMs: 300 });
    stack.d.defer(() => reg.deregister());
    await stack.addCourses();
    gw = await stack.gateway({ DEDUPE_INFLIGHT: 'true', ACCESS_LOG: 'false' });
    await gw.ready();
    await waitForPool(gw, 'users', 1);
    await waitForPool(gw, 'courses', 1);
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
    [ann, bob] = await Promise.all([signup(gw, 'STUDENT/OWNER'), signup(gw, 'STUDENT/OWNER')]);
  });

  /** The exchanges the users subgraph saw for an operation whose text contains `field`, from index `from`. */
  const seenFor = (field: RegExp, from: number) => proxy.seen.slice(from).filter((x) => x.method === 'POST' && field.test(x.body));

  it("forwards the caller's token and request id: the subgraph resolves a real user's `me` and uses the client's request id", async () => {
    const from = proxy.seen.length;
    const res = await gql(gw, '{ me { id username email } }', { headers: { authorization: `Bearer ${ann.jwt}`, 'x-request-id': 'isolation-fwd-1' } });
    expect(res.body).toEqual({ data: { me: { id: ann.id, username: ann.username, email: emailOf(ann) } } });
    const [x] = seenFor(/\bme\b/, from);
    expect(x.headers.authorization).toBe(`Bearer ${ann.jwt}`);
    expect(x.headers['x-request-id']).toBe('isolation-fwd-1');
    // the subgraph answers with the request id it used for its own logs and its gRPC calls
    expect(x.responseHeaders['x-request-id']).toBe('isolation-fwd-1');

    // without a client id the gateway makes one, and it is the one the subgraph uses
    const from2 = proxy.seen.length;
    const anon = await gql(gw, '{ me { id } }');
    expect(anon.body).toEqual({ data: { me: null } });
    const generated = anon.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(seenFor(/\bme\b/, from2).map((e) => e.responseHeaders['x-request-id'])).toEqual([generated]);
  });

  it('merges one user’s identical in-flight queries, never two users’: each sees only their own email', async () => {
    const q = '{ me { email } }';
    const as = (u: User) => gql(gw, q, { headers: { authorization: `Bearer ${u.jwt}` } });

    // control: merging is on and the hold makes requests overlap — one user's two queries reach the subgraph once
    let from = proxy.seen.length;
    proxy.holdNext(2, 1500);
    const same = await Promise.all([as(ann), as(ann)]);
    expect(same.map((r) => r.body)).toEqual([{ data: { me: { email: emailOf(ann) } } }, { data: { me: { email: emailOf(ann) } } }]);
    expect(seenFor(/\bme\b/, from)).toHaveLength(1);

    // two users at the same moment: both reach the subgraph, each with their own token, each answer their own
    for (let round = 0; round < 3; round++) {
      from = proxy.seen.length;
      proxy.holdNext(2, 3000);
      const [a, b] = await Promise.all([as(ann), as(bob)]);
      expect(a.body).toEqual({ data: { me: { email: emailOf(ann) } } });
      expect(b.body).toEqual({ data: { me: { email: emailOf(bob) } } });
      expect(
        seenFor(/\bme\b/, from)
          .map((x) => x.headers.authorization)
          .sort(),
      ).toEqual([`Bearer ${ann.jwt}`, `Bearer ${bob.jwt}`].sort());
    }
  });

  it('never merges two client addresses: the subgraph sees each caller’s own forwarded address', async () => {
    const q = '{ me { id } }';
    let from = proxy.seen.length;
    proxy.holdNext(2, 1500);
    await Promise.all([gqlFrom(gw, '127.0.0.2', q), gqlFrom(gw, '127.0.0.2', q)]);
    // control: the same address merges
    expect(seenFor(/\bme\b/, from).map((x) => x.headers['x-forwarded-for'])).toEqual(['127.0.0.2']);

    from = proxy.seen.length;
    proxy.holdNext(2, 3000);
    const answers = await Promise.all([gqlFrom(gw, '127.0.0.2', q), gqlFrom(gw, '127.0.0.3', q)]);
    expect(answers.map((a) => a.body)).toEqual([{ data: { me: null } }, { data: { me: null } }]);
    expect(
      seenFor(/\bme\b/, from)
        .map((x) => x.headers['x-forwarded-for'])
        .sort(),
    ).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  it('two users subscribed to the same selection with a private field: each receives only their own view', async () => {
    const category = `iso-${Date.now().toString(36)}`;
    const query = `subscription { courseCreated(category: "${category}") { id name owner { username email } } }`;
    type Ev = { courseCreated: { id: string; name: string; owner: { username: string; email: string | null } } };
    const before = gw.clientSurface.graphqlWs.activeSubscriptions;
    const annSub = subscribe<Ev>(gqlWsClient(stack.d, gw, { jwt: ann.jwt }), query);
    const bobSub = subscribe<Ev>(gqlWsClient(stack.d, gw, { jwt: bob.jwt }), query);
    await gw.clientSurface.events.ready();
    await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions >= before + 2, { what: 'both subscriptions live' });

    for (const author of [ann, bob]) {
      const name = `by-${author.username}`;
      const r = await api(gw, 'POST', '/api/course', { jwt: author.jwt, body: { courseName: name, courseInfo: 'x', courseCathegory: category, price: 1 } });
      expect(r.status).toBe(201);
      const got = await Promise.all([annSub, bobSub].map((s) => s.inbox.take((v) => v.data?.courseCreated.name === name, 10000, `the event of ${name}`)));
      // the owner's email is private: only the owner's own subscription carries it
      expect(got.map((g) => g.data!.courseCreated.owner)).toEqual([
        { username: author.username, email: author === ann ? emailOf(ann) : null },
        { username: author.username, email: author === bob ? emailOf(bob) : null },
      ]);
    }
  });

  it('two users on myNotifications: each receives only their own notifications', async () => {
    type Ev = { myNotifications: { kind: string; courseId: string | null; text: string } };
    const before = gw.clientSurface.graphqlWs.activeSubscriptions;
    const annN = subscribe<Ev>(gqlWsClient(stack.d, gw, { jwt: ann.jwt }), 'subscription { myNotifications { kind courseId text } }');
    const bobN = subscribe<Ev>(gqlWsClient(stack.d, gw, { jwt: bob.jwt }), 'subscription { myNotifications { kind courseId text } }');
    await gw.clientSurface.events.ready();
    await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions >= before + 2, { what: 'both subscriptions live' });

    // each owns a course in its own category; students join them through the lobby, which notifies the owner
    const categories = new Map<User, string>();
    for (const owner of [ann, bob]) {
      const category = `note-${owner.username}`;
      categories.set(owner, category);
      const r = await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body: { courseName: `c-${owner.username}`, courseInfo: 'x', courseCathegory: category, price: 1 } });
      expect(r.status).toBe(201);
    }
    const join = async (category: string) => {
      const s = await signup(gw, 'STUDENT');
      const r = await gql(gw, 'mutation J($c: String!) { joinLobby(category: $c) { course { id } } }', { variables: { c: category }, headers: { authorization: `Bearer ${s.jwt}` } });
      expect(r.body.errors).toBeUndefined();
      return s;
    };
    const expectOwn = async (inbox: typeof annN.inbox, student: User) =>
      inbox.take((v) => v.data?.myNotifications.text.startsWith(`${student.username} `) === true, 10000, `the notification about ${student.username}`);

    const toAnn = await join(categories.get(ann)!);
    const toBob = await join(categories.get(bob)!);
    await expectOwn(annN.inbox, toAnn);
    await expectOwn(bobN.inbox, toBob);
    // a later notification to each is the fence: once it is in, the other's earlier one would be too
    await expectOwn(annN.inbox, await join(categories.get(ann)!));
    await expectOwn(bobN.inbox, await join(categories.get(bob)!));
    const texts = (inbox: typeof annN.inbox) => inbox.values.map((v) => v.data!.myNotifications.text);
    expect(texts(annN.inbox).every((t) => t.endsWith(`"c-${ann.username}".`))).toBe(true);
    expect(texts(bobN.inbox).every((t) => t.endsWith(`"c-${bob.username}".`))).toBe(true);
    expect(texts(annN.inbox)).toHaveLength(2);
    expect(texts(bobN.inbox)).toHaveLength(2);
  });
});
