// Container health probe (Dockerfile HEALTHCHECK). Slim images have no curl, so node asks
// GET http://127.0.0.1:$PORT/health and exits 0 on a 2xx answer within 3 s, 1 otherwise.
'use strict';
const port = process.env.PORT || '8080';
fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
