// A loopback proxy that adds an agent's bearer token to every request, for
// the conformance runner, which cannot send headers of its own. Like a port
// forward, it names the server where a request named the proxy (Host,
// Origin); any other Host or Origin passes through as it came, so the DNS
// rebinding scenario reaches the server's own checks. Replies stream back.
//
//   node proxy.mjs <upstream-host:port> <token>   (prints the port it listens on)

import http from 'node:http';

const [upstream, token] = process.argv.slice(2);
const [host, port] = upstream.split(':');
const server = http.createServer((request, response) => {
  const self = `127.0.0.1:${server.address().port}`;
  const local = new Set([self, `localhost:${server.address().port}`]);
  const headers = { ...request.headers, authorization: `Bearer ${token}` };
  if (local.has(headers.host)) headers.host = upstream;
  if (headers.origin && local.has(headers.origin.replace(/^http:\/\//, ''))) headers.origin = `http://${upstream}`;
  const forward = http.request({ host, port: Number(port), method: request.method, path: request.url, headers }, (reply) => {
    response.writeHead(reply.statusCode, reply.headers);
    reply.pipe(response);
  });
  forward.on('error', () => {
    response.writeHead(502);
    response.end();
  });
  request.pipe(forward);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
