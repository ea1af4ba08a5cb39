// The platform under the HTTP floor of goal 4: a bare node:http server in a process of its own, answering every
// request with the JSON `/healthz` answers, with nothing of the relay in it (no routes, logging, metrics or auth).
// Forked by bench/workloads/exec.mjs; sends its port once it listens.
import { createServer } from 'node:http';

const BODY = '{"ok":true}';
const server = createServer((request, response) => {
  request.resume();
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
  response.end(BODY);
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
