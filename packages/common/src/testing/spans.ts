import { trace, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export { SpanStatusCode } from '@opentelemetry/api';

export interface SpanRecorder {
  /** Every span ended so far in this process. */
  spans(): ReadableSpan[];
  /** Runs `work` inside an active span named `name` (ended when `work` settles); gives the span's context. */
  inSpan(name: string, work: () => Promise<unknown>): Promise<SpanContext>;
  stop(): Promise<void>;
}

/**
 * Records this process's spans in memory: a real tracer provider (the one the services use, with the
 * async-hooks context manager and W3C propagation) whose spans a test can read. Loaded only when called,
 * so suites that do not trace load none of the SDK.
 */
export function recordSpans(): SpanRecorder {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  const inSpan = (name: string, work: () => Promise<unknown>) =>
    trace.getTracer('test').startActiveSpan(name, async (span) => {
      try {
        await work();
        return span.spanContext();
      } finally {
        span.end();
      }
    });
  return { spans: () => exporter.getFinishedSpans(), inSpan, stop: () => provider.shutdown() };
}
