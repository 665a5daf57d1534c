// A Redis of the test's own: redis-server (Debian's package, on every machine of this kind) on a free
// port with nothing kept on disk, so a test never shares state with another program's Redis. Where the
// binary is missing it is installed from Debian's packages (or the test says what to run), never skipped. Plain JavaScript (types in
// redis.d.cts) because the editor flows, which Node runs without a TypeScript loader, use it too.

'use strict';

const { spawn, spawnSync } = require('node:child_process');
const { freePort } = require('../../scripts/ports.cjs');
const net = require('node:net');

/** @param {number} port @param {string | undefined} password @returns {Promise<boolean>} */
function answersPing(port, password) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.once('error', () => resolve(false));
    socket.on('data', (data) => {
      reply += data.toString();
      if (reply.includes('PONG')) (socket.destroy(), resolve(true));
    });
    socket.once('connect', () => socket.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`));
  });
}

/** `password` starts it with requirepass. @param {{ password?: string }} [options] */
async function startRedis(options = {}) {
  if (spawnSync('redis-server', ['--version']).error) {
    // A fresh machine: installed as the editor tests install Chromium (root or password-less sudo).
    const { installDebianPackages } = await import('../../scripts/editor-setup.mjs');
    installDebianPackages('redis-server for the team telemetry tests', ['redis-server']);
  }
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  if (options.password) args.push('--requirepass', options.password);
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', () => resolve(undefined)));
  // Imported by the extension-host suite too, so it waits by itself rather than through the daemon helpers.
  for (const deadline = Date.now() + 10_000; !(await answersPing(port, options.password)); await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer`);
  }
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

exports.startRedis = startRedis;
