import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a playback token grants: one user may play one asset of one lesson until `expiresAt`. */
export interface PlaybackClaims {
  lessonId: string;
  assetId: string;
  userId: string;
  /** Unix time in seconds. */
  expiresAt: number;
}

/** HMAC keys shorter than this are refused: a guessable key would let anyone mint playback links. */
export const MIN_SECRET_BYTES = 32;

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function mac(secret: string | Buffer, payload: string): Buffer {
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    throw new Error(`The media signing secret must be at least ${MIN_SECRET_BYTES} bytes.`);
  }
  // the purpose prefix keeps a playback token from ever verifying as another kind of token signed with the same key
  return createHmac('sha256', secret).update(`playback.v1.${payload}`).digest();
}

/**
 * Signs `claims` into a token made only of URL-safe characters (`<payload>.<mac>`, base64url), so it can
 * be one path segment: `/media/play/<token>/master.m3u8`, and the relative URIs inside the playlists
 * (`360p/index.m3u8`, `seg_001.ts`) carry it without being rewritten.
 */
export function signPlaybackToken(claims: PlaybackClaims, secret: string | Buffer): string {
  const payload = b64url(JSON.stringify([claims.lessonId, claims.assetId, claims.userId, claims.expiresAt]));
  return `${payload}.${b64url(mac(secret, payload))}`;
}

function parseClaims(payload: string): PlaybackClaims | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 4) return null;
    const [lessonId, assetId, userId, expiresAt] = v as unknown[];
    if (typeof lessonId !== 'string' || typeof assetId !== 'string' || typeof userId !== 'string') return null;
    if (typeof expiresAt !== 'number' || !Number.isInteger(expiresAt)) return null;
    return { lessonId, assetId, userId, expiresAt };
  } catch {
    return null;
  }
}

export type PlaybackVerdict = { ok: true; claims: PlaybackClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

/** Checks the MAC in constant time, then the expiry; `now` is in milliseconds. */
export function verifyPlaybackToken(token: string, secret: string | Buffer, now = Date.now()): PlaybackVerdict {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.') || token.length > 2048) return { ok: false, reason: 'malformed' };
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(secret, payload);
  // equal lengths first: timingSafeEqual throws otherwise, and the length of a SHA-256 MAC is no secret
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  const claims = parseClaims(payload);
  if (!claims) return { ok: false, reason: 'malformed' };
  if (claims.expiresAt * 1000 <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

/** Path prefix of every playback route. */
export const PLAYBACK_PATH = '/media/play/';

export interface PlaybackUrls {
  hlsUrl: string;
  mp4Url: string;
  posterUrl: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** The URLs of `Playback` for signed `claims`; `base` is the public origin (may be '' for relative URLs). */
export function playbackUrls(base: string, claims: PlaybackClaims, secret: string | Buffer): PlaybackUrls {
  const root = `${base.replace(/\/+$/, '')}${PLAYBACK_PATH}${signPlaybackToken(claims, secret)}`;
  return {
    hlsUrl: `${root}/master.m3u8`,
    mp4Url: `${root}/video.mp4`,
    posterUrl: `${root}/poster.jpg`,
    expiresAt: new Date(claims.expiresAt * 1000).toISOString(),
  };
}
