import type { Locker } from '@tus/server';
import type { Logger } from '@dream/common';

/** What an upload token grants: one upload (`uploadId`) of at most `maxBytes` for one lesson, by its owner. */
export interface UploadGrant {
  uploadId: string;
  lessonId: string;
  /** The new asset the upload becomes. */
  assetId: string;
  ownerId: string;
  maxBytes: number;
}

/**
 * The service core's rules for upload tokens (`Authorization: Bearer <token>`), the one place they are
 * decided. Both reject with an AppError whose code is the tus answer's status: 401 bad or expired token,
 * 413 over the token's size, 403 over the owner's storage quota, 404 for a lesson deleted or re-ticketed,
 * 409 for a token that already started an upload.
 */
export interface UploadChecks {
  /** Creation (POST): checks the token and the declared length, then spends the token (single use). */
  startUpload(token: string, uploadLength: number): Promise<UploadGrant>;
  /** HEAD/PATCH/DELETE of an existing upload, which the token with `uploadId` created. */
  continueUpload(token: string, uploadId: string): Promise<UploadGrant>;
}

/** A complete, validated upload handed to the service core. */
export interface UploadedFile {
  uploadId: string;
  lessonId: string;
  assetId: string;
  ownerId: string;
  /** The file on local disk; it is deleted once `onUploaded` resolves, so copy or move it before. */
  path: string;
  size: number;
  /** From Upload-Metadata (`filename`, `filetype`, ...); never trusted for anything but display. */
  metadata: Record<string, string>;  /** The id of the request that finished the upload (the gateway's), carried on to the transcoding job. */
  requestId?: string;
}

/** Answer of the validation callback (the core runs ffprobe): is the file a playable video? */
export type UploadVerdict = { playable: true } | { playable: false; reason: string };

export interface UploadHandlerOptions {
  /** Folder of partial uploads and their `.json` info; shared by the replicas (see `locker`). */
  directory: string;
  /** MEDIA_MAX_UPLOAD_BYTES; a token's own `maxBytes` can only lower it. */
  maxUploadBytes: number;
  checks: UploadChecks;
  /** Decides whether the complete file is a playable video (the core passes an ffprobe check). */
  validate(path: string): Promise<UploadVerdict>;
  /** Hands a complete, playable file to the core; the file is deleted when this resolves. */
  onUploaded(file: UploadedFile): Promise<void>;
  /** Told when a complete file was refused (and deleted), so the core can mark the lesson FAILED. */
  onRejected?(rejected: { uploadId: string; lessonId: string; assetId: string; ownerId: string; reason: string }): Promise<void>;
  /**
   * Exclusive access to one upload while a request works on it. The default is in-process, right for
   * one replica; several replicas sharing `directory` need a shared one (`RedisLocker`).
   */
  locker?: Locker;
  /** An upload not completed this long after its creation is abandoned and deleted by `cleanup`. */
  expireAfterMs: number;
  /** How often `cleanup` runs by itself; 0 = only when called. */
  cleanupIntervalMs: number;
  logger: Logger;
}
