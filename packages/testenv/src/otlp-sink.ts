import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local OTLP/HTTP trace endpoint that accepts and counts what it receives (no storage). */
export interface OtlpSink {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporters post to `<url>/v1/traces`). */
  url: string;
  /** Export requests, spans and bytes received so far. */
  readonly received: { requests: number; spans: number; bytes: number };
  stop(): Promise<void>;
}

/**
 * Starts an OTLP/HTTP receiver on a free loopback port that answers every `POST /v1/traces` with 200
 * and counts the spans of JSON exports (by their `spanId` fields, without parsing the body), so a load
 * test pays for the exporter's work and not for a collector's.
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  const received = { requests: 0, spans: 0, bytes: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      received.requests++;
      received.bytes += body.length;
      received.spans += body.toString('utf8').split('"spanId"').length - 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
