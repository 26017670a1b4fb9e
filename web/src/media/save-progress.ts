import { formatDocument, stringifyDocument } from '@urql/core';
import { RECORD_LESSON_PROGRESS } from '../graphql/documents';
import type { LessonProgress } from './types';

// The exact text urql sends for this mutation, so it is one of the trusted documents by its hash.
const DOCUMENT = stringifyDocument(formatDocument(RECORD_LESSON_PROGRESS));

export interface ProgressReport {
  lessonId: string;
  positionSeconds: number;
  watchedSeconds: number;
}

/**
 * Sends recordLessonProgress with fetch `keepalive`, so the request outlives the page when it is sent
 * from `pagehide` (sendBeacon cannot carry the Authorization header). Resolves with the new progress,
 * or rejects with the API's message in words.
 */
export async function saveProgress(token: string | undefined, report: ProgressReport): Promise<LessonProgress> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      keepalive: true,
      headers,
      body: JSON.stringify({ operationName: 'RecordLessonProgress', query: DOCUMENT, variables: report }),
    });
  } catch {
    throw new Error('Could not reach Dream and Study to save your progress. Check your connection.');
  }
  const body = (await res.json().catch(() => null)) as { data?: { recordLessonProgress: LessonProgress } | null; errors?: Array<{ message: string }> } | null;
  if (body?.errors?.length) throw new Error(body.errors.map((e) => e.message).join(' '));
  if (!res.ok || !body?.data) throw new Error(`The server could not save your progress (HTTP ${res.status}).`);
  return body.data.recordLessonProgress;
}
