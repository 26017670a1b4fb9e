import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface DelayRelay {
  host: string;
  port: number;
  /** Delay added to every chunk sent towards the target (0 = pass straight through). */
  setDelay(ms: number): void;
  readonly delayMs: number;
  stop(): Promise<void>;
}

/**
 * A TCP relay that holds each chunk travelling towards `target` for `delayMs` before passing it on,
 * keeping their order. This kernel has no netem, so latency faults go through it: one HTTP request is
 * one chunk, so each request gets `delayMs` more latency while answers flow back at once.
 */
export async function startDelayRelay(listenHost: string, target: { host: string; port: number }): Promise<DelayRelay> {
  let delayMs = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    let releaseAt = 0;
    client.on('data', (chunk) => {
      if (delayMs === 0 && releaseAt <= Date.now()) {
        upstream.write(chunk);
        return;
      }
      // never before the chunk ahead of it, so the byte stream keeps its order
      releaseAt = Math.max(Date.now() + delayMs, releaseAt);
      setTimeout(() => upstream.destroyed || upstream.write(chunk), releaseAt - Date.now());
    });
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((res) => server.listen(0, listenHost, res));
  return {
    host: listenHost,
    port: (server.address() as AddressInfo).port,
    setDelay: (ms) => void (delayMs = ms),
    get delayMs() {
      return delayMs;
    },
    stop: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
