import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Redis } from '@dream/common';

const key = (ticket: string) => `ws:ticket:${ticket}`;
const TICKET_RE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Short-lived, single-use WebSocket tickets for clients that cannot send headers (browsers): an
 * authenticated request (`POST /api/ws-ticket`) exchanges the caller's token for a random ticket that
 * stands for it for a few seconds and is consumed by the first upgrade that presents it (`?ticket=`).
 * So the long-lived JWT never travels in a URL (access logs, proxies, browser history). Kept in Redis so
 * any gateway replica can redeem it; in memory when the gateway runs without Redis.
 */
export class WsTickets {
  private readonly local = new Map<string, { token: string; expires: number }>();

  constructor(
    private readonly redis: Redis | undefined,
    readonly ttlSeconds: number,
  ) {}

  async issue(token: string): Promise<string> {
    const ticket = randomBytes(32).toString('base64url');
    if (this.redis) await this.redis.set(key(ticket), token, 'EX', this.ttlSeconds);
    else {
      this.sweep();
      this.local.set(ticket, { token, expires: Date.now() + this.ttlSeconds * 1000 });
    }
    return ticket;
  }

  /** The token the ticket stands for, once; undefined for an unknown, used or expired ticket. */
  async redeem(ticket: string | null | undefined): Promise<string | undefined> {
    if (!ticket || !TICKET_RE.test(ticket)) return undefined;
    if (this.redis) return (await this.redis.getdel(key(ticket))) ?? undefined;
    const hit = this.local.get(ticket);
    this.local.delete(ticket);
    return hit && hit.expires > Date.now() ? hit.token : undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [t, v] of this.local) if (v.expires <= now) this.local.delete(t);
  }
}

/** `?ticket=` of an upgrade request. */
export const ticketOf = (request: IncomingMessage) => new URL(request.url ?? '/', 'http://localhost').searchParams.get('ticket');
