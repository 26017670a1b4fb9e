/** The ceiling for any Node gateway on this machine: node:http answering a fixed JSON body. Env: PORT. */
import { createServer } from 'node:http';

const body = Buffer.from(JSON.stringify({ data: { ok: true } }));
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
