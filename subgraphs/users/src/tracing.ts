// First import of main.ts: tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set) must patch http, undici and
// gRPC before any other module loads them.
import { startTracing } from '@dream/common/tracing';

startTracing('users');
