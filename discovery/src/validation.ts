import { z } from 'zod';
import { parseInput, routesSchema } from '@dream/common';
import type { InstanceInput } from './registry';

export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** host:port or grpc://host:port (IPv6 hosts in brackets); port 1-65535. */
function isGrpcAddress(v: string): boolean {
  const m = /^(?:grpcs?:\/\/)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(v);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}

const registrationSchema = z.object({
  service: z
    .string()
    .regex(SERVICE_NAME, 'must be lower-case letters, digits and dashes, starting with a letter (max 63)'),
  url: z.string().max(2048).refine(isHttpUrl, 'must be an absolute http(s) URL'),
  grpcUrl: z.string().max(512).refine(isGrpcAddress, 'must be host:port or grpc://host:port').optional(),
  sdlHash: z
    .string()
    .regex(/^[A-Za-z0-9+/=_:.-]{1,128}$/, 'must be 1-128 characters of a hash (hex, base64 or algo:digest)')
    .optional(),
  routes: routesSchema.optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** Validates a registration body; the 400 names the first field at fault (and lists all). */
export function parseRegistration(body: unknown): InstanceInput {
  return parseInput(registrationSchema, body, { root: 'body', summary: ([first]) => `Invalid registration: ${first.field} ${first.message}` });
}
