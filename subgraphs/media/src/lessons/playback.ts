import { openToken, signToken } from '../signed-token';

/**
 * The playback token module's side the core needs: a path prefix that carries a short-lived token for one
 * (lesson, asset, user), under which the asset's files are served. Relative URIs inside the HLS
 * playlists resolve under the same prefix, so they inherit the token.
 *
 * Declared here so the core does not depend on how the playback routes are built; `hmacPlaybackSigner`
 * below is the signer the routes verify with `verifyPlaybackToken`.
 */
export interface PlaybackPathSigner {
  /** e.g. `/media/play/<token>`; files are `<prefix>/<name>` (see PLAYBACK_FILES). */
  signPlaybackPath(grant: PlaybackGrant): string;
}

export interface PlaybackGrant {
  lessonId: string;
  assetId: string;
  userId: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/** Names of an asset's outputs as the transcoder writes them. */
export const PLAYBACK_FILES = { hls: 'master.m3u8', mp4: 'video.mp4', poster: 'poster.jpg' } as const;

const PREFIX = 'pt1';
const PURPOSE = 'playback';

/** Signs `<publicPath>/play/<token>` with a key derived from MEDIA_SIGNING_SECRET for playback only. */
export function hmacPlaybackSigner(secret: string, publicPath: string): PlaybackPathSigner {
  return {
    signPlaybackPath: (g) => `${publicPath}/play/${signToken(PREFIX, PURPOSE, { l: g.lessonId, a: g.assetId, u: g.userId, e: g.expiresAt }, secret)}`,
  };
}

/** The grant of a playback token, or undefined when it is malformed, tampered or expired (→ 403). */
export function verifyPlaybackToken(token: string, secret: string, nowMs = Date.now()): PlaybackGrant | undefined {
  const w = openToken(PREFIX, PURPOSE, token, secret) as { l?: unknown; a?: unknown; u?: unknown; e?: unknown } | undefined;
  if (!w || typeof w.l !== 'string' || typeof w.a !== 'string' || typeof w.u !== 'string' || !Number.isSafeInteger(w.e)) return undefined;
  if ((w.e as number) * 1000 <= nowMs) return undefined;
  return { lessonId: w.l, assetId: w.a, userId: w.u, expiresAt: w.e as number };
}
