import { UnsafeKeyError } from './storage';

const MAX_KEY_LENGTH = 1024;
// Plain names only: letters, digits and a few separators. Anything else (`\`, `%`, spaces, control
// characters) has no use in our layout and could mean something to a file system or a URL parser.
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * Throws `UnsafeKeyError` unless `key` is a relative `/`-separated path of plain segments: no `..` or `.`,
 * no leading `/`, no empty segment, no NUL or backslash. Both backends call it first, so a key that is
 * refused on disk is refused on S3 too.
 */
export function assertSafeKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new UnsafeKeyError(String(key), 'empty');
  if (key.length > MAX_KEY_LENGTH) throw new UnsafeKeyError(key, 'too long');
  if (key.includes('\0')) throw new UnsafeKeyError(key, 'NUL byte');
  if (key.startsWith('/')) throw new UnsafeKeyError(key, 'absolute');
  for (const segment of key.split('/')) {
    if (segment === '..' || segment === '.') throw new UnsafeKeyError(key, 'dot segment');
    if (!SEGMENT.test(segment)) throw new UnsafeKeyError(key, 'not a plain name');
  }
}

/** Joins key parts with `/` and checks the result. */
export function joinKey(...parts: string[]): string {
  const key = parts.filter((p) => p.length > 0).join('/');
  assertSafeKey(key);
  return key;
}

/** Where an asset's files live: `lessons/<lessonId>/<assetId>`; the core deletes this prefix with the asset. */
export function assetPrefix(lessonId: string, assetId: string): string {
  return joinKey('lessons', lessonId, assetId);
}
