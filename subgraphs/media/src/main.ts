// first: tracing patches http, undici and gRPC before they load (off unless OTEL_EXPORTER_OTLP_ENDPOINT is set)
import './tracing';
import { runService } from '@dream/common';
import { loadMediaConfig } from './config';
import { startMediaSubgraph } from './service';
import { startMediaWorker } from './worker';

/**
 * `npm start -w subgraphs/media`: one media API replica configured from the environment. MEDIA_ROLE=worker
 * runs the transcoding worker instead (its own process, scaled on its own).
 */
if (require.main === module) {
  const config = loadMediaConfig();
  runService(() => (config.MEDIA_ROLE === 'worker' ? startMediaWorker(config) : startMediaSubgraph(config)));
}
