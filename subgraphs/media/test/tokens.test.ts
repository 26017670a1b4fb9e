import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningSecret } from '../src/signing-secret';
import { signUploadTicket, verifyUploadTicket } from '../src/upload-ticket';
import { hmacPlaybackSigner, verifyPlaybackToken } from '../src/lessons/playback';

const secret = 'a-test-signing-secret-of-enough-length-000';
const ticket = { uploadId: 'u1', lessonId: 'l1', assetId: 'a1', ownerId: 'o1', maxBytes: 1000, expiresAt: Math.floor(Date.now() / 1000) + 60 };

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
};

describe('upload tickets', () => {
  test('round trip', () => {
    expect(verifyUploadTicket(signUploadTicket(ticket, secret), secret)).toEqual(ticket);
  });

  test('missing, malformed, tampered, other-secret and expired tickets are UNAUTHENTICATED', () => {
    const token = signUploadTicket(ticket, secret);
    const [p, body, mac] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 'u1', l: 'other', a: 'a1', o: 'o1', m: 10 ** 12, e: ticket.expiresAt })).toString('base64url');
    expect(codeOf(() => verifyUploadTicket(undefined, secret))).toMatch(/^UNAUTHENTICATED: Upload ticket required/);
    expect(codeOf(() => verifyUploadTicket('garbage', secret))).toMatch(/^UNAUTHENTICATED: Invalid upload ticket/);
    expect(codeOf(() => verifyUploadTicket(`${p}.${forged}.${mac}`, secret))).toMatch(/^UNAUTHENTICATED: Invalid/);
    expect(codeOf(() => verifyUploadTicket(`${p}.${body}.${mac.slice(0, -2)}AA`, secret))).toMatch(/^UNAUTHENTICATED: Invalid/);
    expect(codeOf(() => verifyUploadTicket(token, `${secret}x`))).toMatch(/^UNAUTHENTICATED: Invalid/);
    const expired = signUploadTicket({ ...ticket, expiresAt: Math.floor(Date.now() / 1000) - 1 }, secret);
    expect(codeOf(() => verifyUploadTicket(expired, secret))).toMatch(/^UNAUTHENTICATED: Upload ticket expired/);
    expect(verifyUploadTicket(expired, secret, { allowExpired: true }).lessonId).toBe('l1');
  });
});

describe('playback tokens', () => {
  const signer = hmacPlaybackSigner(secret, '/media');
  const grant = { lessonId: 'l1', assetId: 'a1', userId: 'u1', expiresAt: Math.floor(Date.now() / 1000) + 60 };

  test('the path carries a token for that lesson, asset and user', () => {
    const path = signer.signPlaybackPath(grant);
    expect(path).toMatch(/^\/media\/play\/pt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyPlaybackToken(path.split('/')[3], secret)).toEqual(grant);
  });

  test('expired, tampered and cross-purpose tokens are refused', () => {
    const token = signer.signPlaybackPath(grant).split('/')[3];
    expect(verifyPlaybackToken(signer.signPlaybackPath({ ...grant, expiresAt: 1 }).split('/')[3], secret)).toBeUndefined();
    expect(verifyPlaybackToken(token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), secret)).toBeUndefined();
    // an upload ticket is never a playback token, nor the other way round, even with the same secret
    expect(verifyPlaybackToken(signUploadTicket(ticket, secret), secret)).toBeUndefined();
    expect(codeOf(() => verifyUploadTicket(token, secret))).toMatch(/^UNAUTHENTICATED/);
  });
});

describe('MEDIA_SIGNING_SECRET', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'media-secret-'));

  test('required in production, at least 32 characters when given', () => {
    expect(() => loadSigningSecret({ NODE_ENV: 'production', JWT_KEYS_DIR: dir() })).toThrow(/MEDIA_SIGNING_SECRET: required when NODE_ENV=production/);
    expect(() => loadSigningSecret({ NODE_ENV: 'development', MEDIA_SIGNING_SECRET: 'short' })).toThrow(/at least 32 characters/);
    expect(loadSigningSecret({ NODE_ENV: 'production', MEDIA_SIGNING_SECRET: secret })).toBe(secret);
  });

  test('in development one secret is generated and shared by every replica using the same keys folder', () => {
    const keys = dir();
    const first = loadSigningSecret({ NODE_ENV: 'development', JWT_KEYS_DIR: keys });
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(loadSigningSecret({ NODE_ENV: 'development', JWT_KEYS_DIR: keys })).toBe(first);
    rmSync(keys, { recursive: true, force: true });
  });
});
