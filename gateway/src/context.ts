import type { AuthUser, Logger } from '@dream/common';

/** Per-request context the gateway hands to Apollo and, through it, to the data sources. */
export interface GatewayContext {
  requestId: string;
  logger: Logger;
  /** The verified bearer token, forwarded to subgraphs as `Authorization: Bearer <token>`. */
  token?: string;
  user?: AuthUser;
  /** X-Forwarded-For to send upstream: the client's chain plus the address we saw. */
  forwardedFor?: string;
}
