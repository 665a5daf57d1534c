// The floor of the overhead bench: the least a Node gateway can do, in its own process like the others.
// It reads and parses the request, names the upstream's model, forwards it on a kept-alive socket, and
// answers with the parsed and re-serialised JSON body, or passes the SSE stream through as it comes.
// No placement, no metering, no receipt: what is left is the hop itself (two extra socket writes that
// wake another process, HTTP parsing on both sides), which any gateway on this machine pays.
// Run: node bench/overhead/bare-proxy.cjs <upstream port>; prints "listening <port>".

const http = require('node:http');

const upstreamPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (b) => parts.push(b));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(parts).toString('utf8'));
    body.model = 'fake-model';
    const payload = JSON.stringify(body);
    const out = http.request(
      { host: '127.0.0.1', port: upstreamPort, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: req.headers.authorization ?? '' } },
      (answer) => {
        if (body.stream) {
          res.writeHead(answer.statusCode ?? 502, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          answer.pipe(res);
          return;
        }
        let text = '';
        answer.setEncoding('utf8');
        answer.on('data', (s) => (text += s));
        answer.on('end', () => {
          const json = JSON.stringify(JSON.parse(text));
          res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
          res.end(json);
        });
      },
    );
    out.on('error', (error) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(error.message);
    });
    out.end(payload);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
