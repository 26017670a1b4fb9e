import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, writeFileOnce, type Logger } from '@dream/common';

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
  // Every replica on the host ends up with the same secret, whichever wrote it first.
  if (!existsSync(path)) writeFileOnce(path, randomBytes(32).toString('base64url'));
  logger?.warn({ path }, 'MEDIA_SIGNING_SECRET not set: using a generated development secret. Do not use it in production.');
  return readFileSync(path, 'utf8').trim();
}
