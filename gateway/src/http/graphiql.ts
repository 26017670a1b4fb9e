import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RouteRegistry } from '@dream/common/http';

/**
 * An offline GraphQL IDE: GraphiQL at GET /graphiql, every file served by the gateway itself from npm
 * packages (graphiql's UMD build, React 18's UMD builds, graphql-ws's browser build) plus our page
 * (gateway/graphiql/), so exploring the API needs no internet. /graphql keeps Apollo Sandbox, which
 * loads from Apollo's CDN. Subscriptions go over graphql-ws on /graphql.
 *
 * The page runs under a strict CSP: no inline script or style elements, nothing from another origin
 * (GraphiQL's fonts and icons are data: URLs inside its CSS), connections only to this origin.
 */
export const GRAPHIQL_PATH = '/graphiql';
export const GRAPHIQL_ASSETS = `${GRAPHIQL_PATH}/assets/`;

export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // React and CodeMirror set element styles from script (allowed); GraphiQL's CSS is a file of ours
  "style-src 'self'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  // graphql-ws on this origin: 'self' covers ws:/wss: to the same host in CSP 3 browsers
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_DIR = join(__dirname, '..', '..', 'graphiql');
const pkgDir = (pkg: string) => dirname(require.resolve(`${pkg}/package.json`));

/** URL name under /graphiql/assets/ → file, for every asset the page loads. */
export const ASSET_FILES = new Map<string, () => string>([
  ['graphiql.min.js', () => join(pkgDir('graphiql'), 'graphiql.min.js')],
  ['graphiql.min.css', () => join(pkgDir('graphiql'), 'graphiql.min.css')],
  ['react.production.min.js', () => join(pkgDir('react'), 'umd', 'react.production.min.js')],
  ['react-dom.production.min.js', () => join(pkgDir('react-dom'), 'umd', 'react-dom.production.min.js')],
  ['graphql-ws.min.js', () => join(pkgDir('graphql-ws'), 'umd', 'graphql-ws.min.js')],
  ['init.js', () => join(PAGE_DIR, 'init.js')],
  ['page.css', () => join(PAGE_DIR, 'page.css')],
]);
const PAGE = () => join(PAGE_DIR, 'index.html');

interface Asset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
  type: string;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

function loadAsset(file: string): Asset {
  const body = readFileSync(file);
  const ext = file.slice(file.lastIndexOf('.') + 1);
  return {
    body,
    gzip: gzipSync(body),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    type: TYPES[ext] ?? 'application/octet-stream',
  };
}

/** Read (and compressed) once, on first use: a gateway nobody opens GraphiQL on pays nothing. */
const cache = new Map<() => string, Asset>();
function asset(locate: (() => string) | undefined): Asset | undefined {
  if (!locate) return undefined;
  let a = cache.get(locate);
  if (!a) {
    a = loadAsset(locate());
    cache.set(locate, a);
  }
  return a;
}

function send(req: IncomingMessage, res: ServerResponse, a: Asset, cacheControl: string): void {
  req.resume();
  res.setHeader('content-security-policy', GRAPHIQL_CSP);
  res.setHeader('cache-control', cacheControl);
  res.setHeader('etag', a.etag);
  res.setHeader('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304);
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? a.gzip : a.body;
  res.writeHead(200, { 'content-type': a.type, 'content-length': body.length, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function notFound(req: IncomingMessage, res: ServerResponse, path: string): void {
  req.resume();
  const body = JSON.stringify({ error: { code: 'NOT_FOUND', message: `No GraphiQL asset at ${path}.` } });
  res.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Registers GET (and HEAD) /graphiql and /graphiql/assets/<name> on the gateway. */
export function attachGraphiql(router: RouteRegistry): void {
  const page = (req: IncomingMessage, res: ServerResponse) => send(req, res, asset(PAGE)!, 'no-cache');
  const assets = (req: IncomingMessage, res: ServerResponse, info: { path: string }) => {
    const a = asset(ASSET_FILES.get(info.path.slice(GRAPHIQL_ASSETS.length)));
    if (!a) return notFound(req, res, info.path);
    // the names carry no version: revalidate (a 304 when unchanged) rather than cache blindly
    send(req, res, a, 'no-cache');
  };
  for (const method of ['GET', 'HEAD']) {
    router.route(method, GRAPHIQL_PATH, page, GRAPHIQL_PATH);
    router.route(method, `${GRAPHIQL_PATH}/`, page, GRAPHIQL_PATH);
    router.route(method, /^\/graphiql\/assets\/[^/]+$/, assets, `${GRAPHIQL_ASSETS}:name`);
  }
}
