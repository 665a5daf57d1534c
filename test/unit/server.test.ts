import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { ArgsError, parseArgs } from '../../daemon/server/args';
import { acquireLock, AlreadyRunningError, readState, removeState, writeState } from '../../daemon/server/stateFile';
import { processIdentity, startTimeFromStat } from '../../daemon/server/processIdentity';
import { loadEndpointKey } from '../../daemon/server/endpointKey';
import { DEFAULT_SETTINGS, loadSettings } from '../../daemon/server/settings';
import { checkOrigin, checkToken, isLoopbackHost } from '../../daemon/server/guard';
import { defaultStateDir } from '../../daemon/protocol';
import { daemonArgs, findDaemon, signalDaemon, stopDaemon } from '../../extension/daemonProcess';
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

const noProc = !fs.existsSync('/proc/self/stat') && 'needs /proc (Linux)';

/** Who `pid` is, read straight from /proc: the boot id and the process's start time (field 22). */
function procIdentity(pid: number): string {
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const start = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ')[19];
  return `${boot} ${start}`;
}

/** What daemon.json would record for a process that had `pid` before: a start later in this boot, or another boot. */
function othersBefore(pid: number): string[] {
  const [boot, start] = procIdentity(pid).split(' ');
  return [`${boot} ${Number(start) + 1}`, `${crypto.randomUUID()} ${start}`];
}

/** A lock naming `pid`, and then (a minute later, as a daemon writes it once listening) daemon.json recording `pid` as `identity`. */
function lockThenState(dir: string, pid: number, identity: string): void {
  const lock = path.join(dir, 'daemon.lock');
  fs.writeFileSync(lock, String(pid));
  const json = writeState(dir, { port: 1, pid, token: 't', version: '0', identity });
  const now = Date.now() / 1000;
  fs.utimesSync(lock, now - 120, now - 120);
  fs.utimesSync(json, now - 60, now - 60);
}

test('a lock whose pid is alive but, as daemon.json tells, now another process\'s is taken over, and then holds the taker\'s pid alone', { skip: noProc }, () => {
  for (const identity of othersBefore(process.ppid)) {
    const dir = tempDir();
    lockThenState(dir, process.ppid, identity);
    const release = acquireLock(dir, process.pid);
    // Exactly the pid: older daemons read the lock with Number(), and would take anything more for torn.
    assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(process.pid));
    release();
    assert.equal(fs.existsSync(path.join(dir, 'daemon.lock')), false);
  }
});

test('a lock whose pid is alive and still the process daemon.json records is refused', { skip: noProc }, () => {
  const dir = tempDir();
  assert.equal(processIdentity(process.ppid), procIdentity(process.ppid));
  lockThenState(dir, process.ppid, processIdentity(process.ppid)!);
  assert.throws(() => acquireLock(dir, process.pid), (e: Error) => e instanceof AlreadyRunningError && e.pid === process.ppid);
  assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(process.ppid));
});

test('a lock whose live pid has no identity recorded for it is refused: the pid alone decides', { skip: noProc }, () => {
  // No daemon.json, as a holder leaves that died before listening, or an older version's daemon.json.
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'daemon.lock'), String(process.ppid));
  assert.throws(() => acquireLock(dir, process.pid), (e: Error) => e instanceof AlreadyRunningError && e.pid === process.ppid);
  writeState(dir, { port: 1, pid: process.ppid, token: 't', version: '0' });
  assert.throws(() => acquireLock(dir, process.pid), (e: Error) => e instanceof AlreadyRunningError && e.pid === process.ppid);
  // daemon.json of another pid, or older than the lock: a former holder's, maybe given this holder's very pid.
  const [other] = othersBefore(process.ppid);
  writeState(dir, { port: 1, pid: process.pid, token: 't', version: '0', identity: other });
  assert.throws(() => acquireLock(dir, process.pid), (e: Error) => e instanceof AlreadyRunningError && e.pid === process.ppid);
  const json = writeState(dir, { port: 1, pid: process.ppid, token: 't', version: '0', identity: other });
  const now = Date.now() / 1000;
  fs.utimesSync(json, now - 60, now - 60);
  assert.throws(() => acquireLock(dir, process.pid), (e: Error) => e instanceof AlreadyRunningError && e.pid === process.ppid);
  assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(process.ppid));
});

test('a lock held by a daemon that was killed and not yet reaped (a zombie) is taken over: it has exited', { skip: noProc }, async () => {
  // Its parent (here a shell exec'd into sleep, as a container's PID 1 that never reaps) keeps it a zombie.
  const parent = spawn('bash', ['-c', 'sleep 300 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString()))));
    const identity = processIdentity(pid)!;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && !/^\S+ \(sleep\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'), /^\d+ \(sleep\) Z/, 'the killed process is a zombie');
    const dir = tempDir();
    lockThenState(dir, pid, identity);
    const release = acquireLock(dir, process.pid);
    assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(process.pid));
    release();
  } finally {
    parent.kill('SIGKILL');
  }
});

test('the start time is field 22 of /proc/<pid>/stat, counted after the last ")" of the command name', () => {
  const rest = 'R 7684 7684 6632 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 125795 3133440 361 18446744073709551615';
  assert.equal(startTimeFromStat(`7688 (cat) ${rest}\n`), '125795');
  // A name may hold spaces, digits and both parentheses: naive splitting would shift every field.
  assert.equal(startTimeFromStat(`7688 (x) 1 2 (y) 3 4) ${rest}\n`), '125795');
  assert.equal(startTimeFromStat('7688 (cat'), null);
  assert.equal(startTimeFromStat('7688 (cat) R 7684'), null);
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
    const left = fs.readdirSync(dir).filter((name) => name !== 'daemon.lock');
    const { firstRelease, rivalRelease, reached } = lockRace(dir, step, first, rival);
    if (!reached) return step;
    const holders = [firstRelease && first, rivalRelease && rival].filter(Boolean);
    assert.equal(holders.length, 1, `rival at point ${step}: ${holders.length} holders`);
    assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(holders[0]), `rival at point ${step}`);
    (firstRelease ?? rivalRelease)!();
    assert.equal(fs.existsSync(path.join(dir, 'daemon.lock')), false);
    assert.deepEqual(fs.readdirSync(dir), left, 'no temp or aside file is left');
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

test('two live starters taking over a lock whose pid was reused, one of them given that very pid: wherever the second arrives, neither removes the other\'s fresh lock', { skip: noProc }, () => {
  // The rival holds the pid daemon.json recorded for another process: its fresh lock must not look stale.
  const [identity] = othersBefore(process.ppid);
  const steps = raceEveryStep((dir) => lockThenState(dir, process.ppid, identity));
  assert.ok(steps >= 8, `only ${steps} points raced`);
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
  writeState(dir, { port: 1234, pid: process.pid, token: 't0k3n-abcdef', version: '1.0.0', identity: 'boot 42' });
  assert.equal(readState(dir)?.identity, 'boot 42', 'the identity is kept: the lock is judged by it');
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

test('the extension neither finds nor signals a daemon whose pid now belongs to another process', { skip: noProc }, async () => {
  const healthz = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => healthz.listen(0, '127.0.0.1', resolve));
  // Stands in for the unrelated program now running under the crashed daemon's pid.
  const program = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const ended = new Promise<NodeJS.Signals | null>((resolve) => program.once('exit', (_code, signal) => resolve(signal)));
  try {
    const dir = tempDir();
    const recorded = { port: (healthz.address() as AddressInfo).port, pid: program.pid!, token: 't', version: '0' };
    for (const identity of othersBefore(program.pid!)) {
      writeState(dir, { ...recorded, identity });
      assert.equal(await findDaemon(dir), null);
      assert.equal(signalDaemon({ ...recorded, identity }, 'SIGTERM'), false);
      await stopDaemon({ ...recorded, identity });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(program.exitCode ?? program.signalCode, null, 'the program was not signalled');
    // The same record naming the process as it is: found, and stopped.
    const itself = { ...recorded, identity: procIdentity(program.pid!) };
    writeState(dir, itself);
    assert.deepEqual(await findDaemon(dir), itself);
    await stopDaemon(itself);
    assert.equal(await ended, 'SIGTERM');
  } finally {
    program.kill('SIGKILL');
    healthz.closeAllConnections();
    healthz.close();
  }
});

test('a settings file with a field of the wrong type keeps the rest, and names the field', () => {
  const dir = tempDir();
  const file = path.join(dir, 'settings.json');
  fs.writeFileSync(file, JSON.stringify({ defaultPolicy: 'fastest', budgets: null, workspacePolicies: { '/ws': 'cheapest', '/bad': 5 }, catalogFile: 7, policies: 'cheapest' }));
  const { settings, error } = loadSettings(dir);
  assert.deepEqual(settings, { ...DEFAULT_SETTINGS, defaultPolicy: 'fastest' });
  assert.equal(error, `${file}: policies must be an array, workspacePolicies must map workspace keys to policy names, budgets must be an array, catalogFile must be a file path or null; those use their defaults`);
  fs.writeFileSync(file, '[1]');
  assert.deepEqual(loadSettings(dir), { settings: DEFAULT_SETTINGS, error: `${file}: must hold a JSON object; using defaults` });
  fs.writeFileSync(file, JSON.stringify({ ...DEFAULT_SETTINGS, catalogFile: '/c.json' }));
  assert.deepEqual(loadSettings(dir), { settings: { ...DEFAULT_SETTINGS, catalogFile: '/c.json' }, error: null });
});
