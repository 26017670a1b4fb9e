import { badInput, conflict, notFound, serviceUnavailable } from '@dream/common';
import type { MediaContext } from '../context';
import { signUploadTicket } from '../upload-ticket';
import { UPLOAD_PATH } from '../upload';
import { requireOwner } from './access';
import type { Lesson } from './lesson';

const TITLE_MAX = 200;

export function validTitle(title: string | null | undefined): string {
  const t = (title ?? '').trim();
  if (t.length === 0 || t.length > TITLE_MAX) {
    throw badInput(`title must be 1-${TITLE_MAX} characters.`, [{ field: 'title', message: `1-${TITLE_MAX} characters.` }]);
  }
  return t;
}

/** The lesson when the caller owns its course; NOT_FOUND for an unknown id (before any access question). */
export async function ownedLesson(ctx: MediaContext, id: string): Promise<Lesson> {
  const lesson = await ctx.lessonById.load(id);
  if (!lesson) throw notFound(`Lesson ${id} not found.`);
  await requireOwner(ctx, lesson.courseId);
  return lesson;
}

export async function createLesson(ctx: MediaContext, courseId: string, title: string): Promise<Lesson> {
  const user = await requireOwner(ctx, courseId);
  const lesson = await ctx.lessons.create({ courseId, ownerId: user.id, title: validTitle(title) });
  ctx.logger.info({ lessonId: lesson.id, courseId }, 'lesson created');
  await ctx.lifecycle.announce(lesson);
  return lesson;
}

export async function updateLesson(ctx: MediaContext, id: string, input: { title?: string | null }): Promise<Lesson> {
  const lesson = await ownedLesson(ctx, id);
  if (input.title === undefined || input.title === null) return lesson;
  const updated = await ctx.lessons.rename(id, validTitle(input.title));
  if (!updated) throw notFound(`Lesson ${id} not found.`);
  await ctx.lifecycle.announce(updated);
  return updated;
}

export async function deleteLesson(ctx: MediaContext, id: string) {
  const lesson = await ownedLesson(ctx, id);
  const deleted = await ctx.lessons.delete(lesson.id);
  if (!deleted) throw notFound(`Lesson ${id} not found.`);
  await Promise.all(deleted.assetIds.map((assetId) => ctx.lifecycle.removeFiles(lesson.id, assetId)));
  ctx.logger.info({ lessonId: id, courseId: lesson.courseId }, 'lesson deleted');
  return { id, courseId: lesson.courseId, message: `Lesson ${id} deleted successfully.` };
}

export async function moveLesson(ctx: MediaContext, id: string, position: number): Promise<Lesson> {
  await ownedLesson(ctx, id);
  return ctx.lessons.move(id, position);
}

/** A ticket for one tus upload into a new asset of the lesson (see upload-ticket.ts). */
export async function requestLessonUpload(ctx: MediaContext, lessonId: string) {
  const lesson = await ownedLesson(ctx, lessonId);
  const { maxUploadBytes, uploadTicketTtlSeconds, signingSecret } = ctx.settings;
  const expiresAt = Math.floor(Date.now() / 1000) + uploadTicketTtlSeconds;
  const issued = await ctx.lessons.issueUpload(lesson, maxUploadBytes, new Date(expiresAt * 1000).toISOString());
  await ctx.lifecycle.announce(issued.lesson);
  const token = signUploadTicket(
    { uploadId: issued.uploadId, lessonId: lesson.id, assetId: issued.assetId, ownerId: lesson.ownerId, maxBytes: maxUploadBytes, expiresAt },
    signingSecret,
  );
  return { uploadUrl: UPLOAD_PATH, token, expiresAt: new Date(expiresAt * 1000).toISOString(), maxBytes: maxUploadBytes };
}

/**
 * Transcodes the last uploaded source again. A pending upload (not served yet) starts over in place; the
 * video the lesson plays is transcoded into a new asset, so what plays keeps playing until the new one is
 * READY, and keeps playing if it fails (see LessonLifecycle.retranscodeCurrent).
 */
export async function retranscodeLesson(ctx: MediaContext, lessonId: string): Promise<Lesson> {
  const lesson = await ownedLesson(ctx, lessonId);
  const pending = lesson.pendingAssetId ? await ctx.lessons.findAsset(lesson.pendingAssetId) : undefined;
  const current = lesson.currentAssetId ? await ctx.lessons.findAsset(lesson.currentAssetId) : undefined;
  const source = pending?.source_key ? pending : current?.source_key ? current : undefined;
  if (!source?.source_key) throw conflict('This lesson has no uploaded video to transcode: upload one first.');
  if (!ctx.lifecycle.canQueue()) throw serviceUnavailable('Transcoding is not available right now; try again shortly.');
  if (source === pending) {
    const restarted = (await ctx.lessons.restartProcessing(lesson.id, source.id)) as Lesson;
    await ctx.lifecycle.queue({ lessonId: lesson.id, assetId: source.id, sourceKey: source.source_key, requestId: ctx.requestId });
    await ctx.lifecycle.announce(restarted);
    return restarted;
  }
  const restarted = await ctx.lifecycle.retranscodeCurrent(lesson, { assetId: source.id, sizeBytes: Number(source.size_bytes ?? 0) }, ctx.requestId);
  if (!restarted) throw conflict('The lesson changed meanwhile (a new video or a deletion); try again.');
  return restarted;
}
