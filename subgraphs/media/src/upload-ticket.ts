import { unauthenticated } from '@dream/common';
import { openToken, signToken } from './signed-token';

/**
 * The upload ticket: what `requestLessonUpload` hands out and the tus handler checks on every request
 * (`Authorization: Bearer <token>`). It authorises one upload (`uploadId`; single use is recorded in the
 * database) of one lesson into one new asset, up to `maxBytes`, until `expiresAt`.
 *
 * Format: `ut1.<payload>.<mac>` (see signed-token.ts) with payload base64url(JSON {u, l, a, o, m, e}),
 * signed with a key derived from MEDIA_SIGNING_SECRET for upload tickets only.
 */
export interface UploadTicket {
  uploadId: string;
  lessonId: string;
  assetId: string;
  /** The course owner who asked for it (whose storage quota the upload counts against). */
  ownerId: string;
  maxBytes: number;
  /** Epoch seconds. */
  expiresAt: number;
}

const PREFIX = 'ut1';
const PURPOSE = 'upload-ticket';

interface Wire {
  u: string;
  l: string;
  a: string;
  o: string;
  m: number;
  e: number;
}

export function signUploadTicket(ticket: UploadTicket, secret: string): string {
  const wire: Wire = { u: ticket.uploadId, l: ticket.lessonId, a: ticket.assetId, o: ticket.ownerId, m: ticket.maxBytes, e: ticket.expiresAt };
  return signToken(PREFIX, PURPOSE, wire, secret);
}

const isWire = (v: unknown): v is Wire => {
  const w = v as Partial<Wire> | null;
  return (
    typeof w === 'object' &&
    w !== null &&
    [w.u, w.l, w.a, w.o].every((s) => typeof s === 'string' && s.length > 0 && s.length <= 128) &&
    Number.isSafeInteger(w.m) &&
    (w.m as number) > 0 &&
    Number.isSafeInteger(w.e)
  );
};

/**
 * The ticket a token carries. Throws UNAUTHENTICATED (401) for a missing, malformed, tampered or expired
 * token; `allowExpired` for the requests that continue an upload started in time (a resume may come later).
 */
export function verifyUploadTicket(token: string | undefined, secret: string, opts: { nowMs?: number; allowExpired?: boolean } = {}): UploadTicket {
  if (!token) throw unauthenticated('Upload ticket required: send `Authorization: Bearer <token>` from requestLessonUpload.');
  const wire = openToken(PREFIX, PURPOSE, token, secret);
  if (!isWire(wire)) throw unauthenticated('Invalid upload ticket.');
  if (!opts.allowExpired && wire.e * 1000 <= (opts.nowMs ?? Date.now())) throw unauthenticated('Upload ticket expired: ask for a new one with requestLessonUpload.');
  return { uploadId: wire.u, lessonId: wire.l, assetId: wire.a, ownerId: wire.o, maxBytes: wire.m, expiresAt: wire.e };
}
