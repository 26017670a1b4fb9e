import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError, optionalString } from './config';
import { unauthenticated } from './errors';
import type { Logger } from './logger';

/**
 * Secrets services share (never clients): DISCOVERY_TOKEN guards the registry (who may register,
 * heartbeat, deregister or read internal addresses), SERVICE_TOKEN proves that a gRPC call comes from
 * one of our services (as well as the user's JWT it carries). Unset = development mode (warned);
 * NODE_ENV=production refuses to start without them.
 */
export const serviceSecretsEnv = {
  DISCOVERY_TOKEN: optionalString(),
  SERVICE_TOKEN: optionalString(),
};

export type ServiceSecret = keyof typeof serviceSecretsEnv;

/**
 * The secrets a subgraph refuses to start without under NODE_ENV=production: SERVICE_TOKEN always (its
 * gRPC peers), DISCOVERY_TOKEN when it registers with discovery. Exported so deploy checks read the same list.
 */
export const subgraphSecrets = (env: { DISCOVERY_URL?: string }): ServiceSecret[] =>
  env.DISCOVERY_URL ? ['DISCOVERY_TOKEN', 'SERVICE_TOKEN'] : ['SERVICE_TOKEN'];

/** Constant-time comparison of a sent secret with the expected one (hashed first: equal lengths). */
export function secretMatches(sent: string | undefined, expected: string): boolean {
  if (sent === undefined) return false;
  const a = createHash('sha256').update(sent).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Refuses to start in production without `names`; in development warns once per missing secret. */
export function checkSecrets<C extends { NODE_ENV: string }>(service: string, env: C, names: Array<keyof C & string>, logger?: Logger): void {
  const missing = names.filter((n) => !env[n]);
  if (!missing.length) return;
  if (env.NODE_ENV === 'production') throw new ConfigError(service, missing.map((n) => `${n}: required when NODE_ENV=production`));
  logger?.warn({ missing }, 'service secrets not set: service-to-service calls are not authenticated (development only)');
}

/** gRPC metadata key carrying `<service>.<unix seconds>.<HMAC-SHA256>`; the secret itself never travels. */
export const SERVICE_AUTH_KEY = 'x-service-auth';
/** How old a service signature may be (clock skew between hosts included). */
const MAX_SKEW_SECONDS = 300;

const sign = (secret: string, service: string, ts: number) => createHmac('sha256', secret).update(`${service}.${ts}`).digest('hex');

export function serviceAuthValue(secret: string, service: string, nowMs = Date.now()): string {
  const ts = Math.floor(nowMs / 1000);
  return `${service}.${ts}.${sign(secret, service, ts)}`;
}

/** The calling service's name; throws UNAUTHENTICATED for a missing, forged or stale signature. */
export function verifyServiceAuth(value: string | undefined, secret: string, nowMs = Date.now()): string {
  const m = value ? /^([a-z][a-z0-9-]{0,62})\.(\d{1,12})\.([0-9a-f]{64})$/.exec(value) : null;
  if (!m) throw unauthenticated(`Service authentication required: send \`${SERVICE_AUTH_KEY}\` metadata.`);
  const [, service, tsText, mac] = m;
  const ts = Number(tsText);
  if (Math.abs(nowMs / 1000 - ts) > MAX_SKEW_SECONDS || !secretMatches(mac, sign(secret, service!, ts))) {
    throw unauthenticated('Service authentication failed.');
  }
  return service!;
}
