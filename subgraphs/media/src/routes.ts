import type { HttpRoute } from '@dream/common/subgraph';
import type { LessonLifecycle } from './lessons/lifecycle';
import type { UploadGate } from './lessons/upload-gate';
import type { LessonsRepository } from './data/lessons-repository';
import type { MediaConfig } from './config';

/** What the /media routes (tus uploads, signed playback) get from the core. */
export interface MediaRouteDeps {
  config: MediaConfig;
  signingSecret: string;
  lessons: LessonsRepository;
  lifecycle: LessonLifecycle;
  /** Ticket, size, quota and single-use checks of each tus request. */
  uploads: UploadGate;
}

/**
 * The plain HTTP routes of the media service, served under MEDIA_PUBLIC_PATH by the subgraph's HTTP
 * server (and reached through the gateway's path-prefix routing). The upload (tus) and playback
 * handlers are built by their own modules from these dependencies; until they are part of this
 * service the prefix answers 404 like any unknown path.
 */
export function mountMediaRoutes(_deps: MediaRouteDeps): HttpRoute[] {
  return [];
}
