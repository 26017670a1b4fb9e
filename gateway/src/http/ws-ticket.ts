import { AppError, sendJson } from '@dream/common';
import type { GatewayExecutor } from '../graphql/executor';
import type { WsTickets } from '../ws/tickets';
import type { RouteRegistry } from '@dream/common/http';

/** POST /api/ws-ticket: a short-lived single-use ticket for a WebSocket upgrade from a client that cannot send headers. */
export function registerWsTicket(router: RouteRegistry, executor: GatewayExecutor, tickets: WsTickets): void {
  router.route('POST', '/api/ws-ticket', async (req, res) => {
    req.resume();
    const auth = await executor.authenticate(req.headers);
    if (!auth.token) throw new AppError('UNAUTHENTICATED', 'Authentication required: send a JWT in the Authorization or jwt header.');
    const ticket = await tickets.issue(auth.token).catch(() => {
      throw new AppError('SERVICE_UNAVAILABLE', 'Cannot issue a ticket right now (ticket store unavailable); try again shortly.');
    });
    sendJson(res, 201, { ticket, expiresInSeconds: tickets.ttlSeconds }, { 'cache-control': 'no-store' });
  });
}
