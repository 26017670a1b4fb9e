import type { Readable } from 'node:stream';

/** An inclusive byte range, as HTTP Range speaks it (`bytes=start-end`). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObject {
  /** Size in bytes. */
  size: number;
}

/**
 * An object opened for serving: its size is known before any byte is read, and its bytes are the ones of
 * that moment (on disk, the open file, even if a newer one is renamed over it). Exactly one of `read` and
 * `close` is called.
 */
export interface OpenedObject extends StoredObject {
  /** The bytes (only `range` when given) as a stream; the object is released when the stream ends or is destroyed. */
  read(range?: ByteRange): Promise<Readable>;
  /** Releases the object without reading it (HEAD, an unsatisfiable range, an empty file). */
  close(): Promise<void>;
}

/**
 * Where media files live: the service core, the transcoder and the playback routes all go through this,
 * so the local disk and S3 are interchangeable. Keys are `/`-separated relative paths checked by
 * `assertSafeKey`; a bad key throws `UnsafeKeyError` on every backend. Nothing here buffers a whole file.
 */
export interface Storage {
  /** Copies a local file to `key` (replacing it); readers never see it half-written. */
  putFile(key: string, localPath: string): Promise<void>;
  /** Writes a stream to `key`; readers never see it half-written. */
  putStream(key: string, body: Readable): Promise<void>;
  /**
   * Copies the object at `from` to `to` (replacing it) inside the store, without the bytes passing through
   * this process where the backend allows (S3: a server-side copy; local disk: a hard link when it can).
   * Rejects with `NotStoredError` when `from` is missing.
   */
  copy(from: string, to: string): Promise<void>;
  /** Copies every file under `localDir` to `prefix/<relative path>`. */
  putFolder(prefix: string, localDir: string): Promise<void>;
  /** Size of `key`, or null when there is no such object. */
  stat(key: string): Promise<StoredObject | null>;
  /**
   * Opens `key` for serving (size, then bytes): one lookup where `stat` then `read` would make two, for
   * the playback routes, which answer every segment request. Null when there is no such object.
   */
  open(key: string): Promise<OpenedObject | null>;
  /** The object's bytes (only `range` when given) as a stream; rejects with `NotStoredError` when missing. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Deletes every object whose key starts with `prefix/` (and `prefix` itself); missing is not an error. */
  deletePrefix(prefix: string): Promise<void>;
  /** Sum of the sizes of the objects under `prefix/`, e.g. a per-owner folder for quotas. */
  usedBytes(prefix: string): Promise<number>;
  /**
   * A URL a client can GET the object from without us in the path, valid `expiresInSeconds`, when the
   * backend supports it (S3: a presigned URL); null otherwise (local disk).
   */
  presignedUrl(key: string, expiresInSeconds: number): Promise<string | null>;
}

/** A key that could leave the storage root or is not a plain relative path. */
export class UnsafeKeyError extends Error {
  constructor(key: string, why: string) {
    super(`Unsafe storage key ${JSON.stringify(key.slice(0, 200))}: ${why}`);
    this.name = 'UnsafeKeyError';
  }
}

/** The object does not exist. */
export class NotStoredError extends Error {
  constructor(key: string) {
    super(`No stored object at ${JSON.stringify(key.slice(0, 200))}`);
    this.name = 'NotStoredError';
  }
}
