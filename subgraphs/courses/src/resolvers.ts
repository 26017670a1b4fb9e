import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { AppError, badInput, forbidden, notFound, requireRole, requireUser, type AuthUser } from '@dream/common';
import type { CoursesContext } from './context';
import { categoryKey, decodeCursor, encodeCursor, type Course } from './domain';
import { listKey } from './course-cache';
import type { CourseEvent } from './events';
import { notifyCategoryFollowers, notifyLobbyJoin } from './notifications';
import { PriceScalar } from './price-scalar';
import { validateCategoryArg, validateCreate, validateFirst, validateSearch, validateUpdate } from './validation';

interface CoursesArgs {
  category?: string | null;
  ownerId?: string | null;
  search?: string | null;
  first?: number | null;
  after?: string | null;
}

const eventOf = (c: Course): CourseEvent => ({ courseId: c.id, ownerId: c.ownerId, category: c.category });

/** The live course when `user` owns it: NOT_FOUND for unknown or deleted, FORBIDDEN for someone else's. */
async function ownedCourse(ctx: CoursesContext, user: AuthUser, id: string): Promise<Course> {
  const course = await ctx.courses.findById(id);
  if (!course) throw notFound(`Course ${id} not found.`);
  if (course.ownerId !== user.id) throw forbidden('Only the owner of this course can change or delete it.');
  return course;
}

const servedByGateway = () => {
  throw new AppError(
    'BAD_USER_INPUT',
    'Subscriptions are served by the gateway over graphql-ws on /graphql, not by the courses subgraph directly.',
  );
};

export const resolvers: GraphQLResolverMap<CoursesContext> = {
  Price: PriceScalar,

  Query: {
    courses: async (_: unknown, args: CoursesArgs, ctx: CoursesContext) => {
      const limit = validateFirst(args.first);
      let after;
      if (args.after !== undefined && args.after !== null) {
        after = decodeCursor(args.after);
        if (!after) throw badInput('after is not a valid cursor: pass the cursor of the last course of the previous page.', [{ field: 'after', message: 'Invalid cursor.' }]);
      }
      const category = args.category === undefined || args.category === null ? undefined : categoryKey(validateCategoryArg(args.category));
      const nameContains = validateSearch(args.search);
      const filter = { categoryKey: category, ownerId: args.ownerId ?? undefined, nameContains, after, limit };
      if (!ctx.cache) return ctx.courses.list(filter);
      // Cached as ids (invalidated by any course write); the courses themselves come through the
      // cached loader, so a warm page costs no database query at all.
      const ids = await ctx.cache.lists.getOrCompute(listKey(filter), async () => {
        const page = await ctx.courses.list(filter);
        for (const c of page) ctx.loaders.courseById.prime(c.id, c);
        await ctx.cache?.course.setMany(page.map((c) => [c.id, c] as const));
        return page.map((c) => c.id);
      });
      const loaded = await ctx.loaders.courseById.loadMany(ids);
      return loaded.filter((c): c is Course => !!c && !(c instanceof Error));
    },
    course: async (_: unknown, { id }: { id: string }, ctx: CoursesContext) => (await ctx.loaders.courseById.load(id)) ?? null,
    categories: async (_: unknown, args: { first?: number | null }, ctx: CoursesContext) =>
      (await ctx.courses.categories()).slice(0, validateFirst(args.first ?? 100)),
  },

  Mutation: {
    createCourse: async (_: unknown, { input }: { input: Record<string, unknown> }, ctx: CoursesContext) => {
      const user = requireRole(ctx.user, 'OWNER');
      const fields = validateCreate(input);
      const outboxId = ctx.outbox?.reserve();
      const course = await ctx.courses.create({ ownerId: user.id, ...fields }, outboxId);
      ctx.logger.info({ courseId: course.id, ownerId: user.id }, 'course created');
      await courseChanged(ctx, course.id, outboxId);
      await ctx.events.publish('course.created', eventOf(course));
      if (ctx.notifier) await notifyCategoryFollowers(ctx.notifier, ctx.enrollments, course, ctx.logger);
      return course;
    },
    updateCourse: async (_: unknown, { id, input }: { id: string; input: Record<string, unknown> }, ctx: CoursesContext) => {
      const user = requireUser(ctx.user);
      const patch = validateUpdate(input);
      await ownedCourse(ctx, user, id);
      const outboxId = ctx.outbox?.reserve();
      const course = await ctx.courses.update(id, patch, outboxId);
      await courseChanged(ctx, id, outboxId);
      if (!course) throw notFound(`Course ${id} not found.`); // deleted between the check and the write
      ctx.logger.info({ courseId: id, ownerId: user.id }, 'course updated');
      await ctx.events.publish('course.updated', eventOf(course));
      return course;
    },
    deleteCourse: async (_: unknown, { id }: { id: string }, ctx: CoursesContext) => {
      const user = requireUser(ctx.user);
      const course = await ownedCourse(ctx, user, id);
      const outboxId = ctx.outbox?.reserve();
      const deleted = await ctx.courses.softDelete(id, outboxId);
      await courseChanged(ctx, id, outboxId);
      if (!deleted) throw notFound(`Course ${id} not found.`);
      ctx.logger.info({ courseId: id, ownerId: user.id }, 'course deleted');
      await ctx.events.publish('course.deleted', eventOf(course));
      return { id, message: `Course ${id} deleted successfully.` };
    },
    joinLobby: async (_: unknown, { category }: { category: string }, ctx: CoursesContext) => {
      const user = requireRole(ctx.user, 'STUDENT');
      const cat = validateCategoryArg(category);
      const joined = await ctx.enrollments.joinLobby(user.id, categoryKey(cat));
      if (!joined) throw notFound(`No course to join in category "${cat}".`);
      ctx.logger.info({ courseId: joined.course.id, userId: user.id }, 'joined course through the lobby');
      if (ctx.notifier) await notifyLobbyJoin(ctx.notifier, joined.course, user);
      return { status: 'success', courseId: joined.course.id, course: joined.course, message: 'Joined course.' };
    },
  },

  Subscription: {
    // `resolve` too: a subscription POSTed to the subgraph is executed like a query.
    courseCreated: { subscribe: servedByGateway, resolve: servedByGateway },
    courseUpdated: { subscribe: servedByGateway, resolve: servedByGateway },
    courseDeleted: { subscribe: servedByGateway, resolve: servedByGateway },
    myNotifications: { subscribe: servedByGateway, resolve: servedByGateway },
  },

  Course: {
    __resolveReference: async (ref: { id: string }, ctx: CoursesContext) => (await ctx.loaders.courseById.load(ref.id)) ?? null,
    owner: (c: Course) => ({ __typename: 'User', id: c.ownerId }),
    cursor: (c: Course) => encodeCursor(c),
  },

  User: {
    // Users are owned by the users subgraph; here a reference only needs its id.
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    // Published courses are public, like the course list filtered by owner.
    ownedCourses: async (u: { id: string }, args: { first?: number | null }, ctx: CoursesContext) =>
      (await ctx.loaders.ownedCourses.load(u.id)).slice(0, validateFirst(args.first ?? 100)),
    // What a user bought or joined is theirs alone: null for anybody else (anonymous included).
    enrolledCourses: async (u: { id: string }, args: { first?: number | null }, ctx: CoursesContext) => {
      if (ctx.user?.id !== u.id) return null;
      return (await ctx.loaders.enrolledCourses.load(u.id)).slice(0, validateFirst(args.first ?? 100));
    },
  },
};

/** After a course write committed: invalidates the cache (through the outbox when the write recorded a row there). */
async function courseChanged(ctx: CoursesContext, courseId: string, outboxId: string | undefined): Promise<void> {
  if (ctx.outbox && outboxId) await ctx.outbox.changed(courseId, outboxId);
  else await ctx.cache?.changed(courseId);
}
