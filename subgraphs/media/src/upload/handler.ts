import type { IncomingMessage, ServerResponse } from 'node:http';
import { FileStore } from '@tus/file-store';
import { MemoryLocker, Server } from '@tus/server';
import { requestIdOf, sendError, type ErrorCode } from '@dream/common';
import { bearerOf, guarded, onIncomingRequest, onResponseError, onUploadCreate, onUploadFinish, type HookContext } from './hooks';
import type { UploadHandlerOptions } from './types';

export { NOT_PLAYABLE } from './hooks';

/** Where the tus endpoint lives; the upload id is the path segment after it (the gateway's sticky key). */
export const UPLOAD_PATH = '/media/uploads';

export interface UploadHandler {
  /** Mount for URLs starting with `UPLOAD_PATH`. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Deletes expired uploads and complete ones the core never took; returns how many uploads went. */
  cleanup(): Promise<number>;
  /** Stops the periodic cleanup. */
  close(): void;
}

const COLLECTION = /^\/media\/uploads\/?$/;
const UPLOAD_URL = /^\/media\/uploads\/[0-9a-f]{32}$/;

/**
 * Refuses, before tus sees it, what tus should never handle: downloads, paths tus does not make (so no
 * upload id can name a file outside the folder), requests without a bearer token, and uploads of
 * unknown length (their size could not be checked against the limits). False when it answered.
 */
function admit(req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '').split('?')[0];
  const refuse = (code: ErrorCode, message: string) => {
    if (req.method !== 'GET') res.setHeader('tus-resumable', '1.0.0');
    sendError(res, code, message);
    return false;
  };
  if (req.method === 'GET') return refuse('NOT_FOUND', 'Uploads cannot be downloaded.');
  const pathOk = req.method === 'POST' ? COLLECTION.test(path) : UPLOAD_URL.test(path) || (req.method === 'OPTIONS' && COLLECTION.test(path));
  if (!pathOk) return refuse('NOT_FOUND', 'No such upload.');
  if (req.method === 'OPTIONS') return true;
  if (!bearerOf(req.headers.authorization)) {
    res.setHeader('www-authenticate', 'Bearer');
    return refuse('UNAUTHENTICATED', 'A valid upload token is required (Authorization: Bearer <token>).');
  }
  if (req.method === 'POST' && req.headers['upload-length'] === undefined) {
    return refuse('BAD_USER_INPUT', 'Upload-Length is required: the size must be known when the upload starts.');
  }
  return true;
}

/** Removes complete uploads the core never took (it failed and the client gave up) once they are old. */
async function removeStaleComplete(store: FileStore, maxAgeMs: number): Promise<number> {
  let removed = 0;
  for (const id of (await store.configstore.list?.()) ?? []) {
    const info = await store.configstore.get(id).catch(() => undefined);
    const created = info?.creation_date ? Date.parse(info.creation_date) : NaN;
    if (info && info.offset === info.size && Date.now() - created > maxAgeMs) {
      await store.remove(id).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}

/**
 * The tus 1.0 endpoint (`@tus/server` over `@tus/file-store`): creation, resumable PATCH, HEAD for the
 * offset, termination and expiration. Bodies are streamed to disk, never held in memory. Every request
 * but CORS preflights needs `Authorization: Bearer <upload token>`; the token's grant decides the size
 * limit, and an upload can only be continued with a token for the same lesson.
 */
export function createUploadHandler(options: UploadHandlerOptions): UploadHandler {
  const { logger } = options;
  const store = new FileStore({ directory: options.directory, expirationPeriodInMilliseconds: options.expireAfterMs });
  const ctx: HookContext = { ...options, store };
  const tus = new Server({
    path: UPLOAD_PATH,
    datastore: store,
    locker: options.locker ?? new MemoryLocker(),
    // behind the gateway the Host is the replica's: a relative Location is right for every client
    relativeLocation: true,
    onUploadCreate: guarded(ctx, 'create', onUploadCreate),
    onIncomingRequest: guarded(ctx, 'request', onIncomingRequest),
    onUploadFinish: guarded(ctx, 'finish', onUploadFinish),
    onResponseError: (req, err) => onResponseError(ctx, req, err),
  });

  const cleanup = async () => {
    const removed = (await store.deleteExpired()) + (await removeStaleComplete(store, 2 * options.expireAfterMs));
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
    if (!admit(req, res)) return;
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
