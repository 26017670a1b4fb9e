import type DataLoader from 'dataloader';
import type { AuthUser, Logger } from '@dream/common';
import type { LessonsRepository } from './data/lessons-repository';
import type { ProgressRepository } from './data/progress-repository';
import type { CourseAccess } from './grpc/course-access';
import type { Lesson } from './lessons/lesson';
import type { LessonLifecycle } from './lessons/lifecycle';
import type { MediaEvents } from './lessons/events';
import type { PlaybackPathSigner } from './lessons/playback';
import type { ProgressState } from './progress/rules';

/** Limits and secrets the resolvers apply (from MediaConfig). */
export interface MediaSettings {
  signingSecret: string;
  publicPath: string;
  maxUploadBytes: number;
  uploadTicketTtlSeconds: number;
  playbackTtlSeconds: number;
}

/** Per-request GraphQL context. */
export interface MediaContext {
  /** The verified caller; undefined when no token was sent. */
  user?: AuthUser;
  requestId: string;
  lessons: LessonsRepository;
  progress: ProgressRepository;
  /** Courses' answers for this caller, batched per request. */
  courseAccess: DataLoader<string, CourseAccess>;
  /** Lessons by id, batched per request. */
  lessonById: DataLoader<string, Lesson | undefined>;
  /** The caller's progress by lesson id, batched per request (undefined without a caller or a record). */
  myProgress: DataLoader<string, ProgressState | undefined>;
  lifecycle: LessonLifecycle;
  events: MediaEvents;
  playback: PlaybackPathSigner;
  settings: MediaSettings;
  logger: Logger;
}
