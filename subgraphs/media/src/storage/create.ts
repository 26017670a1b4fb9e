import { S3Client } from '@aws-sdk/client-s3';
import { LocalDiskStorage } from './local-disk';
import { S3Storage } from './s3';
import type { Storage } from './storage';

/** Default folder of the local backend (MEDIA_DIR). */
export const DEFAULT_MEDIA_DIR = './data/media';

/** The storage part of the service config, as the core reads it from the environment. */
export type StorageSettings =
  | { backend: 'local'; dir?: string }
  | {
      backend: 's3';
      bucket: string;
      region: string;
      /** For S3-compatible servers (MinIO, s3rver, ...); path-style addressing is used then. */
      endpoint?: string;
      keyPrefix?: string;
      /** Unset → the SDK's default chain (env, profile, instance role). */
      credentials?: { accessKeyId: string; secretAccessKey: string };
    };

/** Builds the configured backend. */
export function createStorage(settings: StorageSettings): Storage {
  if (settings.backend === 'local') return new LocalDiskStorage(settings.dir ?? DEFAULT_MEDIA_DIR);
  const client = new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.endpoint !== undefined,
    credentials: settings.credentials,
    // Checksums only where S3 requires them: several S3-compatible servers do not understand the SDK's
    // default aws-chunked CRC uploads and would store the chunk framing as data.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return new S3Storage({ client, bucket: settings.bucket, keyPrefix: settings.keyPrefix });
}
