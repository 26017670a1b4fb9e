import { z } from 'zod';

/**
 * A path prefix a service serves over plain HTTP through the gateway (uploads, files, webhooks),
 * announced in its discovery registration. The gateway proxies every request under `prefix` to the
 * pool of instances announcing it.
 */
export interface RouteAnnouncement {
  /** Absolute, ends with `/`, e.g. `/media/`. */
  prefix: string;
  /**
   * For protocols whose requests must keep reaching one instance (a resumable upload): requests whose
   * path starts with `afterPrefix` use the next path segment as the key, hashed to an instance.
   */
  sticky?: { afterPrefix: string };
  /** Largest request body the service accepts per request; the gateway caps it with its own limit. */
  maxBodyBytes?: number;
}

/** What a service may pass to announce(): a bare prefix is a route with no stickiness and the gateway's body limit. */
export type RouteInput = string | RouteAnnouncement;

/** Paths the gateway serves itself; an announced prefix may neither sit under one nor contain one. */
export const GATEWAY_RESERVED_PATHS = ['/graphql', '/graphiql', '/api', '/ws', '/live', '/health', '/ready', '/metrics', '/courses'] as const;

const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** Why `prefix` cannot be announced, or undefined when it can. */
export function routePrefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/') || !prefix.endsWith('/')) return 'must be an absolute path prefix that starts and ends with "/"';
  const segments = prefix.slice(1, -1).split('/');
  if (prefix === '/' || segments.some((s) => !SEGMENT.test(s))) {
    return 'must name at least one segment of letters, digits, ".", "_", "~" or "-" (no empty segments)';
  }
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain "." or ".." segments';
  for (const reserved of GATEWAY_RESERVED_PATHS) {
    // "/api/x/" lies under /api; "/api/" is /api itself: both would shadow or be shadowed by the gateway's own routes
    if (prefix.startsWith(`${reserved}/`)) return `overlaps the gateway's own route ${reserved}`;
  }
  return undefined;
}

const prefixSchema = z.string().max(256).superRefine((v, ctx) => {
  const problem = routePrefixProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const announcementSchema = z
  .object({
    prefix: prefixSchema,
    sticky: z.object({ afterPrefix: prefixSchema }).strict().optional(),
    maxBodyBytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.sticky && !r.sticky.afterPrefix.startsWith(r.prefix)) {
      ctx.addIssue({ code: 'custom', path: ['sticky', 'afterPrefix'], message: `must lie under the route's prefix ${r.prefix}` });
    }
  });

/** The `routes` field of a registration: bare prefixes or announcements, at most 16, no prefix twice. */
export const routesSchema = z
  // a bare prefix is read as { prefix }, so errors name routes.N.prefix either way
  .array(z.preprocess((v) => (typeof v === 'string' ? { prefix: v } : v), announcementSchema))
  .max(16)
  .superRefine((routes, ctx) => {
    const seen = new Set<string>();
    routes.forEach((r, i) => {
      if (seen.has(r.prefix)) ctx.addIssue({ code: 'custom', path: [i], message: `announces ${r.prefix} twice` });
      seen.add(r.prefix);
    });
  });

/** The route list in its wire shape (what discovery stores and answers). */
export const normalizeRoutes = (routes: readonly RouteInput[]): RouteAnnouncement[] =>
  routes.map((r) => (typeof r === 'string' ? { prefix: r } : r));
