import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { AppError } from '@dream/common';
import type { MediaContext } from './context';
import { accessTo, isOwner, mayWatch, visibleLesson } from './lessons/access';
import * as commands from './lessons/commands';
import type { Lesson } from './lessons/lesson';
import { PLAYBACK_FILES } from './lessons/playback';
import { progressView, recordProgress } from './progress/record-progress';
import { coursePercent } from './progress/rules';

type Args<T> = T;

const servedByGateway = () => {
  throw new AppError('BAD_USER_INPUT', 'Subscriptions are served by the gateway over graphql-ws on /graphql, not by the media subgraph directly.');
};

/** Signed URLs of the lesson's current asset for the owner and enrolled students; null for anyone else. */
async function playback(lesson: Lesson, ctx: MediaContext) {
  if (!ctx.user || lesson.status !== 'READY' || !lesson.currentAssetId) return null;
  if (!mayWatch(await accessTo(ctx, lesson.courseId), ctx.user)) return null;
  const expiresAt = Math.floor(Date.now() / 1000) + ctx.settings.playbackTtlSeconds;
  const base = ctx.playback.signPlaybackPath({ lessonId: lesson.id, assetId: lesson.currentAssetId, userId: ctx.user.id, expiresAt });
  return {
    hlsUrl: `${base}/${PLAYBACK_FILES.hls}`,
    mp4Url: `${base}/${PLAYBACK_FILES.mp4}`,
    posterUrl: `${base}/${PLAYBACK_FILES.poster}`,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
  };
}

async function courseLessons(course: { id: string }, ctx: MediaContext): Promise<Lesson[]> {
  const access = await accessTo(ctx, course.id);
  if (!access.exists) return [];
  const byCourse = await ctx.lessons.ofCourses([course.id], !isOwner(access, ctx.user));
  const lessons = byCourse.get(course.id) ?? [];
  for (const l of lessons) ctx.lessonById.prime(l.id, l);
  return lessons;
}

async function courseProgress(course: { id: string }, ctx: MediaContext) {
  if (!ctx.user) return null;
  const counts = (await ctx.progress.courseCounts(ctx.user.id, [course.id])).get(course.id) ?? { completed: 0, ready: 0 };
  return { completedLessons: counts.completed, totalLessons: counts.ready, percent: coursePercent(counts.completed, counts.ready) };
}

export const resolvers: GraphQLResolverMap<MediaContext> = {
  Query: {
    lesson: async (_: unknown, { id }: Args<{ id: string }>, ctx: MediaContext) => visibleLesson(ctx, await ctx.lessonById.load(id)),
  },

  Mutation: {
    createLesson: (_: unknown, a: Args<{ courseId: string; title: string }>, ctx: MediaContext) => commands.createLesson(ctx, a.courseId, a.title),
    updateLesson: (_: unknown, a: Args<{ id: string; input: { title?: string | null } }>, ctx: MediaContext) => commands.updateLesson(ctx, a.id, a.input),
    deleteLesson: (_: unknown, a: Args<{ id: string }>, ctx: MediaContext) => commands.deleteLesson(ctx, a.id),
    moveLesson: (_: unknown, a: Args<{ id: string; position: number }>, ctx: MediaContext) => commands.moveLesson(ctx, a.id, a.position),
    requestLessonUpload: (_: unknown, a: Args<{ lessonId: string }>, ctx: MediaContext) => commands.requestLessonUpload(ctx, a.lessonId),
    retranscodeLesson: (_: unknown, a: Args<{ lessonId: string }>, ctx: MediaContext) => commands.retranscodeLesson(ctx, a.lessonId),
    recordLessonProgress: async (_: unknown, a: Args<{ lessonId: string; positionSeconds: number; watchedSeconds: number }>, ctx: MediaContext) =>
      recordProgress(ctx, await ctx.lessonById.load(a.lessonId), a),
  },

  Subscription: {
    lessonUpdated: { subscribe: servedByGateway },
  },

  Lesson: {
    __resolveReference: async (ref: { id: string }, ctx: MediaContext) => visibleLesson(ctx, await ctx.lessonById.load(ref.id)),
    course: (lesson: Lesson) => ({ __typename: 'Course', id: lesson.courseId }),
    playback: (lesson: Lesson, _: unknown, ctx: MediaContext) => playback(lesson, ctx),
    myProgress: async (lesson: Lesson, _: unknown, ctx: MediaContext) => {
      if (!ctx.user) return null;
      const state = await ctx.myProgress.load(lesson.id);
      return state ? progressView(state) : null;
    },
  },

  Course: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    lessons: (course: { id: string }, _: unknown, ctx: MediaContext) => courseLessons(course, ctx),
    myProgress: (course: { id: string }, _: unknown, ctx: MediaContext) => courseProgress(course, ctx),
  },
};
