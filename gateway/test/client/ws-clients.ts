import { EventEmitter } from 'node:events';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Disposables } from '@dream/common/testing';
import type { Gateway } from '../../src/server';

const wsUrl = (gw: Gateway, path: string) => `${gw.url.replace(/^http/, 'ws')}${path}`;

const failure = (e: unknown): Error => (e instanceof Error ? e : new Error(`failed: ${JSON.stringify(e)}`));

/** A buffer of received values that waits for one matching a predicate, with an expiry (never a sleep). */
export class Inbox<T> {
  readonly values: T[] = [];
  private readonly emitter = new EventEmitter();
  error?: unknown;

  push(v: T): void {
    this.values.push(v);
    this.emitter.emit('value', v);
  }

  fail(e: unknown): void {
    this.error = e ?? new Error('failed without a reason');
    this.emitter.emit('failed', e);
  }

  take(pred: (v: T) => boolean = () => true, timeoutMs = 2000, what = 'a matching value'): Promise<T> {
    const found = this.values.find(pred);
    if (found !== undefined) return Promise.resolve(found);
    // a failure that came before the wait began must reject it too, not leave it to time out
    if (this.error !== undefined) return Promise.reject(failure(this.error));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off('value', onValue);
        this.emitter.off('failed', onFail);
      };
      const onValue = (v: T) => {
        if (!pred(v)) return;
        done();
        resolve(v);
      };
      const onFail = (e: unknown) => {
        done();
        reject(failure(e));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.values).slice(0, 500)}`));
      }, timeoutMs);
      this.emitter.on('value', onValue);
      this.emitter.on('failed', onFail);
    });
  }
}

/** A graphql-ws client (the real one, over `ws`) disposed with the test's Disposables. */
export function gqlWsClient(d: Disposables, gw: Gateway, connectionParams?: Record<string, unknown>): Client {
  const client = createClient({ url: wsUrl(gw, '/graphql'), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  d.defer(() => client.dispose());
  return client;
}

export interface Subscription<T = any> {
  inbox: Inbox<{ data?: T; errors?: unknown[] }>;
  unsubscribe(): void;
}

export function subscribe<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Subscription<T> {
  const inbox = new Inbox<{ data?: T; errors?: unknown[] }>();
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => inbox.push(v as { data?: T; errors?: unknown[] }),
      error: (e) => inbox.fail(e),
      complete: () => undefined,
    },
  );
  return { inbox, unsubscribe };
}

/** A raw WebSocket (the spec's /courses shims, or graphql-ws frames by hand). */
export function rawSocket(
  d: Disposables,
  gw: Gateway,
  path: string,
  opts: { headers?: Record<string, string>; protocol?: string } = {},
): { ws: WebSocket; inbox: Inbox<any>; closed: Promise<{ code: number; reason: string }>; opened: Promise<void> } {
  const ws = new WebSocket(wsUrl(gw, path), opts.protocol ? [opts.protocol] : [], { headers: opts.headers });
  const inbox = new Inbox<any>();
  ws.on('message', (m) => {
    const text = m.toString();
    try {
      inbox.push(JSON.parse(text));
    } catch {
      inbox.push(text);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  opened.catch(() => undefined);
  d.defer(() => ws.terminate());
  return { ws, inbox, closed, opened };
}

/** Resolves with the close event, or rejects after `timeoutMs`. */
export function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
