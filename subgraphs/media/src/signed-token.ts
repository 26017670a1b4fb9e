import { createHmac } from 'node:crypto';
import { secretMatches } from '@dream/common';

/**
 * Compact HMAC-signed tokens: `<prefix>.<base64url(JSON)>.<base64url(HMAC-SHA256)>`, the key derived from
 * the signing secret per purpose, so a token made for one purpose (an upload ticket) never verifies as
 * another (a playback token). base64url keeps them safe inside URL paths and headers.
 */
const MAX_TOKEN_LENGTH = 2048;

const keyFor = (secret: string, purpose: string) => createHmac('sha256', secret).update(`dream-and-study/media/${purpose}`).digest();
const macOf = (secret: string, purpose: string, prefix: string, payload: string) =>
  createHmac('sha256', keyFor(secret, purpose)).update(`${prefix}.${payload}`).digest('base64url');

export function signToken(prefix: string, purpose: string, body: object, secret: string): string {
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${prefix}.${payload}.${macOf(secret, purpose, prefix, payload)}`;
}

/** The parsed JSON body when the token has the prefix and a valid MAC (compared in constant time); else undefined. */
export function openToken(prefix: string, purpose: string, token: string | undefined, secret: string): unknown {
  const parts = token && token.length <= MAX_TOKEN_LENGTH ? token.split('.') : [];
  if (parts.length !== 3 || parts[0] !== prefix) return undefined;
  const [, payload, sent] = parts as [string, string, string];
  if (!secretMatches(sent, macOf(secret, purpose, prefix, payload))) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
