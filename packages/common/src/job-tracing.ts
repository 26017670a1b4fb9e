/**
 * Traces across a job queue: the producer writes its active trace context into the job (W3C
 * `traceparent`, as on HTTP and gRPC), and the worker runs the job in a span whose parent is that context,
 * so a transcode shows up in the trace of the request that queued it. With tracing off
 * (OTEL_EXPORTER_OTLP_ENDPOINT unset) @opentelemetry/api is a no-op: the carrier stays empty and the span
 * costs nothing.
 */
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

/** What travels in a job's data: the W3C trace context headers (`traceparent`, `tracestate`). */
export type TraceCarrier = Record<string, string>;

/** The caller's active trace context as a carrier, or undefined when there is none to carry. */
export function currentTraceCarrier(): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/**
 * Runs `work` in a span named `name`, child of the context in `carrier` (a new trace when there is none).
 * An error ends the span with ERROR status and is rethrown unchanged.
 */
export async function inJobSpan<T>(name: string, carrier: TraceCarrier | undefined, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  const tracer = trace.getTracer('dream-jobs');
  return context.with(parent, () =>
    tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        return await work();
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
      }
    }),
  );
}
