import type { Locker } from '@tus/server';
import type { Logger } from '@dream/common';

/** What an upload token grants: one upload of at most `maxBytes` for one lesson, by its owner. */
export interface UploadGrant {
  lessonId: string;
  ownerId: string;
  maxBytes: number;
}

/**
 * Checks an upload token (from `Authorization: Bearer <token>`): signature and expiry. The service core
 * owns the token format (its upload ticket module) and passes this in; null means refused.
 */
export type VerifyUploadToken = (token: string) => UploadGrant | null;

/** A complete, validated upload handed to the service core. */
export interface UploadedFile {
  uploadId: string;
  lessonId: string;
  ownerId: string;
  /** The file on local disk; it is deleted once `onUploaded` resolves, so copy or move it before. */
  path: string;
  size: number;
  /** From Upload-Metadata (`filename`, `filetype`, ...); never trusted for anything but display. */
  metadata: Record<string, string>;
}

/** Answer of the validation callback (the core runs ffprobe): is the file a playable video? */
export type UploadVerdict = { playable: true } | { playable: false; reason: string };

export interface UploadHandlerOptions {
  /** Folder of partial uploads and their `.json` info; shared by the replicas (see `locker`). */
  directory: string;
  /** MEDIA_MAX_UPLOAD_BYTES; a token's own `maxBytes` can only lower it. */
  maxUploadBytes: number;
  verifyUploadToken: VerifyUploadToken;
  /** Per-owner storage quota: `usedBytes` is what the owner already stores. */
  quota: { limitBytes: number; usedBytes(ownerId: string): Promise<number> };
  /** Decides whether the complete file is a playable video (the core passes an ffprobe check). */
  validate(path: string): Promise<UploadVerdict>;
  /** Hands a complete, playable file to the core; the file is deleted when this resolves. */
  onUploaded(file: UploadedFile): Promise<void>;
  /** Told when a complete file was refused (and deleted), so the core can mark the lesson FAILED. */
  onRejected?(rejected: { uploadId: string; lessonId: string; ownerId: string; reason: string }): Promise<void>;
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
