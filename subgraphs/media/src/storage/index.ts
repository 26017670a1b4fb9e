export * from './storage';
export * from './keys';
export { LocalDiskStorage } from './local-disk';
export { S3Storage, type S3StorageOptions } from './s3';
export { createStorage, DEFAULT_MEDIA_DIR, type StorageSettings } from './create';
export { mediaStorageEnv, storageSettingsFromEnv } from './config';
