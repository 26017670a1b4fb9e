import { z } from 'zod';
import { ConfigError, optionalString } from '@dream/common';
import { DEFAULT_MEDIA_DIR, type StorageSettings } from './create';

/** The storage and playback variables; the service core spreads this into its `loadConfig` shape. */
export const mediaStorageEnv = {
  /** `local` (MEDIA_DIR) or `s3` (MEDIA_S3_*). */
  MEDIA_STORAGE: z.enum(['local', 's3']).default('local'),
  MEDIA_DIR: z.string().min(1).default(DEFAULT_MEDIA_DIR),
  MEDIA_S3_BUCKET: optionalString(),
  MEDIA_S3_REGION: z.string().min(1).default('us-east-1'),
  /** For S3-compatible servers (MinIO, ...); unset = AWS. */
  MEDIA_S3_ENDPOINT: z.string().url().optional(),
  MEDIA_S3_PREFIX: optionalString(),
  /** Both or neither; neither = the AWS SDK's default chain (env, profile, instance role). */
  MEDIA_S3_ACCESS_KEY_ID: optionalString(),
  MEDIA_S3_SECRET_ACCESS_KEY: optionalString(),
  /** `stream` through the service, or `presigned` redirects for segments/MP4/poster where the backend has them. */
  MEDIA_PLAYBACK_DELIVERY: z.enum(['stream', 'presigned']).default('stream'),
};

type MediaStorageEnv = z.infer<z.ZodObject<typeof mediaStorageEnv>>;

/** The backend settings from the parsed variables; an incomplete S3 setup is a configuration error. */
export function storageSettingsFromEnv(service: string, c: MediaStorageEnv): StorageSettings {
  if (c.MEDIA_STORAGE === 'local') return { backend: 'local', dir: c.MEDIA_DIR };
  const problems: string[] = [];
  if (!c.MEDIA_S3_BUCKET) problems.push('MEDIA_S3_BUCKET: required with MEDIA_STORAGE=s3');
  if (!c.MEDIA_S3_ACCESS_KEY_ID !== !c.MEDIA_S3_SECRET_ACCESS_KEY) {
    problems.push('MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY: set both or neither');
  }
  if (problems.length) throw new ConfigError(service, problems);
  return {
    backend: 's3',
    bucket: c.MEDIA_S3_BUCKET as string,
    region: c.MEDIA_S3_REGION,
    endpoint: c.MEDIA_S3_ENDPOINT,
    keyPrefix: c.MEDIA_S3_PREFIX,
    credentials:
      c.MEDIA_S3_ACCESS_KEY_ID && c.MEDIA_S3_SECRET_ACCESS_KEY
        ? { accessKeyId: c.MEDIA_S3_ACCESS_KEY_ID, secretAccessKey: c.MEDIA_S3_SECRET_ACCESS_KEY }
        : undefined,
  };
}
