import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { MemoryLocker, Server, type Locker, type Upload } from '@tus/server';
import { HTTP_STATUS, requestIdOf, sendError, type ErrorCode, type Logger } from '@dream/common';
import { TokenClaims } from './claims';
import type { UploadGrant, UploadVerdict, UploadedFile, VerifyUploadToken } from './types';

/** Where the tus endpoint lives; the upload id is the path segment after it (the gateway's sticky key). */
export const UPLOAD_PATH = '/media/uploads';

/** The answer the spec fixes for a file ffprobe does not accept. */
export const NOT_PLAYABLE = 'Not a playable video file';

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

export interface UploadHandler {
  /** Mount for URLs starting with `UPLOAD_PATH`. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Deletes expired, unfinished uploads and stale token claims; returns how many uploads went. */
  cleanup(): Promise<number>;
  /** Stops the periodic cleanup. */
  close(): void;
}

/** An error the tus server sends as it is: our JSON error shape with the code's status. */
class TusAnswer {
  readonly status_code: number;
  readonly body: string;
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    this.status_code = HTTP_STATUS[code];
    this.body = JSON.stringify({ error: { code, message, ...extra } });
  }
}

function bearerOf(header: string | null | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m ? m[1] : null;
}

function metadataOf(upload: Upload): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(upload.metadata ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

const COLLECTION = /^\/media\/uploads\/?$/;
const UPLOAD_URL = /^\/media\/uploads\/[0-9a-f]{32}$/;
const VIDEO_TYPE = /^video\/[A-Za-z0-9][A-Za-z0-9.+-]*$/;

/**
 * The tus 1.0 endpoint (`@tus/server` over `@tus/file-store`): creation, resumable PATCH, HEAD for the
 * offset, termination and expiration. Bodies are streamed to disk, never held in memory. Every request
 * but CORS preflights needs `Authorization: Bearer <upload token>`; the token's grant decides the size
 * limit, and an upload can only be continued with a token for the same lesson.
 */
export function createUploadHandler(options: UploadHandlerOptions): UploadHandler {
  const { logger } = options;
  const store = new FileStore({ directory: options.directory, expirationPeriodInMilliseconds: options.expireAfterMs });
  const claims = new TokenClaims(options.directory);

  const grantOf = (authorization: string | null | undefined): { token: string; grant: UploadGrant } | null => {
    const token = bearerOf(authorization);
    const grant = token ? options.verifyUploadToken(token) : null;
    return token && grant ? { token, grant } : null;
  };

  /** Hooks answer with TusAnswer; anything else is a fault of ours or a dependency's → 503, logged. */
  const guarded = <A extends unknown[], R>(what: string, fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    try {
      return await fn(...a);
    } catch (e) {
      if (e instanceof TusAnswer || (e as { status_code?: number }).status_code) throw e;
      logger.error({ err: e }, `upload ${what} failed`);
      throw new TusAnswer('SERVICE_UNAVAILABLE', 'The upload could not be processed now, try again shortly.');
    }
  };

  const onUploadCreate = async (req: Request, upload: Upload) => {
    const auth = grantOf(req.headers.get('authorization'));
    if (!auth) throw new TusAnswer('UNAUTHENTICATED', 'A valid upload token is required.');
    const { grant } = auth;
    const size = upload.size ?? 0;
    const limit = Math.min(options.maxUploadBytes, grant.maxBytes);
    if (size > limit) throw new TusAnswer('PAYLOAD_TOO_LARGE', `The file is ${size} bytes; uploads are limited to ${limit} bytes.`);
    const filetype = metadataOf(upload).filetype ?? '';
    if (!VIDEO_TYPE.test(filetype)) {
      throw new TusAnswer('UNSUPPORTED_MEDIA_TYPE', `Only video files can be uploaded (Upload-Metadata filetype video/*), not "${filetype.slice(0, 100)}".`);
    }
    const used = await options.quota.usedBytes(grant.ownerId);
    if (used + size > options.quota.limitBytes) {
      throw new TusAnswer(
        'FORBIDDEN',
        `This upload would exceed your storage quota of ${options.quota.limitBytes} bytes (${used} bytes used, the file is ${size} bytes).`,
      );
    }
    // last, so a refused attempt does not use the ticket up
    if (!(await claims.claim(auth.token))) {
      throw new TusAnswer('CONFLICT', 'This upload token has already started an upload: resume that one or request a new token.');
    }
    return { metadata: { ...upload.metadata, lessonId: grant.lessonId, ownerId: grant.ownerId } };
  };

  const onIncomingRequest = async (req: Request, uploadId: string) => {
    if (req.method === 'POST') return;
    const auth = grantOf(req.headers.get('authorization'));
    if (!auth) throw new TusAnswer('UNAUTHENTICATED', 'A valid upload token is required.');
    const upload = await store.getUpload(uploadId);
    if (upload.metadata?.lessonId !== auth.grant.lessonId) {
      throw new TusAnswer('FORBIDDEN', 'This upload token is not for this upload.');
    }
  };

  const onUploadFinish = async (_req: Request, upload: Upload) => {
    const meta = metadataOf(upload);
    const who = { uploadId: upload.id, lessonId: meta.lessonId, ownerId: meta.ownerId };
    const path = join(options.directory, upload.id);
    const verdict = await options.validate(path);
    if (!verdict.playable) {
      await store.remove(upload.id);
      logger.info({ ...who, reason: verdict.reason }, 'upload refused: not playable');
      await options.onRejected?.({ ...who, reason: verdict.reason });
      throw new TusAnswer('UNPROCESSABLE_CONTENT', NOT_PLAYABLE, { reason: verdict.reason });
    }
    await options.onUploaded({ ...who, path, size: upload.size ?? upload.offset, metadata: meta });
    await store.remove(upload.id);
    return {};
  };

  const tus = new Server({
    path: UPLOAD_PATH,
    datastore: store,
    locker: options.locker ?? new MemoryLocker(),
    // behind the gateway the Host is the replica's: a relative Location is right for every client
    relativeLocation: true,
    onUploadCreate: guarded('create', onUploadCreate),
    onIncomingRequest: guarded('request', onIncomingRequest),
    onUploadFinish: guarded('finish', onUploadFinish),
    // tus's own 500s (a lock timeout, a store error with its message appended) become a plain 503
    onResponseError: (_req, err) => {
      const status = (err as { status_code?: number }).status_code ?? 500;
      if (status < 500) return undefined;
      logger.warn({ err }, 'upload request failed in the tus server');
      const answer = new TusAnswer('SERVICE_UNAVAILABLE', 'The upload is busy or unavailable, try again shortly.');
      return { status_code: answer.status_code, body: answer.body };
    },
  });

  const cleanup = async () => {
    const removed = await store.deleteExpired();
    // a claim only has to outlive its token, whose expiry is far shorter than two upload lifetimes
    await claims.sweep(2 * options.expireAfterMs);
    if (removed > 0) logger.info({ removed }, 'expired uploads removed');
    return removed;
  };
  const timer =
    options.cleanupIntervalMs > 0
      ? setInterval(() => void cleanup().catch((err: unknown) => logger.warn({ err }, 'upload cleanup failed')), options.cleanupIntervalMs)
      : undefined;
  timer?.unref();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    if (req.method === 'GET') return sendError(res, 'NOT_FOUND', 'Uploads cannot be downloaded.');
    // only the paths tus itself makes: the collection for POST, `<collection>/<32 hex id>` otherwise,
    // so no upload id can name a file outside the upload folder
    const path = (req.url ?? '').split('?')[0];
    const expected = req.method === 'POST' || req.method === 'OPTIONS' ? COLLECTION : UPLOAD_URL;
    if (!expected.test(path)) return sendError(res, 'NOT_FOUND', 'No such upload.');
    if (req.method !== 'OPTIONS' && !grantOf(req.headers.authorization)) {
      res.setHeader('tus-resumable', '1.0.0');
      res.setHeader('www-authenticate', 'Bearer');
      return sendError(res, 'UNAUTHENTICATED', 'A valid upload token is required (Authorization: Bearer <token>).');
    }
    if (req.method === 'POST' && req.headers['upload-length'] === undefined) {
      res.setHeader('tus-resumable', '1.0.0');
      return sendError(res, 'BAD_USER_INPUT', 'Upload-Length is required: the size must be known when the upload starts.');
    }
    try {
      await tus.handle(req, res);
    } catch (err) {
      logger.error({ err, requestId }, 'upload request failed');
      if (!res.headersSent) sendError(res, 'SERVICE_UNAVAILABLE', 'The upload could not be processed now, try again shortly.');
      else res.destroy();
    }
  };

  return { handle, cleanup, close: () => clearInterval(timer) };
}
