import { generateKeyPairSync, randomUUID, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileOnce } from './write-once';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { unauthenticated } from './errors';
import type { Logger } from './logger';

export type Role = 'STUDENT' | 'OWNER';
export const ROLES: readonly Role[] = ['STUDENT', 'OWNER'];

/** What a verified token tells about its bearer. */
export interface AuthUser {
  id: string;
  username: string;
  roles: Role[];
  /** Token id, used for revocation. */
  jti: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export const JWT_ISSUER = 'dream-and-study';
export const JWT_AUDIENCE = 'dream-and-study-api';
/** Only RS256: `none` and HMAC algorithms are refused whatever the token header says. */
export const JWT_ALGORITHMS: jwt.Algorithm[] = ['RS256'];

const claimsSchema = z.object({
  sub: z.string().min(1),
  username: z.string().min(1),
  roles: z.array(z.enum(['STUDENT', 'OWNER'])).min(1),
  jti: z.string().min(1),
  exp: z.number(),
});

export interface JwtKeys {
  privateKey?: string;
  publicKey: string;
}

export interface JwtOptions {
  keys: JwtKeys;
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
}

export class JwtService {
  readonly ttlSeconds: number;
  private readonly issuer: string;
  private readonly audience: string;
  /**
   * The public key parsed once: given a PEM string, jsonwebtoken parses it (createPublicKey) on every
   * verify, one of the largest items in a courses replica's CPU profile under the BuyCourse benchmark.
   */
  private publicKeyObject?: KeyObject;

  constructor(private readonly opts: JwtOptions) {
    this.ttlSeconds = opts.ttlSeconds ?? 3600;
    this.issuer = opts.issuer ?? JWT_ISSUER;
    this.audience = opts.audience ?? JWT_AUDIENCE;
  }

  sign(user: { id: string; username: string; roles: Role[] }): string {
    if (!this.opts.keys.privateKey) throw new Error('This service has no JWT private key and cannot issue tokens.');
    return jwt.sign({ username: user.username, roles: user.roles }, this.opts.keys.privateKey, {
      algorithm: 'RS256',
      subject: user.id,
      issuer: this.issuer,
      audience: this.audience,
      expiresIn: this.ttlSeconds,
      jwtid: randomUUID(),
    });
  }

  /**
   * Tokens already verified by this instance, keyed by the whole token string (so only the very same
   * signed bytes hit), each good until its own `exp`. A client sends the same token on every call;
   * this saves the RSA verify and the decode per call. Bounded: the oldest entry goes when full.
   * Revocation is not cached here: callers still check the denylist on every call (Authenticator).
   */
  private readonly verified = new Map<string, AuthUser>();
  private static readonly VERIFIED_MAX = 10_000;

  /** Verifies signature, algorithm, expiry, not-before, issuer and audience; throws UNAUTHENTICATED. */
  verify(token: string): AuthUser {
    const hit = this.verified.get(token);
    if (hit) {
      // the same expiry rule as jsonwebtoken: expired when now >= exp
      if (Math.floor(Date.now() / 1000) < hit.exp) return { ...hit, roles: [...hit.roles] };
      this.verified.delete(token);
      throw unauthenticated('Token has expired.');
    }
    const user = this.verifyUncached(token);
    if (this.verified.size >= JwtService.VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, user);
    return { ...user, roles: [...user.roles] };
  }

  private verifyUncached(token: string): AuthUser {
    let payload: unknown;
    try {
      this.publicKeyObject ??= createPublicKey(this.opts.keys.publicKey);
      payload = jwt.verify(token, this.publicKeyObject, {
        algorithms: JWT_ALGORITHMS,
        issuer: this.issuer,
        audience: this.audience,
      });
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'TokenExpiredError') throw unauthenticated('Token has expired.');
      if (name === 'NotBeforeError') throw unauthenticated('Token is not valid yet.');
      throw unauthenticated('Invalid token.');
    }
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) throw unauthenticated('Invalid token.');
    const c = parsed.data;
    return { id: c.sub, username: c.username, roles: c.roles, jti: c.jti, exp: c.exp };
  }
}

type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null | undefined };

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(n: string): string | null | undefined }).get(name) ?? undefined;
  }
  const v = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A token as a client sends it, `Bearer <token>` or bare; undefined when there is none. */
export function tokenFromValue(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const token = value.trim().replace(/^Bearer\s+/i, '').trim();
  return token || undefined;
}

/**
 * The token from `Authorization: Bearer …` or the spec's `jwt: …` header (which clients
 * sometimes send as `Bearer …` too). Returns undefined when neither is present.
 */
export function extractToken(headers: HeaderBag): string | undefined {
  return tokenFromValue(header(headers, 'authorization')) ?? tokenFromValue(header(headers, 'jwt'));
}

export function hasRole(user: Pick<AuthUser, 'roles'> | undefined, role: Role): boolean {
  return !!user && user.roles.includes(role);
}

/**
 * Why a signing service's key variables cannot be used, if they cannot (empty when fine). The service
 * that signs (users) must have both halves or neither: with only JWT_PRIVATE_KEY it would sign with that
 * key while courses and the gateway, which get JWT_PUBLIC_KEY only, fall back to the development pair and
 * refuse every token; with only JWT_PUBLIC_KEY it could not sign at all; a public key from another pair
 * fails the same way, later and less clearly.
 */
export function signingKeyProblems(env: { JWT_PRIVATE_KEY?: string; JWT_PUBLIC_KEY?: string }): string[] {
  const { JWT_PRIVATE_KEY: priv, JWT_PUBLIC_KEY: pub } = env;
  const hint = 'set both (`node deploy/jwt-keys-env.cjs` prints a pair) or neither (development keys)';
  if (priv && !pub) {
    return [`JWT_PRIVATE_KEY is set but JWT_PUBLIC_KEY is not: the services that verify tokens read JWT_PUBLIC_KEY and would reject every token signed here; ${hint}`];
  }
  if (pub && !priv) return [`JWT_PUBLIC_KEY is set but JWT_PRIVATE_KEY is not: this service signs tokens and needs the private key; ${hint}`];
  if (!priv || !pub) return [];
  const pem = (k: string) => k.replace(/\\n/g, '\n');
  let derived: string;
  try {
    derived = createPublicKey(pem(priv)).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    return ['JWT_PRIVATE_KEY is not a PEM private key'];
  }
  try {
    const given = createPublicKey(pem(pub)).export({ type: 'spki', format: 'pem' }).toString();
    return given === derived ? [] : ['JWT_PUBLIC_KEY is not the public half of JWT_PRIVATE_KEY: tokens signed here would fail verification everywhere'];
  } catch {
    return ['JWT_PUBLIC_KEY is not a PEM public key'];
  }
}

/**
 * Keys from the environment, or a development pair generated once under `dir` (default ./data/keys)
 * with a warning, so `npm start` works with no set-up and every replica shares the same pair.
 */
export function loadJwtKeys(
  env: { JWT_PRIVATE_KEY?: string; JWT_PUBLIC_KEY?: string; JWT_KEYS_DIR?: string },
  logger?: Logger,
): JwtKeys {
  const unescape = (k: string) => k.replace(/\\n/g, '\n');
  if (env.JWT_PUBLIC_KEY || env.JWT_PRIVATE_KEY) {
    const privateKey = env.JWT_PRIVATE_KEY ? unescape(env.JWT_PRIVATE_KEY) : undefined;
    const publicKey = env.JWT_PUBLIC_KEY
      ? unescape(env.JWT_PUBLIC_KEY)
      : createPublicKey(privateKey as string).export({ type: 'spki', format: 'pem' }).toString();
    return { privateKey, publicKey };
  }
  const dir = env.JWT_KEYS_DIR ?? join(process.cwd(), 'data', 'keys');
  const privPath = join(dir, 'jwt-private.pem');
  const pubPath = join(dir, 'jwt-public.pem');
  if (!existsSync(privPath)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    // Every replica ends up with the same complete key, whichever wrote it first.
    writeFileOnce(privPath, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    logger?.warn({ dir }, 'JWT_PRIVATE_KEY/JWT_PUBLIC_KEY not set: generated a development RSA key pair. Do not use it in production.');
  } else {
    logger?.warn({ dir }, 'JWT_PRIVATE_KEY/JWT_PUBLIC_KEY not set: using the development RSA key pair. Do not use it in production.');
  }
  const privateKey = readFileSync(privPath, 'utf8');
  // The public key is derived from the private one; the .pem copy is for other tools (curl, jwt.io).
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  if (!existsSync(pubPath)) writeFileSync(`${pubPath}`, publicKey);
  return { privateKey, publicKey };
}
