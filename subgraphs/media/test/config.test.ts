import { ConfigError, loadConfig } from '@dream/common';
import { mediaStorageEnv, storageSettingsFromEnv } from '../src/storage';
import { uploadEnv } from '../src/upload';

const load = (env: NodeJS.ProcessEnv) => {
  const c = loadConfig('media', { ...mediaStorageEnv, ...uploadEnv }, env);
  return { c, storage: storageSettingsFromEnv('media', c) };
};

describe('media storage and upload configuration', () => {
  it('defaults to the local disk under ./data/media and sane limits', () => {
    const { c, storage } = load({});
    expect(storage).toEqual({ backend: 'local', dir: './data/media' });
    expect(c).toMatchObject({ MEDIA_MAX_UPLOAD_BYTES: 2 * 1024 ** 3, MEDIA_UPLOAD_DIR: './data/uploads', MEDIA_PLAYBACK_DELIVERY: 'stream' });
  });

  it('builds S3 settings and names what is missing', () => {
    const { storage } = load({
      MEDIA_STORAGE: 's3', MEDIA_S3_BUCKET: 'b', MEDIA_S3_ENDPOINT: 'http://127.0.0.1:9000',
      MEDIA_S3_ACCESS_KEY_ID: 'k', MEDIA_S3_SECRET_ACCESS_KEY: 's',
    });
    expect(storage).toMatchObject({ backend: 's3', bucket: 'b', endpoint: 'http://127.0.0.1:9000', credentials: { accessKeyId: 'k' } });
    expect(() => load({ MEDIA_STORAGE: 's3' })).toThrow(/MEDIA_S3_BUCKET: required/);
    expect(() => load({ MEDIA_STORAGE: 's3', MEDIA_S3_BUCKET: 'b', MEDIA_S3_ACCESS_KEY_ID: 'k' })).toThrow(ConfigError);
    expect(() => load({ MEDIA_MAX_UPLOAD_BYTES: '-1' })).toThrow(/MEDIA_MAX_UPLOAD_BYTES/);
    expect(() => load({ MEDIA_STORAGE: 'ftp' })).toThrow(/MEDIA_STORAGE/);
  });
});
