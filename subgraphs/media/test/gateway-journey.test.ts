import { readFileSync } from 'node:fs';
import * as tus from 'tus-js-client';
import { waitFor } from '@dream/common/testing';
import { gql, useStack } from '@dream/testenv';
import { makeTestVideo } from './helpers/files';

jest.setTimeout(240_000);

/**
 * The whole way of a lesson video through the platform: discovery, users and courses (own processes),
 * a media replica and a transcoding worker, and a gateway that composes media and proxies its /media/
 * routes. Everything the client does goes through the gateway.
 */
describe('a lesson video through the gateway', () => {
  const stack = useStack();
  let gatewayUrl: string;
  const call = (query: string, variables: Record<string, unknown>, jwt?: string) =>
    gql({ url: gatewayUrl }, query, { variables, headers: jwt ? { authorization: `Bearer ${jwt}` } : {} });

  beforeAll(async () => {
    await stack.spawnSubgraph('users');
    await stack.spawnSubgraph('courses');
    await stack.subgraph('media', { discover: true, register: false });
    await stack.mediaWorker({ discover: true });
    const gw = await stack.gateway({ SUBGRAPHS: 'users,courses,media' });
    gatewayUrl = gw.url;
    await waitFor(() => gw.supergraph.subgraphs.length === 3, { timeoutMs: 30_000, what: 'users, courses and media composed' });
    await waitFor(() => gw.prefixRoutes.match('/media/uploads') !== undefined, { timeoutMs: 10_000, what: 'the /media/ prefix routed' });
  });

  const signup = async (username: string, roles: string[]) => {
    const res = await call('mutation($i: SignupInput!) { signup(input: $i) { jwt } }', {
      i: { username, password: 'correct horse battery', email: `${username}@example.com`, roles },
    });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.signup.jwt as string;
  };

  it('uploads with tus, transcodes, and plays only for the owner and buyers', async () => {
    const owner = await signup('mediaowner', ['OWNER']);
    const buyer = await signup('mediabuyer', ['STUDENT']);
    const stranger = await signup('mediastranger', ['STUDENT']);
    const course = await call('mutation { createCourse(input: { name: "Video 101", info: "x", category: "video", price: 10 }) { id } }', {}, owner);
    expect(course.body.errors).toBeUndefined();
    const courseId = course.body.data!.createCourse.id as string;
    const lesson = await call('mutation($c: ID!) { createLesson(courseId: $c, title: "Intro") { id } }', { c: courseId }, owner);
    expect(lesson.body.errors).toBeUndefined();
    const lessonId = lesson.body.data!.createLesson.id as string;
    const ticket = (await call('mutation($l: ID!) { requestLessonUpload(lessonId: $l) { uploadUrl token } }', { l: lessonId }, owner)).body.data!
      .requestLessonUpload as { uploadUrl: string; token: string };

    const video = readFileSync(await makeTestVideo(stack.dir, { seconds: 3 }));
    await new Promise<void>((resolve, reject) => {
      new tus.Upload(video, {
        endpoint: new URL(ticket.uploadUrl, gatewayUrl).href,
        headers: { authorization: `Bearer ${ticket.token}` },
        metadata: { filename: 'intro.mp4', filetype: 'video/mp4' },
        chunkSize: Math.ceil(video.length / 2),
        retryDelays: [],
        onSuccess: () => resolve(),
        onError: reject,
      }).start();
    });

    const STATUS = 'query($id: ID!) { lesson(id: $id) { status failureReason } }';
    const ready = await waitFor(
      async () => {
        const l = (await call(STATUS, { id: lessonId }, owner)).body.data?.lesson as { status: string; failureReason: string | null } | undefined;
        if (l?.status === 'FAILED') throw new Error(`lesson FAILED: ${l.failureReason}`);
        return l?.status === 'READY' ? l : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: 'the lesson READY' },
    );
    expect(ready.status).toBe('READY');

    const buy = await call('mutation($c: ID!) { buyCourse(courseId: $c) { enrollmentId } }', { c: courseId }, buyer);
    expect(buy.body.errors).toBeUndefined();
    const PLAYBACK = 'query($id: ID!) { lesson(id: $id) { playback { hlsUrl mp4Url } } }';
    const playback = (await call(PLAYBACK, { id: lessonId }, buyer)).body.data!.lesson.playback as { hlsUrl: string; mp4Url: string };
    const master = await fetch(new URL(playback.hlsUrl, gatewayUrl));
    expect(master.status).toBe(200);
    expect(master.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const variant = (await master.text()).split('\n').find((line) => line.endsWith('.m3u8'))!;
    expect(variant).toMatch(/^360p\//);
    const variantUrl = new URL(variant, new URL(playback.hlsUrl, gatewayUrl));
    const segment = (await (await fetch(variantUrl)).text()).split('\n').find((line) => line.endsWith('.ts'))!;
    const part = await fetch(new URL(segment, variantUrl), { headers: { range: 'bytes=0-187' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toMatch(/^bytes 0-187\/\d+$/);
    expect((await part.arrayBuffer()).byteLength).toBe(188);

    // not bought: no playback, and a forged token on the buyer's URL is refused
    expect((await call(PLAYBACK, { id: lessonId }, stranger)).body.data!.lesson).toEqual({ playback: null });
    const token = playback.hlsUrl.split('/')[3];
    const forged = playback.hlsUrl.replace(token, `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`);
    expect((await fetch(new URL(forged, gatewayUrl))).status).toBe(403);
  });
});
