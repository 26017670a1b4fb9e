import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { postGraphql, type GqlResult } from '@dream/common/testing';
import type { Stack, TestUser } from '@dream/testenv';
import { CREATE, JOIN, type TestCourses } from '../../courses/test/helpers';
import { loadMediaConfig, type MediaConfig } from '../src/config';
import { startMediaSubgraph, type MediaSubgraph } from '../src/service';
import type { Lesson } from '../src/lessons/lesson';

export type { GqlResult } from '@dream/common/testing';
export type { TestUser } from '@dream/testenv';

export interface TestMedia {
  courses: TestCourses;
  media: MediaSubgraph;
  /** The replica's configuration (a transcoding worker started with it shares its database, Redis and storage). */
  config: MediaConfig;
  dir: string;
  /** A user with a signed token (it need not exist in users: the subgraphs trust the signed id). */
  user(roles: TestUser['roles'], username?: string): TestUser;
  /** A GraphQL call to the media subgraph. */
  gql(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult>;
  /** A course owned by `owner`, in a category of its own (so a lobby join lands in exactly it). */
  course(owner: TestUser): Promise<string>;
  /** Enrolls `student` in the course through the courses service's lobby. */
  enroll(student: TestUser, courseId: string): Promise<void>;
  /** Runs a lesson through upload and transcoding to READY with the given duration (the worker's callbacks). */
  makeReady(lessonId: string, durationSeconds: number): Promise<Lesson>;
  /** A Redis subscriber on `channel` that keeps every message. */
  listen(channel: string): Promise<{ messages: unknown[]; redis: Redis }>;
}

const categories = new Map<string, string>();

/**
 * Real parts: a courses subgraph and a media subgraph of the suite's stack (`useStack({ discovery: false,
 * serviceAuth: true })`: one private redis-server, the JWT keys and a SERVICE_TOKEN they share), media
 * asking courses over gRPC.
 */
export async function startTestMedia(stack: Stack, env: Record<string, string> = {}): Promise<TestMedia> {
  const d = stack.d;
  const courses: TestCourses = await stack.subgraph('courses');
  const dir = stack.dir;
  const config = loadMediaConfig({
    ...stack.subgraphEnv('media'),
    LOG_LEVEL: 'silent',
    COURSES_GRPC_URL: `127.0.0.1:${courses.service.grpcPort}`,
    MEDIA_DIR: join(dir, 'media'),
    MEDIA_SIGNING_SECRET: randomBytes(32).toString('base64url'),
    ...env,
  });
  const media = d.push(await startMediaSubgraph(config), (s) => s.stop(), 'media subgraph');
  const gql: TestMedia['gql'] = (query, variables, token) => postGraphql(media.url, query, { variables, token });
  return {
    courses,
    media,
    config,
    dir,
    user: (roles, username) => stack.user(roles, username),
    gql,
    async course(owner) {
      const category = `cat${randomBytes(6).toString('hex')}`;
      const r = await courses.gql(CREATE, { input: { name: 'Video course', info: 'i', category, price: '10' } }, owner.token);
      const id = r.body.data?.createCourse?.id as string;
      if (!id) throw new Error(`createCourse failed: ${JSON.stringify(r.body)}`);
      categories.set(id, category);
      return id;
    },
    async enroll(student, courseId) {
      const r = await courses.gql(JOIN, { category: categories.get(courseId) }, student.token);
      if (r.body.data?.joinLobby?.courseId !== courseId) throw new Error(`joinLobby failed: ${JSON.stringify(r.body)}`);
    },
    async makeReady(lessonId, durationSeconds) {
      const lesson = (await media.lessons.findById(lessonId)) as Lesson;
      const { assetId } = await media.lessons.issueUpload(lesson, 1000, new Date(Date.now() + 60_000).toISOString());
      await media.lessons.uploadReceived(lessonId, assetId, { key: `sources/${assetId}`, sizeBytes: 1000 });
      const ready = await media.lifecycle.ready(lessonId, assetId, { durationSeconds });
      if (!ready) throw new Error('lesson did not become READY');
      return ready;
    },
    async listen(channel) {
      const redis = d.push(new Redis(stack.redis.url), (r) => void r.disconnect());
      const messages: unknown[] = [];
      redis.on('message', (ch: string, text: string) => {
        if (ch === channel) messages.push(JSON.parse(text));
      });
      await redis.subscribe(channel);
      return { messages, redis };
    },
  };
}

export const errorCode = (r: GqlResult) => r.body.errors?.[0]?.extensions?.code;

export const LESSON_FIELDS = 'id title position status failureReason durationSeconds processingProgress course { id }';
