import { createServer } from 'node:http';

/**
 * The baseline: bare node:http answering a fixed JSON body, run as its own process like the
 * service, so every ratio in the table is "this route, relative to what Node itself can serve here".
 */
const BODY = JSON.stringify({ status: 'ok' });

const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(BODY) });
  response.end(BODY);
});

server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
