// first: tracing patches http, undici and gRPC before they load (off unless OTEL_EXPORTER_OTLP_ENDPOINT is set)
import './tracing';
import { runService } from '@dream/common';
import { loadUsersConfig } from './config';
import { startUsersSubgraph } from './service';

/** `npm start -w subgraphs/users`: one users instance configured from the environment. */
if (require.main === module) runService(() => startUsersSubgraph(loadUsersConfig()));
