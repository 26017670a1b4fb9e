import { z } from 'zod';
import { positiveInt } from '@dream/common';

const GIB = 1024 ** 3;

/** The upload variables; the service core spreads this into its `loadConfig` shape. */
export const uploadEnv = {
  /** Partial uploads; a volume shared by the replicas (with `RedisLocker`). Not inside MEDIA_DIR. */
  MEDIA_UPLOAD_DIR: z.string().min(1).default('./data/uploads'),
  /** Largest accepted upload (413 above). */
  MEDIA_MAX_UPLOAD_BYTES: positiveInt(2 * GIB),
  /** An upload not finished this long after it started is abandoned and deleted. */
  MEDIA_UPLOAD_EXPIRY_SECONDS: positiveInt(24 * 3600),
  /** How often abandoned uploads are looked for. */
  MEDIA_UPLOAD_CLEANUP_SECONDS: positiveInt(3600),
};
