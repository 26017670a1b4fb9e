import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage, type S3Storage } from '../../src/storage';
import S3rver from 's3rver';
import type { Disposables } from '@dream/common/testing';

export interface S3Server {
  /** A backend on it, keys under `media/`, built the way the service builds it. */
  storage: S3Storage;
  bucket: string;
  endpoint: string;
  /** Stops the server now (an outage); safe to call twice. */
  stop(): Promise<void>;
}

/** A real S3-compatible server (s3rver) on a free port with one bucket, stopped by `disposables`. */
export async function startS3(disposables: Disposables, bucket = 'media'): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  disposables.defer(() => rmSync(directory, { recursive: true, force: true }));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  let running = true;
  const stop = async () => {
    if (running) await server.close();
    running = false;
  };
  disposables.defer(stop);
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver accepts its documented fixed credentials
  const settings = { backend: 's3', bucket, region: 'us-east-1', endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } as const;
  const storage = createStorage({ ...settings, keyPrefix: 'media' }) as S3Storage;
  disposables.defer(() => storage.client.destroy());
  return { storage, bucket, endpoint, stop };
}
