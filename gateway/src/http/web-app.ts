import { createReadStream, readFileSync, statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sendJson, type Logger } from '@dream/common';

/**
 * The app's CSP: its own scripts, styles and images, and its API (HTTP and graphql-ws) on this
 * origin — CSP3's 'self' covers ws:/wss: of the same host. No inline script, eval, frames or plugins.
 * The player: hls.js feeds the <video> a `blob:` Media Source URL and transmuxes in a Worker it
 * creates from a `blob:` URL; playlists, segments, posters and tus uploads are same-origin `/media/`
 * requests, which 'self' already covers (connect-src, img-src).
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.webmanifest']);
/** Vite names every built asset under assets/ with a content hash: it may be cached for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Paths the API owns: an unknown one stays a JSON 404, never the app's HTML. */
const API_PREFIXES = ['/api', '/graphql', '/graphiql', '/courses', '/health', '/ready', '/metrics'];

export interface WebApp {
  /** Whether `path` may be the app's (not one of the API's own paths, which stay JSON 404s). */
  claims(path: string): boolean;
  /** Serves GET/HEAD `path` from the build (history fallback to index.html); false when not ours. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

interface Cached {
  mtimeMs: number;
  gzip?: Buffer;
}

/**
 * The built web app (web/dist) at `/`: files by path, any other extension-less path gets index.html
 * (client-side routes), hashed assets are immutable, index.html is revalidated on each load. Paths
 * are decoded and resolved inside the root (no `..` or encoded-slash escape), and text files are
 * sent gzip-compressed when the client accepts it (compressed once per file version, kept in memory).
 */
export function createWebApp(rootDir: string, logger: Logger): WebApp {
  const root = resolve(rootDir);
  const gzipCache = new Map<string, Cached>();
  let warned = false;

  const fileAt = (file: string): Stats | undefined => {
    try {
      const s = statSync(file);
      return s.isFile() ? s : undefined;
    } catch {
      return undefined;
    }
  };

  const send = (req: IncomingMessage, res: ServerResponse, file: string, stat: Stats, cacheControl: string) => {
    const ext = extname(file).toLowerCase();
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    res.setHeader('content-type', TYPES[ext] ?? 'application/octet-stream');
    res.setHeader('cache-control', cacheControl);
    res.setHeader('etag', etag);
    if (COMPRESSIBLE.has(ext)) res.setHeader('vary', 'accept-encoding');
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304).end();
      return;
    }
    const wantsGzip = COMPRESSIBLE.has(ext) && stat.size > 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (wantsGzip) {
      let c = gzipCache.get(file);
      if (!c || c.mtimeMs !== stat.mtimeMs) gzipCache.set(file, (c = { mtimeMs: stat.mtimeMs }));
      c.gzip ??= gzipSync(readFileSync(file), { level: 9 });
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': c.gzip.length });
      res.end(req.method === 'HEAD' ? undefined : c.gzip);
      return;
    }
    res.writeHead(200, { 'content-length': stat.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const claims = (path: string) => !API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
  return {
    claims,
    serve(req, res, path) {
      if (!claims(path)) return false;
      req.resume();
      let decoded: string;
      try {
        decoded = decodeURIComponent(path);
      } catch {
        sendJson(res, 400, { error: { code: 'BAD_USER_INPUT', message: 'The path is not valid URL encoding.' } });
        return true;
      }
      if (decoded.includes('\0') || decoded.includes('\\')) {
        sendJson(res, 400, { error: { code: 'BAD_USER_INPUT', message: 'The path contains characters no file has.' } });
        return true;
      }
      const file = resolve(join(root, decoded));
      if (file !== root && !file.startsWith(root + sep)) {
        sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `No file at ${path}.` } });
        return true;
      }
      res.setHeader('content-security-policy', WEB_CSP);
      const stat = decoded.endsWith('/') ? undefined : fileAt(file);
      if (stat) {
        send(req, res, file, stat, decoded.startsWith('/assets/') ? IMMUTABLE : 'no-cache');
        return true;
      }
      // a missing file (an extension in the last segment) is a 404, not the app: a stale hashed asset
      // must fail loudly rather than be answered with HTML
      if (extname(decoded) !== '') {
        sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `No file at ${path}.` } });
        return true;
      }
      const index = join(root, 'index.html');
      const indexStat = fileAt(index);
      if (!indexStat) {
        if (!warned) logger.warn({ root }, 'the web app is not built: run `npm run build -w web`');
        warned = true;
        res.setHeader('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
        sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'The web app is not built on this server: run `npm run build -w web` (npm start does it for you).' } });
        return true;
      }
      send(req, res, index, indexStat, 'no-cache');
      return true;
    },
  };
}
