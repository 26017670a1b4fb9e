import { join } from 'node:path';
import type { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/server';
import { AppError, HTTP_STATUS, REQUEST_ID_HEADER, wellFormedRequestId, type ErrorCode } from '@dream/common';
import type { UploadHandlerOptions } from './types';

/** The answer the spec fixes for a file ffprobe does not accept. */
export const NOT_PLAYABLE = 'Not a playable video file';

/** What the tus hooks need: the handler's options and its store. */
export interface HookContext extends UploadHandlerOptions {
  store: FileStore;
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

/** The bearer token of an Authorization header, or null when there is none. */
export function bearerOf(authorization: string | null | undefined): string | null {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? null;
}

function tokenOf(req: Request): string {
  const token = bearerOf(req.headers.get('authorization'));
  if (!token) throw new TusAnswer('UNAUTHENTICATED', 'A valid upload token is required.');
  return token;
}

function metadataOf(upload: Upload): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(upload.metadata ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

const VIDEO_TYPE = /^video\/[A-Za-z0-9][A-Za-z0-9.+-]*$/;

/**
 * Before an upload exists: the service's hard size limit and the type are checked here (they need no
 * token), then the core's checks decide the token, its size, the quota and single use, in that order, so
 * a refused attempt does not use the token up.
 */
export async function onUploadCreate(ctx: HookContext, req: Request, upload: Upload) {
  const token = tokenOf(req);
  const size = upload.size ?? 0;
  if (size > ctx.maxUploadBytes) throw new TusAnswer('PAYLOAD_TOO_LARGE', `The file is ${size} bytes; uploads are limited to ${ctx.maxUploadBytes} bytes.`);
  const filetype = metadataOf(upload).filetype ?? '';
  if (!VIDEO_TYPE.test(filetype)) {
    throw new TusAnswer('UNSUPPORTED_MEDIA_TYPE', `Only video files can be uploaded (Upload-Metadata filetype video/*), not "${filetype.slice(0, 100)}".`);
  }
  const grant = await ctx.checks.startUpload(token, size);
  return { metadata: { ...upload.metadata, lessonId: grant.lessonId, assetId: grant.assetId, ownerId: grant.ownerId, ticketId: grant.uploadId } };
}

/** HEAD, PATCH and DELETE: the token must be the one that created this upload. */
export async function onIncomingRequest(ctx: HookContext, req: Request, uploadId: string) {
  if (req.method === 'POST') return;
  const token = tokenOf(req);
  const upload = await ctx.store.getUpload(uploadId);
  const ticketId = upload.metadata?.ticketId;
  if (typeof ticketId !== 'string') throw new TusAnswer('FORBIDDEN', 'This upload token is not for this upload.');
  const grant = await ctx.checks.continueUpload(token, ticketId);
  if (upload.metadata?.lessonId !== grant.lessonId) throw new TusAnswer('FORBIDDEN', 'This upload token is not for this upload.');
}

/**
 * The last byte is in: a file that is not playable is deleted (422); a playable one goes to the core,
 * then leaves the upload folder. If the core fails, the complete file stays for a retry (503).
 */
export async function onUploadFinish(ctx: HookContext, req: Request, upload: Upload) {
  const meta = metadataOf(upload);
  const who = { uploadId: upload.id, lessonId: meta.lessonId, assetId: meta.assetId, ownerId: meta.ownerId };
  const path = join(ctx.directory, upload.id);
  const verdict = await ctx.validate(path);
  if (!verdict.playable) {
    await ctx.store.remove(upload.id);
    ctx.logger.info({ ...who, reason: verdict.reason }, 'upload refused: not playable');
    await ctx.onRejected?.({ ...who, reason: verdict.reason });
    throw new TusAnswer('UNPROCESSABLE_CONTENT', NOT_PLAYABLE, { reason: verdict.reason });
  }
  await ctx.onUploaded({ ...who, path, size: upload.size ?? upload.offset, metadata: meta, requestId: wellFormedRequestId(req.headers.get(REQUEST_ID_HEADER)) });
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
      if (e instanceof AppError) throw new TusAnswer(e.code, e.message);
      ctx.logger.error({ err: e }, `upload ${what} failed`);
      throw new TusAnswer('SERVICE_UNAVAILABLE', 'The upload could not be processed now, try again shortly.');
    }
  };
}
