// `npm run test:editor`: the extension in a real VS Code (code-server) driven by Playwright in
// Debian's Chromium, plus the mocha suite inside the extension host. See docs/editor-testing.md.
//
//   node scripts/editor-tests.mjs                 all flows (test/editor/flows.mjs)
//   node scripts/editor-tests.mjs restart logs    only flows whose name contains one of the words
//
// Prints one PASS/FAIL line per test and ends with the line `N passed, N failed`; exits 1 on any
// failure. Screenshots and logs go to test-results/editor/; each run's editor folders (home, user
// data, extensions, daemon state) to .vscode-test/runs/<id>/.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import { ensureEditor, CACHE, CHROMIUM, CODE_SERVER_VERSION, ROOT, SetupError } from './editor-setup.mjs';
import {
  ensureWorkspace, extensionLogs, freePort, prepareRunDir, readDaemonState, readTail, runEnv, startCodeServer, stopDaemons, workbenchUrl,
} from './editor-server.mjs';

const RESULTS = path.join(ROOT, 'test-results', 'editor');
const RUNS = path.join(CACHE, 'runs');
const KEEP_RUNS = 3;
const WATCHDOG_MS = Number(process.env.SWITCHYARD_EDITOR_TESTS_TIMEOUT_MS || 15 * 60_000);
const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

const started = Date.now();
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const elapsed = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const say = (line = '') => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Resources to release whatever happens: editors (process groups), daemons (pids), the browser.
// ---------------------------------------------------------------------------------------------
const servers = [];
const daemonPids = new Set();
const stateDirs = [];
let browser;
let cleaning;

/**
 * One cleanup, however many ask: a Ctrl-C's cleanup closes the browser, which fails the running flow,
 * and the run's own cleanup then must wait for that one to finish before it exits, or the editors and
 * daemons it has not stopped yet outlive the run.
 */
function cleanup() {
  cleaning ??= (async () => {
    for (const dir of stateDirs) {
      const state = readDaemonState(dir);
      if (state?.pid) daemonPids.add(state.pid);
    }
    await browser?.close().catch(() => {});
    for (const server of servers) await server.stop().catch(() => {});
    await stopDaemons([...daemonPids]);
  })();
  return cleaning;
}

// A name that matches no flow runs no test: say so before installing anything, and fail.
const { flows } = await import('../test/editor/flows.mjs');
const selected = filters.length ? flows.filter((f) => filters.some((w) => f.name.includes(w))) : flows;
if (selected.length === 0) {
  say(`No flow matches ${filters.join(' ') || '(no flows defined)'}; flows: ${flows.map((f) => f.name).join(', ')}`);
  say('0 passed, 1 failed');
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------
let editor;
try {
  editor = ensureEditor();
} catch (error) {
  say(error instanceof SetupError ? error.message : String(error?.stack || error));
  say('0 passed, 1 failed');
  process.exit(1);
}

if (!process.env.SWITCHYARD_SKIP_BUILD) rebuildDev();
for (const file of ['dist/extension.js', 'dist/daemon.js']) {
  if (!fs.existsSync(path.join(ROOT, file))) {
    say(`${file} is missing after the build`);
    say('0 passed, 1 failed');
    process.exit(1);
  }
}

fs.rmSync(RESULTS, { recursive: true, force: true });
fs.mkdirSync(RESULTS, { recursive: true });
pruneOldRuns();
// Short: Unix socket paths (code-server's IPC socket lives in the user-data dir) are limited to 107 bytes.
const runId = Date.now().toString(36);
const runDir = path.join(RUNS, runId);
fs.mkdirSync(runDir, { recursive: true });

const { chromium } = await import('playwright-core');

// Only now: during the setup above, Ctrl-C must end this process as it ends the npm or apt-get it runs.
// A handler would keep it alive, the failed install would be tried again, and the signal handled after.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    say(`\n${signal}: stopping the editors and daemons...`);
    void cleanup().finally(() => process.exit(130));
  });
}
// From here too: the setup's first install (apt-get may wait minutes for another apt's lock) is not the tests' time.
const watchdog = setTimeout(() => {
  say(`\nEditor tests still running after ${WATCHDOG_MS / 60_000} min: giving up.`);
  say('0 passed, 1 failed');
  void cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

function rebuildDev() {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    say(`node scripts/build.mjs failed:\n${result.stdout}${result.stderr}`);
    say('0 passed, 1 failed');
    process.exit(1);
  }
}

function pruneOldRuns() {
  let entries = [];
  try {
    entries = fs.readdirSync(RUNS).sort();
  } catch {
    return;
  }
  for (const old of entries.slice(0, Math.max(0, entries.length - (KEEP_RUNS - 1)))) {
    fs.rmSync(path.join(RUNS, old), { recursive: true, force: true });
  }
}

async function launchBrowser() {
  if (browser) return browser;
  const profile = path.join(runDir, 'chromium-profile');
  fs.mkdirSync(profile, { recursive: true });
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: BROWSER_ARGS,
    viewport: { width: 1400, height: 900 },
    timeout: 60_000,
    // Playwright's own handlers close the browser and exit at once (130), before cleanup() has stopped
    // the editors and daemons: those then outlive the run. cleanup() closes the browser itself.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  return browser;
}

function attachConsoleLog(page, name) {
  const file = path.join(RESULTS, `browser-console-${name}.log`);
  page.on('console', (message) => fs.appendFileSync(file, `[${message.type()}] ${message.text()}\n`));
  page.on('pageerror', (error) => fs.appendFileSync(file, `[pageerror] ${error.message}\n`));
}

/** Starts code-server for one editor session under runDir/<name>. */
async function startEditor(name, { settings = {}, devMode = true, beforeStart } = {}) {
  const dir = path.join(runDir, name);
  const stateDir = path.join(dir, 'state');
  stateDirs.push(stateDir);
  const dirs = prepareRunDir(dir, { 'switchyard.daemon.stateDir': stateDir, ...settings });
  const workspace = ensureWorkspace(path.join(dir, 'workspace'));
  const extra = beforeStart ? beforeStart(dirs) : {};
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    try {
      const server = await startCodeServer({ editor, dirs, port, workspace, devMode, logFile: path.join(dir, 'code-server.log'),
        onSpawn: (started) => servers.push(started) });
      return { server, port, dirs, stateDir, workspace, ...extra };
    } catch (error) {
      lastError = error; // e.g. the port was taken between freePort() and listen()
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------------------------
// The context flows get
// ---------------------------------------------------------------------------------------------
let devSession;
let notes = [];
let shotCount = 0;

const ctx = {
  root: ROOT,
  editor,
  runDir,
  resultsDir: RESULTS,
  note: (text) => notes.push(text),
  trackDaemon: (pid) => { if (Number.isInteger(pid)) daemonPids.add(pid); },
  rebuildDev,

  async screenshot(name, target) {
    const file = path.join(RESULTS, `${String(++shotCount).padStart(2, '0')}-${name}.png`);
    await target.screenshot({ path: file, timeout: 10_000 });
    return file;
  },

  /** The shared editor window with the extension loaded from source (started on first use). */
  async devEditor() {
    if (devSession?.page && !devSession.page.isClosed()) return devSession;
    devSession ??= await startEditor('dev');
    const context = await launchBrowser();
    const page = await context.newPage();
    attachConsoleLog(page, 'dev');
    await page.goto(workbenchUrl({ port: devSession.port, workspace: devSession.workspace, devPath: ROOT }), { timeout: 60_000 });
    devSession.page = page;
    return devSession;
  },

  async closeDevPage() {
    if (devSession?.page && !devSession.page.isClosed()) await devSession.page.close();
  },

  /** Loads the window with extensionTestsPath and collects mocha's results. */
  async runExtensionTests(suitePath) {
    devSession ??= await startEditor('dev');
    const context = await launchBrowser();
    const page = await context.newPage();
    attachConsoleLog(page, 'extension-tests');
    const logFile = path.join(RESULTS, 'extension-host-mocha.log');
    const results = [];
    let resolveExit;
    const exited = new Promise((resolve) => { resolveExit = resolve; });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const list = Array.isArray(args) ? args : [args];
      const text = typeof list[0] === 'string' ? format(...list) : list.map((a) => JSON.stringify(a)).join(' ');
      fs.appendFileSync(logFile, `${text}\n`);
      for (const line of text.split('\n')) {
        const match = /SWITCHYARD-TEST (\{.*\})\s*$/.exec(line);
        if (match) {
          try { results.push(JSON.parse(match[1])); } catch { /* a torn line: mocha's own log still has it */ }
        }
      }
    });
    await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
    await page.goto(workbenchUrl({ port: devSession.port, workspace: devSession.workspace, devPath: ROOT, testsPath: suitePath }), { timeout: 60_000 });
    const exitCode = await exited;
    return { page, results, exitCode };
  },

  /** Installs the vsix into a fresh code-server (no development payload) and opens a window. */
  async packagedEditor(vsix) {
    const session = await startEditor('packaged', {
      devMode: false,
      beforeStart(dirs) {
        const args = [editor.entry, '--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData, '--config', '/dev/null'];
        const install = spawnSync(editor.node, [...args, '--install-extension', vsix], { env: runEnv(dirs), encoding: 'utf8', timeout: 60_000 });
        if (install.status !== 0) throw new Error(`--install-extension failed: ${install.stdout}${install.stderr}`);
        const list = spawnSync(editor.node, [...args, '--list-extensions', '--show-versions'], { env: runEnv(dirs), encoding: 'utf8', timeout: 60_000 });
        return { listed: list.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[\w-]+\.[\w-]+@/.test(l)) };
      },
    });
    const context = await launchBrowser();
    const page = await context.newPage();
    attachConsoleLog(page, 'packaged');
    await page.goto(workbenchUrl({ port: session.port, workspace: session.workspace }), { timeout: 60_000 });
    return { ...session, page };
  },
};

// ---------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------
const chromiumVersion = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).stdout?.trim() || CHROMIUM;
say(`Editor tests: code-server ${CODE_SERVER_VERSION} on ${editor.node.includes('node24') ? 'Node 24' : editor.node}, ${chromiumVersion}`);
say(`Run folder ${path.relative(ROOT, runDir)}; screenshots and logs in ${path.relative(ROOT, RESULTS)}/`);

let passed = 0;
let failed = 0;

const failedNames = [];

function report(ok, name, detail, extra = []) {
  if (ok) passed++;
  else {
    failed++;
    failedNames.push(name);
  }
  say(`  ${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  ${detail}` : ''}`);
  for (const line of extra) say(`        ${line}`);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

for (const flow of selected) {
  notes = [];
  const flowStarted = Date.now();
  try {
    const outcome = await withTimeout(flow.run(ctx), flow.timeoutMs, `flow "${flow.name}"`);
    if (outcome?.subtests) {
      for (const test of outcome.subtests) {
        report(test.state === 'passed', `${flow.name} › ${test.title}`, test.ms !== undefined ? `(${test.ms} ms)` : '',
          test.state === 'passed' ? [] : String(test.error ?? '').split('\n').slice(0, 6));
      }
      if (outcome.subtests.length === 0) {
        report(false, flow.name, `(${elapsed(flowStarted)})`, ['the extension-host suite reported no tests; see test-results/editor/extension-host-mocha.log']);
      } else if (outcome.exitCode !== 0 && outcome.subtests.every((t) => t.state === 'passed')) {
        report(false, flow.name, `(${elapsed(flowStarted)})`, [`the extension-host run exited with ${outcome.exitCode}; see test-results/editor/extension-host-mocha.log`]);
      }
    } else {
      report(true, `${flow.name}: ${flow.title}`, `(${elapsed(flowStarted)})`, notes);
    }
  } catch (error) {
    const lines = String(error?.message || error).split('\n').slice(0, 12)
      .map((line) => (line.length > 300 ? `${line.slice(0, 300)}...` : line));
    const page = flow.name === 'packaged-vsix' ? browser?.pages().at(-1) : devSession?.page ?? browser?.pages().at(-1);
    if (page && !page.isClosed()) {
      const shot = await ctx.screenshot(`${flow.name}-FAILED`, page).catch(() => undefined);
      if (shot) lines.push(`screenshot: ${path.relative(ROOT, shot)}`);
    }
    report(false, `${flow.name}: ${flow.title}`, `(${elapsed(flowStarted)})`, [...lines, ...notes]);
  }
}

// ---------------------------------------------------------------------------------------------
// Keep the logs, stop everything, summarise
// ---------------------------------------------------------------------------------------------
await cleanup();
const errorLines = [];
for (const name of ['dev', 'packaged']) {
  const dir = path.join(runDir, name);
  const log = path.join(dir, 'code-server.log');
  if (fs.existsSync(log)) fs.copyFileSync(log, path.join(RESULTS, `code-server-${name}.log`));
  const stateDir = path.join(dir, 'state');
  for (const file of fs.existsSync(stateDir) ? fs.readdirSync(stateDir) : []) {
    if (/\.log$/.test(file)) fs.copyFileSync(path.join(stateDir, file), path.join(RESULTS, `daemon-${name}-${file}`));
  }
  extensionLogs(dir).forEach((file, i) => {
    const copy = path.join(RESULTS, `extension-${name}-${i + 1}.log`);
    fs.copyFileSync(file, copy);
    // A failed command says why only in a notification and here: the first place to look after a FAIL.
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) if (/ \[error\] /.test(line)) errorLines.push(`${path.basename(copy)}: ${line}`);
  });
}
if (failed > 0) {
  say(`\nLogs: ${path.relative(ROOT, RESULTS)}/ (code-server-*.log, browser-console-*.log, extension-host-mocha.log, extension-*.log, daemon-*.log)`);
  const devLog = path.join(runDir, 'dev', 'code-server.log');
  if (fs.existsSync(devLog)) say(`--- end of the editor's log ---\n${readTail(devLog, 2000)}`);
  // Last, so that a reader who sees only the end of the output (a CI summary) still sees what failed and why.
  if (errorLines.length > 0) say(`--- errors in Switchyard's log (last ${Math.min(20, errorLines.length)} of ${errorLines.length}) ---\n${errorLines.slice(-20).join('\n')}`);
  say(`--- failed ---\n${failedNames.join('\n')}`);
}
say(`\nEditor tests took ${elapsed(started)}.`);
say(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || (passed === 0 && selected.length > 0) ? 1 : 0);
