// A free port for a server the editor scripts or the tests start (code-server, Redis, PostgreSQL, a
// daemon on a fixed port). CommonJS, so that every caller can load it: the .mjs scripts, the .cjs test
// helpers, the TypeScript tests (types in ports.d.cts) and the bundled extension-host suite.

'use strict';

const net = require('node:net');

/** A port the OS reports free right now (a small race remains; callers retry on EADDRINUSE). @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

exports.freePort = freePort;
