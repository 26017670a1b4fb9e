export * from './types';
export { createUploadHandler, UPLOAD_PATH, NOT_PLAYABLE, type UploadHandler } from './handler';
export { RedisLocker, type RedisLockerOptions } from './redis-locker';
export { uploadEnv } from './config';
