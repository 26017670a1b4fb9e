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
