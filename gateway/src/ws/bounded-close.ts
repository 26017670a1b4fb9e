import type { WebSocketServer } from 'ws';

/**
 * Runs `close` (which sends every client a close frame and waits for `wss.close()`), terminating the
 * clients still open after `graceMs`. `wss.close()` resolves only once every client has finished the
 * close handshake, and a peer that never answers the close frame (a frozen tab, a half-open TCP
 * connection) would hold it — and the gateway's shutdown with it — for ws's 30 s close timeout.
 */
export async function closeWithin(wss: WebSocketServer, close: () => Promise<void> | void, graceMs = 1000): Promise<void> {
  const timer = setTimeout(() => {
    for (const ws of wss.clients) ws.terminate();
  }, graceMs);
  try {
    await close();
  } finally {
    clearTimeout(timer);
  }
}
