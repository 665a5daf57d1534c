// Starting and stopping the cached code-server (a real VS Code) for `npm start` and the editor tests.
// Used by scripts/editor.mjs and scripts/editor-tests.mjs; see docs/editor-testing.md.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { editorEnv } from './editor-setup.mjs';

/** User settings that keep the workbench quiet and predictable. */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  // The daemon's and the tests' fake servers listen on loopback; forwarding them and saying so is noise here.
  'remote.autoForwardPorts': false,
  // Text a test inserts (settings JSON, code) lands as it is, not completed or re-indented by the editor.
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoSurround': 'never',
  'editor.autoIndent': 'none',
  'editor.formatOnType': false,
};

export { freePort } from './ports.cjs';

/** Whether something already listens on 127.0.0.1:port. */
export function portTaken(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/**
 * Lays out one editor run under `runDir`: home, XDG folders, TMPDIR, user data (with settings) and
 * extensions. Returns the paths.
 */
export function prepareRunDir(runDir, settings = {}) {
  const dirs = {
    runDir,
    home: path.join(runDir, 'home'),
    tmp: path.join(runDir, 'tmp'),
    userData: path.join(runDir, 'user-data'),
    extensions: path.join(runDir, 'extensions'),
  };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  // code-server's window is a remote one: a machine-scoped setting (the daemon's state dir, port, seed,
  // the catalog file) is read from the remote machine's settings and ignored in the user's.
  const machine = machineSettings();
  const split = (keep) => Object.fromEntries(Object.entries(settings).filter(([key]) => machine.has(key) === keep));
  for (const [folder, values] of [['User', { ...QUIET_SETTINGS, ...split(false) }], ['Machine', split(true)]]) {
    fs.mkdirSync(path.join(dirs.userData, folder), { recursive: true });
    fs.writeFileSync(path.join(dirs.userData, folder, 'settings.json'), JSON.stringify(values, null, 2) + '\n');
  }
  return dirs;
}

/** The extension's settings whose scope is machine, from its manifest. */
function machineSettings() {
  const manifest = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const properties = manifest.contributes.configuration.properties;
  return new Set(Object.keys(properties).filter((key) => properties[key].scope === 'machine'));
}

/** Environment for code-server and everything it starts: its own home, XDG folders and TMPDIR. */
export function runEnv(dirs) {
  return editorEnv({
    HOME: dirs.home,
    XDG_CONFIG_HOME: path.join(dirs.home, '.config'),
    XDG_DATA_HOME: path.join(dirs.home, '.local', 'share'),
    XDG_STATE_HOME: path.join(dirs.home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(dirs.home, '.cache'),
    TMPDIR: dirs.tmp,
  });
}

/** Creates a small demo workspace (idempotent). */
export function ensureWorkspace(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const files = {
    'README.md': '# Switchyard demo workspace\n\nA scratch folder opened by `npm start` and the editor tests.\n' +
      'The Switchyard daemon runs on the simulated fleet: no API key is needed.\n',
    'hello.prompt.md': 'Explain, in two sentences, why routing a request to the cheapest site is not always the cheapest choice.\n',
  };
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) fs.writeFileSync(file, text);
  }
  return dir;
}

/**
 * The workbench URL. With `devPath` the extension is loaded from source (and with `testsPath` the
 * extension host runs that test module); both need the server's `enable-smoke-test-driver` option.
 */
export function workbenchUrl({ port, workspace, devPath, testsPath }) {
  const url = new URL(`http://127.0.0.1:${port}/`);
  url.searchParams.set('folder', workspace);
  const payload = [];
  if (devPath) payload.push(['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${devPath}`]);
  if (testsPath) payload.push(['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${testsPath}`]);
  if (payload.length) url.searchParams.set('payload', JSON.stringify(payload));
  return url.toString();
}

/**
 * Starts code-server in its own process group (like `setsid`) and waits for /healthz. `onSpawn({ child, stop })`
 * is called as soon as it runs: a Ctrl-C before it answers must stop it too, or it outlives us in its own group.
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, port: number, logFile: string, stop: () => Promise<void> }>}
 */
export async function startCodeServer({ editor, dirs, port, workspace, logFile, devMode = true, timeoutMs = 60_000, inheritOutput = false, onSpawn }) {
  const args = [
    editor.entry,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    '--config', '/dev/null',
    '--reconnection-grace-time', '5',
    ...(devMode ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    workspace,
  ];
  logFile ??= path.join(dirs.runDir, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(editor.node, args, {
    cwd: dirs.runDir,
    env: runEnv(dirs),
    detached: true, // setsid(): its own session and process group
    stdio: ['ignore', inheritOutput ? 'inherit' : out, inheritOutput ? 'inherit' : out],
  });
  fs.closeSync(out);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const stop = () => stopGroup(child);
  onSpawn?.({ child, stop });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      const tail = inheritOutput ? '' : `\n--- ${logFile} (end) ---\n${readTail(logFile)}`;
      throw new Error(`code-server exited during start-up (${exited.code ?? exited.signal})${tail}`);
    }
    if (await healthy(port)) return { child, port, logFile, stop };
    await sleep(250);
  }
  await stop();
  throw new Error(`code-server did not answer http://127.0.0.1:${port}/healthz within ${timeoutMs / 1000} s` +
    (inheritOutput ? '' : `\n--- ${logFile} (end) ---\n${readTail(logFile)}`));
}

async function healthy(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole process group, SIGKILL after a grace period. */
export async function stopGroup(child, graceMs = 5000) {
  if (!child.pid) return;
  const pgid = child.pid;
  if (!groupAlive(pgid)) return;
  try { process.kill(-pgid, 'SIGTERM'); } catch { /* gone */ }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pgid)) await sleep(100);
  if (groupAlive(pgid)) {
    try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) still answers kill(0): look at its state.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** The daemon's state file, or undefined when there is none (yet) or it is being rewritten. */
export function readDaemonState(stateDir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(stateDir, 'daemon.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Stops the daemons (by pid) that an editor we started has started. */
export async function stopDaemons(pids) {
  const alive = [...new Set(pids)].filter(pidAlive);
  for (const pid of alive) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && alive.some(pidAlive)) await sleep(100);
  for (const pid of alive.filter(pidAlive)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** Switchyard's own log (its output channel), one file per extension host the editor under dir started. */
export function extensionLogs(dir) {
  const sessions = path.join(dir, 'user-data', 'logs');
  const list = (d) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
  return list(sessions).flatMap((session) => list(path.join(sessions, session))
    .map((host) => path.join(sessions, session, host, 'switchyard.switchyard', 'Switchyard.log'))
    .filter((file) => fs.existsSync(file)));
}

export function readTail(file, bytes = 4000) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '(no log)';
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
