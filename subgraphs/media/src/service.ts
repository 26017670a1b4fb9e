import DataLoader from 'dataloader';
import { readTypeDefs, startSubgraphService, type RequestInfo, type SubgraphInfra, type SubgraphParts, type SubgraphService } from '@dream/common/subgraph';
import { localAssetFiles } from './asset-files';
import { loadMediaConfig, type MediaConfig } from './config';
import type { MediaContext, MediaSettings } from './context';
import { LessonsRepository } from './data/lessons-repository';
import { mediaMigrations } from './data/migrations';
import { ProgressRepository } from './data/progress-repository';
import type { MediaDb } from './data/types';
import { courseAccessLoader, createCourseAccessClient, type CourseAccessSource } from './grpc/course-access';
import { CourseDeletions } from './lessons/course-deletions';
import { RedisMediaEvents, type MediaEvents } from './lessons/events';
import type { Lesson } from './lessons/lesson';
import type { ProgressState } from './progress/rules';
import { LessonLifecycle, type AssetFiles, type TranscodeJobs } from './lessons/lifecycle';
import { hmacPlaybackSigner } from './lessons/playback';
import { UploadGate } from './lessons/upload-gate';
import { resolvers } from './resolvers';
import { mountMediaRoutes } from './routes';
import { loadSigningSecret } from './signing-secret';

export const SERVICE_NAME = 'media';

/** The subgraph's SDL as written (what composition and `_service { sdl }` see). */
export const typeDefs = readTypeDefs(__dirname);

/** What a running media subgraph exposes beside the shared parts (tests reach into these). */
export interface MediaParts {
  lessons: LessonsRepository;
  progress: ProgressRepository;
  lifecycle: LessonLifecycle;
  access: CourseAccessSource;
  uploads: UploadGate;
  signingSecret: string;
}

export type MediaSubgraph = SubgraphService<MediaDb, MediaParts>;

/** Parts a caller may supply instead of the defaults (the transcoding queue, the storage's file removal). */
export interface MediaOverrides {
  jobs?: TranscodeJobs;
  files?: AssetFiles;
  events?: MediaEvents;
}

const settingsOf = (config: MediaConfig, signingSecret: string): MediaSettings => ({
  signingSecret,
  publicPath: config.MEDIA_PUBLIC_PATH,
  maxUploadBytes: config.MEDIA_MAX_UPLOAD_BYTES,
  uploadTicketTtlSeconds: config.MEDIA_UPLOAD_TICKET_TTL_SECONDS,
  playbackTtlSeconds: config.MEDIA_PLAYBACK_TTL_SECONDS,
});

/** The course access client of this process (discovery's courses instances, or COURSES_GRPC_URL). */
export function courseAccessFor(config: MediaConfig, logger: SubgraphInfra<MediaConfig, MediaDb>['logger']): CourseAccessSource {
  return createCourseAccessClient({
    discoveryUrl: config.DISCOVERY_URL,
    discoveryToken: config.DISCOVERY_TOKEN,
    staticAddresses: config.COURSES_GRPC_URL,
    serviceSecret: config.SERVICE_TOKEN,
    deadlineMs: config.COURSES_GRPC_DEADLINE_MS,
    logger,
  });
}

function mediaParts(overrides: MediaOverrides) {
  return async (infra: SubgraphInfra<MediaConfig, MediaDb>): Promise<SubgraphParts<MediaContext, MediaParts>> => {
    const { config, logger, db, redis, authenticator } = infra;
    const signingSecret = loadSigningSecret(config, logger);
    const lessons = new LessonsRepository(db.db, db.dialect);
    const progress = new ProgressRepository(db.db, db.dialect);
    const access = courseAccessFor(config, logger);
    infra.onStop('course access client', () => access.close());
    const events = overrides.events ?? new RedisMediaEvents(redis, logger);
    const files = overrides.files ?? localAssetFiles(config.MEDIA_DIR);
    const lifecycle = new LessonLifecycle({ lessons, events, access, files, jobs: overrides.jobs, logger });
    const uploads = new UploadGate({ lessons, signingSecret, ownerQuotaBytes: config.MEDIA_OWNER_QUOTA_BYTES });
    const deletions = new CourseDeletions({ redis, lessons, lifecycle, logger });
    await deletions.start();
    infra.onStop('course deletion subscriber', () => deletions.stop());
    const playback = hmacPlaybackSigner(signingSecret, config.MEDIA_PUBLIC_PATH);
    const settings = settingsOf(config, signingSecret);
    const context = async ({ req, requestId, logger: reqLogger }: RequestInfo): Promise<MediaContext> => {
      const user = await authenticator.fromHeaders(req.headers);
      const lessonById = new DataLoader<string, Lesson | undefined>(async (ids) => {
        const found = new Map((await lessons.findByIds(ids)).map((l) => [l.id, l]));
        return ids.map((id) => found.get(id));
      });
      // one query for the progress of every lesson a response lists, not one per lesson
      const myProgress = new DataLoader<string, ProgressState | undefined>(async (ids) => {
        const found = user ? await progress.ofUser(user.id, ids) : new Map<string, ProgressState>();
        return ids.map((id) => found.get(id));
      });
      return { user, requestId, lessons, progress, courseAccess: courseAccessLoader(access, user?.id, requestId), lessonById, myProgress, lifecycle, events, playback, settings, logger: reqLogger };
    };
    return {
      resolvers,
      context,
      grpcServices: [],
      httpRoutes: mountMediaRoutes({ config, signingSecret, lessons, lifecycle, uploads }),
      exposed: { lessons, progress, lifecycle, access, uploads, signingSecret },
    };
  };
}

/** Starts one media API replica (see startSubgraphService for the order and what stop() closes). */
export function startMediaSubgraph(config: MediaConfig = loadMediaConfig(), overrides: MediaOverrides = {}): Promise<MediaSubgraph> {
  return startSubgraphService({ name: SERVICE_NAME, config, typeDefs, migrations: mediaMigrations, parts: mediaParts(overrides) });
}
