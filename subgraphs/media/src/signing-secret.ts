import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Logger } from '@dream/common';

/** Shortest MEDIA_SIGNING_SECRET accepted: 32 bytes of entropy as base64 is 43 characters. */
export const MIN_SIGNING_SECRET_LENGTH = 32;

/**
 * MEDIA_SIGNING_SECRET, or in development a random one generated once under `keysDir` (default
 * ./data/keys, next to the JWT development pair) with a warning, so every replica on the host signs and
 * verifies with the same key. Production requires the variable (checked with the other secrets).
 */
export function loadSigningSecret(env: { MEDIA_SIGNING_SECRET?: string; JWT_KEYS_DIR?: string; NODE_ENV: string }, logger?: Logger): string {
  if (env.MEDIA_SIGNING_SECRET) {
    if (env.MEDIA_SIGNING_SECRET.length < MIN_SIGNING_SECRET_LENGTH) {
      throw new ConfigError('media', [`MEDIA_SIGNING_SECRET: at least ${MIN_SIGNING_SECRET_LENGTH} characters`]);
    }
    return env.MEDIA_SIGNING_SECRET;
  }
  // Fail closed: a secret made up on one host would sign URLs no other replica accepts, or be guessable.
  if (env.NODE_ENV === 'production') throw new ConfigError('media', ['MEDIA_SIGNING_SECRET: required when NODE_ENV=production']);
  const dir = env.JWT_KEYS_DIR ?? join(process.cwd(), 'data', 'keys');
  const path = join(dir, 'media-signing.secret');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    // Written aside and linked into place: atomic, and a replica that loses the race uses the winner's.
    const tmp = join(dir, `.media-signing.${process.pid}.${randomUUID()}`);
    writeFileSync(tmp, randomBytes(32).toString('base64url'), { mode: 0o600 });
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      unlinkSync(tmp);
    }
  }
  logger?.warn({ path }, 'MEDIA_SIGNING_SECRET not set: using a generated development secret. Do not use it in production.');
  return readFileSync(path, 'utf8').trim();
}
