import { createHmac } from 'node:crypto';
import { AppError } from '@dream/common';
import { openToken, signToken } from '../src/signed-token';
import { signUploadTicket, verifyUploadTicket, type UploadTicket } from '../src/upload-ticket';
import { MIN_SECRET_BYTES, playbackUrls, signPlaybackToken, verifyPlaybackToken, type PlaybackClaims } from '../src/playback/token';

// The media tokens on their own, without a server: the edges of what each format accepts (lengths,
// expiry instants, payload shapes that only a correctly signed token can carry).

const SECRET = 'a-test-signing-secret-of-enough-length-000';
const NOW_S = 1_900_000_000;
const NOW_MS = NOW_S * 1000;

/** The code and message an upload ticket was refused with, or 'accepted'. */
function ticketVerdict(token: string | undefined, opts: { nowMs?: number; allowExpired?: boolean } = { nowMs: NOW_MS }): string {
  try {
    verifyUploadTicket(token, SECRET, opts);
    return 'accepted';
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return `${e.code}: ${e.message}`;
  }
}

describe('signed tokens (signToken / openToken)', () => {
  const body = { a: 1, b: 'x' };

  it('opens what it signed, for the same prefix, purpose and secret only', () => {
    const token = signToken('pfx', 'purpose-a', body, SECRET);
    expect(token.split('.')).toHaveLength(3);
    expect(token.startsWith('pfx.')).toBe(true);
    expect(openToken('pfx', 'purpose-a', token, SECRET)).toEqual(body);
    expect(openToken('pfx', 'purpose-b', token, SECRET)).toBeUndefined();
    expect(openToken('pfx', 'purpose-a', token, `${SECRET}x`)).toBeUndefined();
    expect(openToken('other', 'purpose-a', token, SECRET)).toBeUndefined();
  });

  it('refuses a valid token under another prefix, with a segment appended, or missing', () => {
    const [, payload, mac] = signToken('pfx', 'p', body, SECRET).split('.');
    expect(openToken('pfx', 'p', `zzz.${payload}.${mac}`, SECRET)).toBeUndefined();
    expect(openToken('pfx', 'p', `pfx.${payload}.${mac}.extra`, SECRET)).toBeUndefined();
    expect(openToken('pfx', 'p', `pfx.${payload}`, SECRET)).toBeUndefined();
    expect(openToken('pfx', 'p', undefined, SECRET)).toBeUndefined();
    expect(openToken('pfx', 'p', '', SECRET)).toBeUndefined();
  });

  it('accepts a token of exactly 2048 characters and refuses a longer one unread', () => {
    // prefix "pfx" + 2 dots + 43 MAC characters + a payload of 2000 base64url characters (1500 bytes of JSON)
    const sized = (jsonBytes: number) => signToken('pfx', 'p', { pad: 'x'.repeat(jsonBytes - '{"pad":""}'.length) }, SECRET);
    const exact = sized(1500);
    expect(exact).toHaveLength(2048);
    expect(openToken('pfx', 'p', exact, SECRET)).toEqual({ pad: 'x'.repeat(1490) });
    const longer = sized(1503);
    expect(longer.length).toBeGreaterThan(2048);
    expect(openToken('pfx', 'p', longer, SECRET)).toBeUndefined();
  });
});

describe('upload tickets at their edges', () => {
  const ticket: UploadTicket = { uploadId: 'u1', lessonId: 'l1', assetId: 'a1', ownerId: 'o1', maxBytes: 1000, expiresAt: NOW_S + 60 };
  /** A body signed with the upload-ticket key, as only our own signer could make it. */
  const forge = (wire: unknown) => signToken('ut1', 'upload-ticket', wire as object, SECRET);
  const wire = (over: Record<string, unknown> = {}) => ({ u: 'u1', l: 'l1', a: 'a1', o: 'o1', m: 1000, e: NOW_S + 60, ...over });

  it('carries every field through', () => {
    const other: UploadTicket = { uploadId: 'U-2', lessonId: 'L-2', assetId: 'A-2', ownerId: 'O-2', maxBytes: 7, expiresAt: NOW_S + 1 };
    expect(verifyUploadTicket(signUploadTicket(other, SECRET), SECRET, { nowMs: NOW_MS })).toEqual(other);
    expect(verifyUploadTicket(forge(wire()), SECRET, { nowMs: NOW_MS })).toEqual(ticket);
  });

  it('expires at its expiry second exactly, judged by the real clock when no time is given', () => {
    const token = signUploadTicket(ticket, SECRET);
    expect(ticketVerdict(token, { nowMs: ticket.expiresAt * 1000 - 1 })).toBe('accepted');
    expect(ticketVerdict(token, { nowMs: ticket.expiresAt * 1000 })).toBe('UNAUTHENTICATED: Upload ticket expired: ask for a new one with requestLessonUpload.');
    expect(ticketVerdict(token, { nowMs: ticket.expiresAt * 1000, allowExpired: false })).toMatch(/expired/);
    expect(ticketVerdict(token, { nowMs: ticket.expiresAt * 1000, allowExpired: true })).toBe('accepted');
    // NOW_S is in 2030: by the real clock this ticket is still good, one that ended a second ago is not
    expect(ticketVerdict(token, {})).toBe('accepted');
    const ended = signUploadTicket({ ...ticket, expiresAt: Math.floor(Date.now() / 1000) - 1 }, SECRET);
    expect(ticketVerdict(ended, {})).toMatch(/^UNAUTHENTICATED: Upload ticket expired/);
    expect(ticketVerdict(ended, { allowExpired: true })).toBe('accepted');
  });

  it('refuses a missing ticket with the header to send, and an empty one alike', () => {
    const required = 'UNAUTHENTICATED: Upload ticket required: send `Authorization: Bearer <token>` from requestLessonUpload.';
    expect(ticketVerdict(undefined)).toBe(required);
    expect(ticketVerdict('')).toBe(required);
  });

  it('accepts ids of 1 to 128 characters and refuses empty, longer or non-string ones', () => {
    for (const field of ['u', 'l', 'a', 'o']) {
      expect([field, ticketVerdict(forge(wire({ [field]: 'x' })))]).toEqual([field, 'accepted']);
      expect([field, ticketVerdict(forge(wire({ [field]: 'x'.repeat(128) })))]).toEqual([field, 'accepted']);
      for (const bad of ['', 'x'.repeat(129), 5, null]) {
        expect([field, bad, ticketVerdict(forge(wire({ [field]: bad })))]).toEqual([field, bad, 'UNAUTHENTICATED: Invalid upload ticket.']);
      }
      const missing: Record<string, unknown> = wire();
      delete missing[field];
      expect([field, ticketVerdict(forge(missing))]).toEqual([field, 'UNAUTHENTICATED: Invalid upload ticket.']);
    }
  });

  it('accepts a size limit of one byte or more (whole bytes) and an integer expiry only', () => {
    expect(ticketVerdict(forge(wire({ m: 1 })))).toBe('accepted');
    for (const over of [{ m: 0 }, { m: -5 }, { m: 1.5 }, { m: '1000' }, { m: 2 ** 53 }, { e: NOW_S + 60.5 }, { e: String(NOW_S + 60) }, { e: undefined }]) {
      expect([over, ticketVerdict(forge(wire(over)))]).toEqual([over, 'UNAUTHENTICATED: Invalid upload ticket.']);
    }
  });

  it('refuses signed bodies that are not a ticket object', () => {
    for (const body of [null, 'u1', 42, [1, 2], {}]) {
      expect([body, ticketVerdict(forge(body))]).toEqual([body, 'UNAUTHENTICATED: Invalid upload ticket.']);
    }
  });

  it('refuses a ticket whose signed payload is not JSON', () => {
    const payload = Buffer.from('{not json').toString('base64url');
    const key = createHmac('sha256', SECRET).update('dream-and-study/media/upload-ticket').digest();
    const mac = createHmac('sha256', key).update(`ut1.${payload}`).digest('base64url');
    expect(ticketVerdict(`ut1.${payload}.${mac}`)).toBe('UNAUTHENTICATED: Invalid upload ticket.');
  });
});

describe('playback tokens at their edges', () => {
  const claims = (over: Partial<PlaybackClaims> = {}): PlaybackClaims => ({ lessonId: 'L1', assetId: 'A1', userId: 'U1', expiresAt: NOW_S + 60, ...over });
  /** A token whose MAC is right for `payload` (the playback purpose prefix), whatever the payload says. */
  const signedPayload = (json: string) => {
    const payload = Buffer.from(json).toString('base64url');
    return `${payload}.${createHmac('sha256', SECRET).update(`playback.v1.${payload}`).digest('base64url')}`;
  };

  it('carries every claim through and expires at its expiry second exactly', () => {
    const c = claims({ lessonId: 'L-9', assetId: 'A-9', userId: 'U-9' });
    const token = signPlaybackToken(c, SECRET);
    expect(verifyPlaybackToken(token, SECRET, c.expiresAt * 1000 - 1)).toEqual({ ok: true, claims: c });
    expect(verifyPlaybackToken(token, SECRET, c.expiresAt * 1000)).toEqual({ ok: false, reason: 'expired' });
    // without a time: the real clock (NOW_S is in 2030)
    expect(verifyPlaybackToken(token, SECRET)).toEqual({ ok: true, claims: c });
  });

  it('needs a key of at least 32 bytes to sign or verify', () => {
    expect(MIN_SECRET_BYTES).toBe(32);
    const key32 = 'k'.repeat(32);
    const token = signPlaybackToken(claims(), key32);
    expect(verifyPlaybackToken(token, key32, NOW_MS).ok).toBe(true);
    expect(verifyPlaybackToken(token, Buffer.from(key32), NOW_MS).ok).toBe(true);
    expect(() => signPlaybackToken(claims(), 'k'.repeat(31))).toThrow('The media signing secret must be at least 32 bytes.');
    expect(() => verifyPlaybackToken(token, 'k'.repeat(31), NOW_MS)).toThrow('The media signing secret must be at least 32 bytes.');
    // counted in bytes: 16 two-byte characters are enough
    expect(verifyPlaybackToken(signPlaybackToken(claims(), 'é'.repeat(16)), 'é'.repeat(16), NOW_MS).ok).toBe(true);
  });

  it('tells a malformed token from a bad signature', () => {
    const token = signPlaybackToken(claims(), SECRET);
    const [payload, mac] = token.split('.');
    expect(verifyPlaybackToken(`.${mac}`, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyPlaybackToken(`${payload}.${mac}.x`, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyPlaybackToken(`${payload}.x.${mac}`, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyPlaybackToken(payload, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyPlaybackToken(`${payload}.`, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyPlaybackToken(`${payload}.${mac.slice(0, 20)}`, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyPlaybackToken(`${payload}.${mac}AAAA`, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'signature' });
  });

  it('accepts a token of exactly 2048 characters and refuses a longer one as malformed', () => {
    // 43 MAC characters + a dot + a payload of 2004 base64url characters (1503 bytes of JSON)
    const sized = (jsonBytes: number) => {
      const fixed = JSON.stringify(['', 'A1', 'U1', NOW_S + 60]).length;
      return signPlaybackToken(claims({ lessonId: 'L'.repeat(jsonBytes - fixed) }), SECRET);
    };
    const exact = sized(1503);
    expect(exact).toHaveLength(2048);
    expect(verifyPlaybackToken(exact, SECRET, NOW_MS).ok).toBe(true);
    const longer = sized(1506);
    expect(longer.length).toBeGreaterThan(2048);
    expect(verifyPlaybackToken(longer, SECRET, NOW_MS)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses correctly signed payloads that are not four claims of the right types', () => {
    const good = JSON.stringify(['L1', 'A1', 'U1', NOW_S + 60]);
    expect(verifyPlaybackToken(signedPayload(good), SECRET, NOW_MS)).toEqual({ ok: true, claims: claims() });
    for (const json of [
      '{not json',
      '{"lessonId":"L1"}',
      JSON.stringify(['L1', 'A1', 'U1']),
      JSON.stringify(['L1', 'A1', 'U1', NOW_S + 60, 'x']),
      JSON.stringify([1, 'A1', 'U1', NOW_S + 60]),
      JSON.stringify(['L1', 1, 'U1', NOW_S + 60]),
      JSON.stringify(['L1', 'A1', 1, NOW_S + 60]),
      JSON.stringify(['L1', 'A1', 'U1', String(NOW_S + 60)]),
      JSON.stringify(['L1', 'A1', 'U1', NOW_S + 60.5]),
    ]) {
      expect([json, verifyPlaybackToken(signedPayload(json), SECRET, NOW_MS)]).toEqual([json, { ok: false, reason: 'malformed' }]);
    }
  });

  it('puts the three URLs under one token, whatever trailing slashes the origin has', () => {
    const c = claims();
    const token = signPlaybackToken(c, SECRET);
    for (const base of ['https://dream.test', 'https://dream.test/', 'https://dream.test//']) {
      expect(playbackUrls(base, c, SECRET)).toEqual({
        hlsUrl: `https://dream.test/media/play/${token}/master.m3u8`,
        mp4Url: `https://dream.test/media/play/${token}/video.mp4`,
        posterUrl: `https://dream.test/media/play/${token}/poster.jpg`,
        expiresAt: new Date(c.expiresAt * 1000).toISOString(),
      });
    }
    expect(playbackUrls('', c, SECRET).hlsUrl).toBe(`/media/play/${token}/master.m3u8`);
    expect(playbackUrls('https://dream.test/app/', c, SECRET).posterUrl).toBe(`https://dream.test/app/media/play/${token}/poster.jpg`);
  });
});
