import { join } from 'node:path';
import type { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/server';
import { HTTP_STATUS, type ErrorCode } from '@dream/common';
import type { TokenClaims } from './claims';
import type { UploadGrant, UploadHandlerOptions, VerifyUploadToken } from './types';

/** The answer the spec fixes for a file ffprobe does not accept. */
export const NOT_PLAYABLE = 'Not a playable video file';

/** What the tus hooks need: the handler's options, its store and its token claims. */
export interface HookContext extends UploadHandlerOptions {
  store: FileStore;
  claims: TokenClaims;
}

/** An error the tus server sends as it is: our JSON error shape with the code's status. */
export class TusAnswer {
  readonly status_code: number;
  readonly body: string;
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    this.status_code = HTTP_STATUS[code];
    this.body = JSON.stringify({ error: { code, message, ...extra } });
  }
}

/** The token and its grant from an Authorization header, or null when missing or refused. */
export function grantOf(verify: VerifyUploadToken, authorization: string | null | undefined): { token: string; grant: UploadGrant } | null {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  const grant = m ? verify(m[1]) : null;
  return m && grant ? { token: m[1], grant } : null;
}

function metadataOf(upload: Upload): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(upload.metadata ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

const VIDEO_TYPE = /^video\/[A-Za-z0-9][A-Za-z0-9.+-]*$/;

/** Before an upload exists: size, type and quota limits, then the token is used up. */
export async function onUploadCreate(ctx: HookContext, req: Request, upload: Upload) {
  const auth = grantOf(ctx.verifyUploadToken, req.headers.get('authorization'));
  if (!auth) throw new TusAnswer('UNAUTHENTICATED', 'A valid upload token is required.');
  const { grant } = auth;
  const size = upload.size ?? 0;
  const limit = Math.min(ctx.maxUploadBytes, grant.maxBytes);
  if (size > limit) throw new TusAnswer('PAYLOAD_TOO_LARGE', `The file is ${size} bytes; uploads are limited to ${limit} bytes.`);
  const filetype = metadataOf(upload).filetype ?? '';
  if (!VIDEO_TYPE.test(filetype)) {
    throw new TusAnswer('UNSUPPORTED_MEDIA_TYPE', `Only video files can be uploaded (Upload-Metadata filetype video/*), not "${filetype.slice(0, 100)}".`);
  }
  const used = await ctx.quota.usedBytes(grant.ownerId);
  if (used + size > ctx.quota.limitBytes) {
    throw new TusAnswer(
      'FORBIDDEN',
      `This upload would exceed your storage quota of ${ctx.quota.limitBytes} bytes (${used} bytes used, the file is ${size} bytes).`,
    );
  }
  // last, so a refused attempt does not use the ticket up
  if (!(await ctx.claims.claim(auth.token))) {
    throw new TusAnswer('CONFLICT', 'This upload token has already started an upload: resume that one or request a new token.');
  }
  return { metadata: { ...upload.metadata, lessonId: grant.lessonId, ownerId: grant.ownerId } };
}

/** HEAD, PATCH and DELETE: the token must be for the upload's lesson. */
export async function onIncomingRequest(ctx: HookContext, req: Request, uploadId: string) {
  if (req.method === 'POST') return;
  const auth = grantOf(ctx.verifyUploadToken, req.headers.get('authorization'));
  if (!auth) throw new TusAnswer('UNAUTHENTICATED', 'A valid upload token is required.');
  const upload = await ctx.store.getUpload(uploadId);
  if (upload.metadata?.lessonId !== auth.grant.lessonId) {
    throw new TusAnswer('FORBIDDEN', 'This upload token is not for this upload.');
  }
}

/**
 * The last byte is in: a file that is not playable is deleted (422); a playable one goes to the core,
 * then leaves the upload folder. If the core fails, the complete file stays for a retry (503).
 */
export async function onUploadFinish(ctx: HookContext, _req: Request, upload: Upload) {
  const meta = metadataOf(upload);
  const who = { uploadId: upload.id, lessonId: meta.lessonId, ownerId: meta.ownerId };
  const path = join(ctx.directory, upload.id);
  const verdict = await ctx.validate(path);
  if (!verdict.playable) {
    await ctx.store.remove(upload.id);
    ctx.logger.info({ ...who, reason: verdict.reason }, 'upload refused: not playable');
    await ctx.onRejected?.({ ...who, reason: verdict.reason });
    throw new TusAnswer('UNPROCESSABLE_CONTENT', NOT_PLAYABLE, { reason: verdict.reason });
  }
  await ctx.onUploaded({ ...who, path, size: upload.size ?? upload.offset, metadata: meta });
  await ctx.store.remove(upload.id);
  return {};
}

/** tus's own 500s (a lock timeout, a store error with its message appended) become a plain 503. */
export function onResponseError(ctx: HookContext, _req: Request, err: Error | { status_code: number; body: string }) {
  const status = (err as { status_code?: number }).status_code ?? 500;
  if (status < 500) return undefined;
  ctx.logger.warn({ err }, 'upload request failed in the tus server');
  const answer = new TusAnswer('SERVICE_UNAVAILABLE', 'The upload is busy or unavailable, try again shortly.');
  return { status_code: answer.status_code, body: answer.body };
}

/** Hooks answer with TusAnswer; anything else is a fault of ours or a dependency's → 503, logged. */
export function guarded<A extends unknown[], R>(ctx: HookContext, what: string, fn: (ctx: HookContext, ...a: A) => Promise<R>) {
  return async (...a: A): Promise<R> => {
    try {
      return await fn(ctx, ...a);
    } catch (e) {
      if (e instanceof TusAnswer || (e as { status_code?: number }).status_code) throw e;
      ctx.logger.error({ err: e }, `upload ${what} failed`);
      throw new TusAnswer('SERVICE_UNAVAILABLE', 'The upload could not be processed now, try again shortly.');
    }
  };
}
