import { join } from 'node:path';
import type { Disposables } from '@dream/common/testing';
import { openMediaDatabase } from '../../src/data/database';
import { LessonsRepository } from '../../src/data/lessons-repository';
import { UploadGate } from '../../src/lessons/upload-gate';
import { signUploadTicket, verifyUploadTicket } from '../../src/upload-ticket';
import { tempDir } from './files';

const SECRET = 'upload-test-signing-secret-0123456789abcdef';

/**
 * The core's real upload-ticket rules (UploadGate) over a SQLite lessons table of its own, with tickets
 * issued the way requestLessonUpload issues them, for tests of the tus handler.
 */
export async function ticketDesk(disposables: Disposables) {
  const database = await openMediaDatabase(`sqlite:${join(tempDir(disposables, 'db-'), 'media.db')}`);
  disposables.defer(() => database.close());
  const lessons = new LessonsRepository(database.db, database.dialect);
  return {
    lessons,
    gate: (ownerQuotaBytes = 100_000_000) => new UploadGate({ lessons, signingSecret: SECRET, ownerQuotaBytes }),
    /** A new lesson of `ownerId` with an upload ticket for it; resolves with the ticket's token. */
    async issue(over: { ownerId?: string; maxBytes?: number } = {}): Promise<string> {
      const ownerId = over.ownerId ?? 'O1';
      const maxBytes = over.maxBytes ?? 50_000_000;
      const lesson = await lessons.create({ courseId: `course-of-${ownerId}`, ownerId, title: 'Lesson' });
      const expiresAt = Math.floor(Date.now() / 1000) + 600;
      const issued = await lessons.issueUpload(lesson, maxBytes, new Date(expiresAt * 1000).toISOString());
      return signUploadTicket({ uploadId: issued.uploadId, lessonId: lesson.id, assetId: issued.assetId, ownerId, maxBytes, expiresAt }, SECRET);
    },
    ticketOf: (token: string) => verifyUploadTicket(token, SECRET),
  };
}

export type TicketDesk = Awaited<ReturnType<typeof ticketDesk>>;
