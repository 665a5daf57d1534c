// `npm start`: the extension in a real editor, with the daemon on the simulated fleet.
//
// - A desktop VS Code (`code` on PATH): `code --extensionDevelopmentPath=<repo> <workspace>`.
// - Otherwise the cached code-server (see scripts/editor-setup.mjs) on 127.0.0.1, with the extension
//   loaded from source through the workbench URL; open the printed URL in a browser. Ctrl-C stops it.
//
// Environment:
//   SWITCHYARD_EDITOR=code-server   use code-server even when `code` is on PATH
//   SWITCHYARD_EDITOR_PORT=NNNN     port for code-server (default 8080, or a free one if 8080 is taken)
//   SWITCHYARD_EDITOR_HOST_URL=...  base URL to print instead of http://127.0.0.1:PORT (e.g. behind a tunnel)

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureEditor, CACHE, CODE_SERVER_VERSION, ROOT, SetupError } from './editor-setup.mjs';
import {
  ensureWorkspace, freePort, portTaken, prepareRunDir, readDaemonState, startCodeServer, stopDaemons, workbenchUrl,
} from './editor-server.mjs';

const workspace = ensureWorkspace(path.join(CACHE, 'workspace'));

if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
  console.error('dist/extension.js is missing: run `node scripts/build.mjs` first (`npm start` does).');
  process.exit(1);
}

const desktop = process.env.SWITCHYARD_EDITOR !== 'code-server' && spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (desktop) {
  console.log(`Starting VS Code with the extension from ${ROOT}`);
  const child = spawn('code', [`--extensionDevelopmentPath=${ROOT}`, workspace], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await runCodeServer();
}

async function runCodeServer() {
  let editor;
  try {
    editor = ensureEditor();
  } catch (error) {
    console.error(error instanceof SetupError ? error.message : error);
    process.exit(1);
  }

  let port;
  if (process.env.SWITCHYARD_EDITOR_PORT) {
    port = Number(process.env.SWITCHYARD_EDITOR_PORT);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      console.error(`SWITCHYARD_EDITOR_PORT=${process.env.SWITCHYARD_EDITOR_PORT} is not a port number`);
      process.exit(1);
    }
    if (await portTaken(port)) {
      console.error(`Port ${port} (SWITCHYARD_EDITOR_PORT) is already in use.`);
      process.exit(1);
    }
  } else {
    port = (await portTaken(8080)) ? await freePort() : 8080;
  }

  const runDir = path.join(CACHE, 'run');
  const stateDir = path.join(runDir, 'state');
  const dirs = prepareRunDir(runDir, { 'switchyard.daemon.stateDir': stateDir });
  const logFile = path.join(runDir, 'code-server.log');
  fs.writeFileSync(logFile, '');

  const daemonPids = new Set();
  const watchDaemon = setInterval(() => {
    const state = readDaemonState(stateDir);
    if (state?.pid) daemonPids.add(state.pid);
  }, 1000);

  let server;
  let started; // from the moment code-server runs, before it answers
  let stopping = false;
  const shutdown = async (why) => {
    if (stopping) return;
    stopping = true;
    clearInterval(watchDaemon);
    console.log(`\n${why}: stopping the editor and the daemon it started...`);
    const state = readDaemonState(stateDir);
    if (state?.pid) daemonPids.add(state.pid);
    await (server ?? started)?.stop();
    await stopDaemons([...daemonPids]);
    process.exit(0);
  };
  // Before code-server starts: in its own process group it does not get the terminal's Ctrl-C itself.
  process.on('SIGINT', () => void shutdown('Ctrl-C'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));

  try {
    server = await startCodeServer({ editor, dirs, port, workspace, logFile, onSpawn: (s) => { started = s; } });
  } catch (error) {
    if (stopping) return; // shutdown() stops it and exits
    clearInterval(watchDaemon);
    console.error(String(error.message || error));
    process.exit(1);
  }
  if (stopping) return;

  let url = workbenchUrl({ port, workspace, devPath: ROOT });
  if (process.env.SWITCHYARD_EDITOR_HOST_URL) {
    const base = new URL(process.env.SWITCHYARD_EDITOR_HOST_URL);
    const local = new URL(url);
    url = new URL(local.pathname + local.search, base).toString();
  }
  const rule = '-'.repeat(72);
  console.log(`\n${rule}\nVS Code (code-server ${CODE_SERVER_VERSION}) is running with Switchyard loaded from source.`);
  console.log(`Open this URL in a browser (it carries the extension as a development payload):\n\n  ${url}\n`);
  console.log(`Editor log:   ${path.relative(ROOT, logFile)}`);
  console.log(`Daemon state: ${path.relative(ROOT, stateDir)}/daemon.json (logs and ledger beside it)`);
  console.log(`Rebuild with \`node scripts/build.mjs\`, then "Developer: Reload Window" in the editor.`);
  console.log(`Press Ctrl-C to stop.\n${rule}`);

  server.child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`code-server exited by itself (${code ?? signal}); see ${logFile}`);
    clearInterval(watchDaemon);
    void stopDaemons([...daemonPids]).then(() => process.exit(code || 1));
  });
}
