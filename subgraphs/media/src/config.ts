import { z } from 'zod';
import { optionalString, positiveInt, subgraphSecrets } from '@dream/common';
import { loadSubgraphConfig, subgraphEnv, type SubgraphConfigOf } from '@dream/common/subgraph';
import { mediaStorageEnv } from './storage/config';
import { transcodeEnv } from './transcode/settings';
import { uploadEnv } from './upload/config';

/** Every environment variable the media subgraph reads; defaults make `npm start -w subgraphs/media` work. */
export const mediaEnv = {
  ...subgraphEnv({ port: 4003, database: 'sqlite:./data/media.db' }),
  /** `api` serves GraphQL and the /media routes; `worker` runs transcoding jobs only (scaled on its own). */
  MEDIA_ROLE: z.enum(['api', 'worker']).default('api'),
  /** HMAC key of upload tickets and playback URLs; required in production (a development one is generated under JWT_KEYS_DIR). */
  MEDIA_SIGNING_SECRET: optionalString(),
  /** Courses' gRPC address(es) `host:port[,…]`, used only without DISCOVERY_URL. */
  COURSES_GRPC_URL: optionalString(),
  /** Deadline of each access question to courses. */
  COURSES_GRPC_DEADLINE_MS: positiveInt(2000),
  /** Storage each course owner may use for uploaded sources (bytes); beyond it uploads answer 403. Default 20 GiB. */
  MEDIA_OWNER_QUOTA_BYTES: positiveInt(20 * 1024 ** 3),
  /** How long an upload ticket may start an upload. */
  MEDIA_UPLOAD_TICKET_TTL_SECONDS: positiveInt(3600),
  /** How long playback URLs stay valid. */
  MEDIA_PLAYBACK_TTL_SECONDS: positiveInt(4 * 3600),
  /** Where files live (MEDIA_STORAGE, MEDIA_DIR, MEDIA_S3_*, MEDIA_PLAYBACK_DELIVERY). */
  ...mediaStorageEnv,
  /** The tus endpoint (MEDIA_UPLOAD_DIR, MEDIA_MAX_UPLOAD_BYTES, expiry and cleanup). */
  ...uploadEnv,
  /** ffmpeg, ffprobe and the BullMQ worker (FFMPEG_PATH, MEDIA_TRANSCODE_*). */
  ...transcodeEnv,
};

export type MediaConfig = SubgraphConfigOf<typeof mediaEnv>;

/** Reads and validates the environment once; throws ConfigError naming each bad variable. */
export function loadMediaConfig(env: NodeJS.ProcessEnv = process.env): MediaConfig {
  return loadSubgraphConfig('media', mediaEnv, env);
}

/**
 * Secrets media refuses to start without under NODE_ENV=production: the service ones, and the signing
 * secret (a generated one differs between hosts, so no other replica could verify its URLs).
 */
export const requiredSecrets = (env: { DISCOVERY_URL?: string }): Array<'DISCOVERY_TOKEN' | 'SERVICE_TOKEN' | 'MEDIA_SIGNING_SECRET'> => [
  ...subgraphSecrets(env),
  'MEDIA_SIGNING_SECRET',
];

/**
 * What the worker role refuses to start without under NODE_ENV=production: the service secrets (it asks
 * courses over gRPC and finds it through discovery). It signs no URL, so it needs no MEDIA_SIGNING_SECRET.
 */
export const workerRequiredSecrets = (env: { DISCOVERY_URL?: string }): Array<'DISCOVERY_TOKEN' | 'SERVICE_TOKEN'> => subgraphSecrets(env);
