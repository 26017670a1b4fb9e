import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { requestIdOf, sendError, type ErrorCode, type Logger } from '@dream/common';
import { assertSafeKey, NotStoredError, UnsafeKeyError, type OpenedObject, type Storage } from '../storage';
import { answerRange } from './range';
import { PLAYBACK_PATH, verifyPlaybackToken, type PlaybackClaims } from './token';

/** Content type and caching of each kind of file a lesson asset has. */
const FILE_KINDS: Record<string, { type: string; cache: string; playlist: boolean }> = {
  // a playlist is tiny and names what to fetch next: never cached, so a re-signed link is always fresh
  '.m3u8': { type: 'application/vnd.apple.mpegurl', cache: 'private, no-store', playlist: true },
  // an asset never changes once written (a re-upload is a new asset), so the rest is cached for good;
  // private because the bytes are only for the holder of the token
  '.ts': { type: 'video/mp2t', cache: 'private, max-age=31536000, immutable', playlist: false },
  '.mp4': { type: 'video/mp4', cache: 'private, max-age=31536000, immutable', playlist: false },
  '.jpg': { type: 'image/jpeg', cache: 'private, max-age=31536000, immutable', playlist: false },
};

export interface PlaybackRouteOptions {
  storage: Storage;
  /** The HMAC key of playback tokens (MEDIA_SIGNING_SECRET). */
  secret: string | Buffer;
  logger: Logger;
  /**
   * The storage prefix of the asset a verified token names, or null when that asset is not (or no longer)
   * the lesson's: the service core answers from its data, so a token cannot reach another lesson's files.
   */
  assetPrefixFor(claims: PlaybackClaims): Promise<string | null>;
  /**
   * 'stream' (default): bytes go through this service, so Range, content types, caching and the 403 on
   * an expired token are the same on every backend and the bucket stays private. 'presigned': segments,
   * MP4 and poster are answered with a 302 to a presigned URL when the backend has them (S3), which takes
   * the bytes off the replica; playlists are always streamed so their relative URIs keep the token.
   */
  delivery?: 'stream' | 'presigned';
  /** Clock in ms (tests). */
  now?: () => number;
}

type Resolved = { key: string; kind: (typeof FILE_KINDS)[string]; claims: PlaybackClaims } | { error: ErrorCode; message: string };

/** `/media/play/<token>/<file>` → the storage key, after the token and the file name are checked. */
async function resolve(url: string, options: PlaybackRouteOptions): Promise<Resolved> {
  // the raw path, never normalised: `..` and percent-escapes are refused below rather than interpreted
  const path = url.split('?')[0].slice(PLAYBACK_PATH.length);
  const slash = path.indexOf('/');
  const token = slash > 0 ? path.slice(0, slash) : '';
  const file = slash > 0 ? path.slice(slash + 1) : '';
  const verdict = verifyPlaybackToken(token, options.secret, options.now?.() ?? Date.now());
  if (!verdict.ok) {
    return { error: 'FORBIDDEN', message: verdict.reason === 'expired' ? 'This playback link has expired.' : 'This playback link is not valid.' };
  }
  const kind = FILE_KINDS[file.slice(file.lastIndexOf('.'))];
  try {
    assertSafeKey(file);
  } catch {
    return { error: 'NOT_FOUND', message: 'No such media file.' };
  }
  if (!kind) return { error: 'NOT_FOUND', message: 'No such media file.' };
  const prefix = await options.assetPrefixFor(verdict.claims);
  if (!prefix) return { error: 'FORBIDDEN', message: 'This playback link is not valid for this lesson.' };
  return { key: `${prefix}/${file}`, kind, claims: verdict.claims };
}

/**
 * Serves lesson media under `/media/play/<token>/...` (GET and HEAD) from `storage`: 206 for a byte
 * range, 416 with `Content-Range: bytes * /size` for an unsatisfiable one, streamed (backpressure from
 * the client's socket reaches the storage read). Mount it for URLs starting with `PLAYBACK_PATH`.
 */
export function createPlaybackHandler(options: PlaybackRouteOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    res.setHeader('x-content-type-options', 'nosniff');
    try {
      await serve(req, res, options);
    } catch (e) {
      if (e instanceof NotStoredError || e instanceof UnsafeKeyError) {
        if (!res.headersSent) sendError(res, 'NOT_FOUND', 'No such media file.');
        return;
      }
      // the token is a bearer credential: it never goes to a log line
      const url = (req.url ?? '').slice(0, 300).replace(/^\/media\/play\/[^/]*/, '/media/play/<token>');
      options.logger.error({ err: e, requestId, url }, 'playback failed');
      if (!res.headersSent) sendError(res, 'SERVICE_UNAVAILABLE', 'Media storage is unavailable, try again shortly.');
      else res.destroy();
    }
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, options: PlaybackRouteOptions): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendError(res, 'BAD_USER_INPUT', 'Only GET and HEAD are served here.', {});
  }
  const target = await resolve(req.url ?? '', options);
  if ('error' in target) return sendError(res, target.error, target.message);
  const { key, kind, claims } = target;

  if (options.delivery === 'presigned' && !kind.playlist) {
    if (!(await options.storage.stat(key))) return sendError(res, 'NOT_FOUND', 'No such media file.');
    const ttl = Math.max(1, claims.expiresAt - Math.floor((options.now?.() ?? Date.now()) / 1000));
    const url = await options.storage.presignedUrl(key, ttl);
    if (url) {
      res.writeHead(302, { location: url, 'cache-control': 'private, no-store' });
      return void res.end();
    }
  }

  // one lookup for the size and the bytes (a stat, then a read, would resolve and check the key twice)
  const file = await options.storage.open(key);
  if (!file) return sendError(res, 'NOT_FOUND', 'No such media file.');
  let body: Readable | undefined;
  try {
    body = await answer(req, res, kind, file);
  } finally {
    if (!body) await file.close();
  }
  if (!body) return;
  // a client that goes away mid-file makes pipeline reject; the storage stream is destroyed with it
  await pipeline(body, res).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw e;
  });
}

/** Writes the head of the answer; the body to send, or undefined when there is none (HEAD, 416, empty). */
async function answer(req: IncomingMessage, res: ServerResponse, kind: (typeof FILE_KINDS)[string], file: OpenedObject): Promise<Readable | undefined> {
  const ranged = answerRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, file.size);
  const headers: Record<string, string | number> = {
    'content-type': kind.type,
    'cache-control': kind.cache,
    'accept-ranges': 'bytes',
  };
  if (ranged.kind === 'unsatisfiable') {
    res.setHeader('content-range', `bytes */${file.size}`);
    sendError(res, 'RANGE_NOT_SATISFIABLE', `The requested range is not within the file's ${file.size} bytes.`);
    return undefined;
  }
  const range = ranged.kind === 'partial' ? ranged.range : undefined;
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${file.size}`;
  headers['content-length'] = range ? range.end - range.start + 1 : file.size;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || file.size === 0) {
    res.end();
    return undefined;
  }
  return file.read(range);
}
