import { createReadStream } from 'node:fs';
import { stat as fsStat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { assertSafeKey, joinKey } from './keys';
import { putFolderFileByFile } from './folder';
import { NotStoredError, type ByteRange, type OpenedObject, type Storage, type StoredObject } from './storage';

export interface S3StorageOptions {
  /** A configured client (endpoint, region, credentials, forcePathStyle for S3-compatible servers). */
  client: S3Client;
  bucket: string;
  /** Prepended to every key, e.g. `media`, so one bucket can hold other things too. */
  keyPrefix?: string;
}

const isNotFound = (e: unknown) => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
};

/**
 * Storage in an S3 bucket. S3 makes a put visible only once it is complete, so readers never see a
 * half-written object. Streams of unknown length go up as a multipart upload (`@aws-sdk/lib-storage`),
 * so nothing is buffered whole.
 */
export class S3Storage implements Storage {
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly keyPrefix: string;

  constructor(options: S3StorageOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.keyPrefix = options.keyPrefix ? `${joinKey(options.keyPrefix)}/` : '';
  }

  private objectKey(key: string): string {
    assertSafeKey(key);
    return this.keyPrefix + key;
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const { size } = await fsStat(localPath);
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: createReadStream(localPath), ContentLength: size }),
    );
  }

  async putStream(key: string, body: Readable): Promise<void> {
    await new Upload({ client: this.client, params: { Bucket: this.bucket, Key: this.objectKey(key), Body: body } }).done();
  }

  async copy(from: string, to: string): Promise<void> {
    // the copy source is `<bucket>/<key>`, URL-encoded; our keys are plain names, so encoding is a no-op
    const source = `${this.bucket}/${this.objectKey(from).split('/').map(encodeURIComponent).join('/')}`;
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: this.objectKey(to), CopySource: source }));
    } catch (e) {
      throw isNotFound(e) ? new NotStoredError(from) : e;
    }
  }

  putFolder(prefix: string, localDir: string): Promise<void> {
    return putFolderFileByFile(this, prefix, localDir);
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { size: head.ContentLength ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async open(key: string): Promise<OpenedObject | null> {
    const found = await this.stat(key);
    if (!found) return null;
    // nothing is held open on S3: the bytes are fetched when asked for
    return { size: found.size, read: (range) => this.read(key, range), close: async () => undefined };
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      if (!(out.Body instanceof Readable)) throw new Error('S3 returned a body that is not a Node stream');
      return out.Body;
    } catch (e) {
      throw isNotFound(e) ? new NotStoredError(key) : e;
    }
  }

  /** Every object under `prefix/` (and `prefix` itself), page by page. */
  private async *list(prefix: string): AsyncGenerator<{ Key: string; Size: number }> {
    const base = this.objectKey(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key && (o.Key === base || o.Key.startsWith(`${base}/`))) yield { Key: o.Key, Size: o.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async deletePrefix(prefix: string): Promise<void> {
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const Objects = batch.map((Key) => ({ Key }));
      batch = [];
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } }));
    };
    for await (const o of this.list(prefix)) {
      batch.push(o.Key);
      if (batch.length === 1000) await flush(); // the API's limit per call
    }
    await flush();
  }

  async usedBytes(prefix: string): Promise<number> {
    let total = 0;
    for await (const o of this.list(prefix)) total += o.Size;
    return total;
  }

  presignedUrl(key: string, expiresInSeconds: number): Promise<string | null> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), {
      expiresIn: expiresInSeconds,
    });
  }
}
