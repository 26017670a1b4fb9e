// first: tracing patches http, undici and gRPC before they load (off unless OTEL_EXPORTER_OTLP_ENDPOINT is set)
import './tracing';
import { runService } from '@dream/common';
import { loadCoursesConfig } from './config';
import { startCoursesSubgraph } from './service';

/** `npm start -w subgraphs/courses`: one courses instance configured from the environment. */
if (require.main === module) runService(() => startCoursesSubgraph(loadCoursesConfig()));
