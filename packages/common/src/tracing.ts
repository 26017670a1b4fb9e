/**
 * OpenTelemetry traces, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set and entirely
 * off otherwise (not even loaded). Each service's `src/tracing.ts` calls startTracing() and is the
 * first import of its main.ts, so the instrumentations patch node:http, undici (the gateway's
 * subgraph fetches) and @grpc/grpc-js before anything loads them. Context travels as W3C
 * `traceparent` (HTTP headers, gRPC metadata); @apollo/gateway's own spans (plan, fetch) join the same
 * trace through @opentelemetry/api. Every server span carries the request id (`request.id`).
 * The SDK reads its usual OTEL_* variables too (OTEL_BSP_SCHEDULE_DELAY, OTEL_EXPORTER_OTLP_HEADERS, …).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { loadConfig } from './config';

export { currentTraceCarrier, inJobSpan, type TraceCarrier } from './job-tracing';

export const tracingEnv = {
  /** Base URL of an OTLP/HTTP collector (spans go to <url>/v1/traces); unset: no tracing. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().optional(),
};

/** Plumbing that would drown the traces: probes, metrics scrapes and the discovery API (heartbeats, watch). */
const IGNORED_PATH = /^\/(health|ready|metrics)(\?|$)|^\/v1\//;

let started = false;

/** Starts tracing for `service` when OTEL_EXPORTER_OTLP_ENDPOINT is set; returns whether it did. */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const config = loadConfig(`${service} tracing`, tracingEnv, env);
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT || started) return false;
  started = true;
  // Loaded only here: with tracing off, none of the SDK is required.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
  const { GrpcInstrumentation } = require('@opentelemetry/instrumentation-grpc') as typeof import('@opentelemetry/instrumentation-grpc');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.OTEL_SERVICE_NAME ?? service }),
    // the exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself and posts to <endpoint>/v1/traces
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register(); // W3C traceparent + baggage propagation, async-hooks context
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => IGNORED_PATH.test(req.url ?? ''),
        ignoreOutgoingRequestHook: (req) => IGNORED_PATH.test(req.path ?? ''),
        // the gateway sets x-request-id on its response (its own or the client's): one id per request everywhere
        applyCustomAttributesOnSpan: (span, req, res) => {
          const id = 'getHeader' in res ? (res as ServerResponse).getHeader('x-request-id') : (req as IncomingMessage).headers?.['x-request-id'];
          if (id !== undefined) span.setAttribute('request.id', String(id));
        },
      }),
      new UndiciInstrumentation({ ignoreRequestHook: (req) => IGNORED_PATH.test(req.path) }),
      new GrpcInstrumentation({ ignoreGrpcMethods: [/^Check$/, /^Watch$/] }),
    ],
  });
  // installShutdown ends with process.exit: flush what is batched first
  const flush = () => void provider.forceFlush().catch(() => undefined);
  process.once('SIGTERM', flush);
  process.once('SIGINT', flush);
  return true;
}
