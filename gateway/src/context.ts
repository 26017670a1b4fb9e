import type { AuthUser, Logger } from '@dream/common';

/** Per-request context the gateway hands to Apollo and, through it, to the data sources. */
export interface GatewayContext {
  requestId: string;
  /** True when the caller sent the request id (it is then part of the in-flight merge key: it is caller input). */
  requestIdFromClient?: boolean;
  logger: Logger;
  /** The verified bearer token, forwarded to subgraphs as `Authorization: Bearer <token>`. */
  token?: string;
  user?: AuthUser;
  /** X-Forwarded-For to send upstream: the client's chain plus the address we saw. */
  forwardedFor?: string;
  /** Subgraphs whose part of the answer came from expired cache entries (they could not answer). */
  staleFrom?: Set<string>;
}
