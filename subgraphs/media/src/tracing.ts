// First import of main.ts: tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set) must patch http, undici and
// gRPC before any other module loads them. The worker role reports as its own service.
import { startTracing } from '@dream/common/tracing';

startTracing(process.env.MEDIA_ROLE === 'worker' ? 'media-worker' : 'media');
