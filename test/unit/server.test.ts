import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ArgsError, parseArgs } from '../../daemon/server/args';
import { acquireLock, AlreadyRunningError, readState, removeState, writeState } from '../../daemon/server/stateFile';
import { loadEndpointKey } from '../../daemon/server/endpointKey';
import { checkOrigin, checkToken, isLoopbackHost } from '../../daemon/server/guard';
import { defaultStateDir } from '../../daemon/protocol';
import { daemonArgs } from '../../extension/daemonProcess';
import { tempDir } from '../support/daemon';

test('parseArgs reads every flag and defaults the state dir per user', () => {
  const options = parseArgs(['--port', '0', '--state-dir', '/tmp/x', '--idle-timeout', '2.5', '--log-level', 'debug'], {}, '/home/ada');
  assert.deepEqual(options, { port: 0, stateDir: '/tmp/x', idleTimeoutMs: 2500, logLevel: 'debug', logStderr: false, simSpeed: 1 });
  assert.equal(parseArgs(['--sim-speed', '50'], {}, '/h').simSpeed, 50);
  assert.equal(parseArgs(['--sim-seed', '2147483647'], {}, '/h').simSeed, 2147483647);
  assert.equal(parseArgs([], {}, '/h').simSeed, undefined, 'no seed: the daemon draws one');
  assert.equal(parseArgs([], {}, '/home/ada').stateDir, '/home/ada/.local/state/switchyard');
  assert.equal(parseArgs([], { XDG_STATE_HOME: '/xdg' }, '/home/ada').stateDir, '/xdg/switchyard');
});

test('parseArgs names what was wrong', () => {
  assert.throws(() => parseArgs(['--port', 'abc']), (e: Error) => e instanceof ArgsError && /--port must be an integer.*"abc"/.test(e.message));
  assert.throws(() => parseArgs(['--port', '70000']), /--port must be an integer 0-65535/);
  assert.throws(() => parseArgs(['--port']), /--port needs a value/);
  assert.throws(() => parseArgs(['--idle-timeout', '-1']), /--idle-timeout must be seconds from 0 to 2147483 \(0: never\), got "-1"/);
  // Longer than setTimeout can wait: Node would fire at once, and the daemon stop as soon as it started.
  assert.throws(() => parseArgs(['--idle-timeout', '3000000']), /--idle-timeout must be seconds from 0 to 2147483/);
  assert.equal(parseArgs(['--idle-timeout', '2147483']).idleTimeoutMs, 2_147_483_000);
  assert.throws(() => parseArgs(['--log-level', 'loud']), /--log-level must be one of/);
  assert.throws(() => parseArgs(['--sim-speed', '0']), /--sim-speed must be a number > 0/);
  assert.throws(() => parseArgs(['--sim-seed', '1.5']), /--sim-seed must be an integer 0-2147483647, got "1.5"/);
  assert.throws(() => parseArgs(['--sim-seed', '-1']), /--sim-seed must be an integer/);
  assert.throws(() => parseArgs(['--sim-seed', '2147483648']), /--sim-seed must be an integer/);
  assert.throws(() => parseArgs(['--frobnicate']), /unknown argument "--frobnicate"/);
});

test('defaultStateDir ignores a relative XDG_STATE_HOME, as the spec requires', () => {
  assert.equal(defaultStateDir({ XDG_STATE_HOME: 'rel' }, '/h'), '/h/.local/state/switchyard');
});

test('the lock admits one live holder and takes over a dead one', () => {
  const dir = tempDir();
  const release = acquireLock(dir, process.pid);
  assert.throws(() => acquireLock(dir, process.pid + 1), (e: Error) => e instanceof AlreadyRunningError && e.message.includes(String(process.pid)));
  release();
  // A lock left by a process that no longer exists is stale.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  fs.writeFileSync(path.join(dir, 'daemon.lock'), dead);
  const again = acquireLock(dir, process.pid);
  assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(process.pid));
  again();
  assert.equal(fs.existsSync(path.join(dir, 'daemon.lock')), false);
});

/** The fs calls a lock taker makes; a rival may run just before or just after any of them. */
const LOCK_CALLS = ['openSync', 'writeSync', 'closeSync', 'writeFileSync', 'linkSync', 'renameSync', 'rmSync', 'unlinkSync', 'readFileSync'] as const;

/**
 * `first` takes the lock, and `rival` runs whole at its `step`-th stopping point (before or after one
 * of its fs calls). Returns who got the lock, and whether the step was reached at all.
 */
function lockRace(dir: string, step: number, first: number, rival: number) {
  const fsAny = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const real = Object.fromEntries(LOCK_CALLS.map((name) => [name, fsAny[name]]));
  let points = 0;
  let rivalRan = false;
  let rivalRelease: (() => void) | undefined;
  const point = () => {
    if (rivalRan || points++ !== step) return;
    rivalRan = true;
    LOCK_CALLS.forEach((name) => (fsAny[name] = real[name]));
    try {
      rivalRelease = acquireLock(dir, rival);
    } catch (error) {
      if (!(error instanceof AlreadyRunningError)) throw error;
    }
  };
  for (const name of LOCK_CALLS) {
    fsAny[name] = function (this: unknown, ...args: unknown[]) {
      point();
      const result = real[name].apply(this, args);
      point();
      return result;
    };
  }
  let firstRelease: (() => void) | undefined;
  try {
    firstRelease = acquireLock(dir, first);
  } catch (error) {
    if (!(error instanceof AlreadyRunningError)) throw error;
  } finally {
    LOCK_CALLS.forEach((name) => (fsAny[name] = real[name]));
  }
  return { firstRelease, rivalRelease, reached: rivalRan };
}

/** Two live starters, the rival arriving at each point of the first's acquireLock in turn: exactly one wins, and the lock names it. */
function raceEveryStep(prepare: (dir: string) => void): number {
  // Two live processes: this test and its parent.
  const [first, rival] = [process.pid, process.ppid];
  for (let step = 0; ; step++) {
    const dir = tempDir();
    prepare(dir);
    const { firstRelease, rivalRelease, reached } = lockRace(dir, step, first, rival);
    if (!reached) return step;
    const holders = [firstRelease && first, rivalRelease && rival].filter(Boolean);
    assert.equal(holders.length, 1, `rival at point ${step}: ${holders.length} holders`);
    assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(holders[0]), `rival at point ${step}`);
    (firstRelease ?? rivalRelease)!();
    assert.equal(fs.existsSync(path.join(dir, 'daemon.lock')), false);
    assert.deepEqual(fs.readdirSync(dir), [], 'no temp or aside file is left');
  }
}

test('two live starters on a free state dir: wherever the second arrives, exactly one gets the lock, never read empty', () => {
  const steps = raceEveryStep(() => {});
  assert.ok(steps >= 4, `only ${steps} points raced`);
});

test('two live starters taking over a dead holder\'s or a torn (empty) lock: wherever the second arrives, neither removes the other\'s fresh lock', () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  for (const left of [dead, '']) {
    const steps = raceEveryStep((dir) => fs.writeFileSync(path.join(dir, 'daemon.lock'), left));
    assert.ok(steps >= 8, `only ${steps} points raced`);
  }
});

test('the state file is written atomically, readable only by the user, and removed only by its owner', () => {
  const dir = tempDir();
  const file = writeState(dir, { port: 1234, pid: process.pid, token: 't0k3n-abcdef', version: '1.0.0' });
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readState(dir), { port: 1234, pid: process.pid, token: 't0k3n-abcdef', version: '1.0.0' });
  removeState(dir, process.pid + 1);
  assert.notEqual(readState(dir), null);
  removeState(dir, process.pid);
  assert.equal(readState(dir), null);
  fs.writeFileSync(path.join(dir, 'daemon.json'), '{"port": 12');
  assert.equal(readState(dir), null, 'a torn file means no daemon');
});

test('loopback hosts are recognised with and without ports; others are not', () => {
  for (const host of ['127.0.0.1', '127.0.0.1:8080', 'localhost:1', 'LOCALHOST', '[::1]:9', '127.1.2.3']) assert.ok(isLoopbackHost(host), host);
  for (const host of [undefined, '', 'evil.com', 'localhost.evil.com', '127.0.0.1.nip.io', '10.0.0.1:80', '[::2]']) assert.ok(!isLoopbackHost(host), String(host));
});

test('a browser origin or a rebinding host is refused with 403; tokens are compared exactly', () => {
  assert.equal(checkOrigin({ host: '127.0.0.1:1' }), null);
  assert.equal(checkOrigin({ host: '127.0.0.1:1', origin: 'https://example.com' })?.status, 403);
  assert.equal(checkOrigin({ host: 'attacker.example:1' })?.status, 403);
  const keys = ['secret-token', 'sk-switchyard-endpoint'];
  assert.equal(checkToken({}, keys)?.status, 401);
  assert.equal(checkToken({ authorization: 'Bearer secret-tokeN' }, keys)?.status, 401);
  assert.equal(checkToken({ authorization: 'Bearer secret-token-longer' }, keys)?.status, 401);
  assert.equal(checkToken({ authorization: 'Basic secret-token' }, keys)?.status, 401);
  assert.equal(checkToken({ authorization: 'Bearer secret-token' }, keys), null);
  assert.equal(checkToken({ authorization: 'Bearer sk-switchyard-endpoint' }, keys), null, 'either key opens');
  assert.equal(checkToken({ authorization: 'Bearer sk-switchyard-endpoint' }, ['secret-token'])?.status, 401, 'only the keys given');
});

test('the endpoint key is made once, readable by the user only, and the same at every start; a broken file gets a new key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-key-'));
  try {
    const first = loadEndpointKey(dir);
    assert.match(first.key, /^sk-switchyard-[A-Za-z0-9_-]{43}$/);
    assert.equal(first.created, 'no key yet');
    assert.equal(fs.statSync(first.file).mode & 0o777, 0o600);
    const again = loadEndpointKey(dir);
    assert.deepEqual(again, { key: first.key, file: first.file }, 'the same key at the next start');
    fs.chmodSync(first.file, 0o644);
    loadEndpointKey(dir);
    assert.equal(fs.statSync(first.file).mode & 0o777, 0o600, 'loosened permissions are tightened again');
    fs.writeFileSync(first.file, 'not a key\n');
    const fresh = loadEndpointKey(dir);
    assert.equal(fresh.created, 'the file held no valid key');
    assert.notEqual(fresh.key, first.key);
    assert.equal(fs.readFileSync(first.file, 'utf8'), `${fresh.key}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the command line the extension starts the daemon with reads back as the settings it came from', () => {
  const settings = { daemonScript: '/x/dist/daemon.js', stateDir: '/tmp/state', idleTimeoutSeconds: 600, port: 4141 };
  const [script, ...argv] = daemonArgs({ ...settings, simulationSeed: 7 });
  assert.equal(script, settings.daemonScript);
  assert.deepEqual(parseArgs(argv, {}, '/h'), { port: 4141, stateDir: '/tmp/state', idleTimeoutMs: 600_000, logLevel: 'info', logStderr: false, simSpeed: 1, simSeed: 7 });
  assert.equal(parseArgs(daemonArgs(settings).slice(1), {}, '/h').simSeed, undefined);
});
