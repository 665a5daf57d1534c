// One daemon per state dir. `daemon.lock` (holding the pid from the moment it exists, created only
// when absent) is the mutex, taken before listening; `daemon.json` tells clients where the live daemon
// listens, and who it is. A lock left by a dead process, or whose pid is now another process's, is stale
// and is taken over.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { STATE_FILE, type DaemonState } from '../protocol';
import { isRecordedProcessAlive } from './processIdentity';

const LOCK_FILE = 'daemon.lock';

/** The pid a lock names, and when the lock was made: its file's mtime, which moving and linking keep. */
interface Holder {
  pid: number;
  madeMs: number;
}

export class AlreadyRunningError extends Error {
  constructor(readonly pid: number, stateDir: string) {
    super(`a Switchyard daemon (pid ${pid}) is already running for ${stateDir}`);
  }
}

/** Takes the state dir for this process, or throws AlreadyRunningError. Returns the release function. */
export function acquireLock(stateDir: string, pid = process.pid): () => void {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const lockPath = path.join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createLock(lockPath, pid)) {
      return () => {
        if (readHolder(lockPath)?.pid === pid) fs.rmSync(lockPath, { force: true });
      };
    }
    const holder = readHolder(lockPath);
    if (holder !== null && holder.pid !== pid && isLiveHolder(stateDir, holder)) throw new AlreadyRunningError(holder.pid, stateDir);
    // Stale (dead holder, or its pid reused), torn (empty: left by a version that wrote the pid after
    // creating the file) or released meanwhile: take it over.
    removeStale(stateDir, lockPath, pid);
  }
  throw new Error(`could not take ${lockPath}: another process keeps recreating it`);
}

/** The pid of the live process holding the state dir's lock (judged as a starter judges it), or null when none does. */
export function liveLockHolder(stateDir: string): number | null {
  const holder = readHolder(path.join(stateDir, LOCK_FILE));
  return holder !== null && isLiveHolder(stateDir, holder) ? holder.pid : null;
}

/**
 * Creates the lock already holding `pid`, so no other starter can ever read it empty: the pid goes to a
 * file of this starter's own, which is then hard-linked as the lock (failing with EEXIST when taken).
 */
function createLock(lockPath: string, pid: number): boolean {
  const temp = uniqueName(lockPath, 'new');
  fs.writeFileSync(temp, String(pid), { flag: 'wx', mode: 0o600 });
  try {
    fs.linkSync(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/**
 * Removes a lock judged stale. Another starter may have taken it over since it was read, and removing
 * that fresh lock would let a third start beside it; so the file there now is moved aside (one atomic
 * step) and read again: a live holder's lock is put back, only a dead or torn one is removed.
 */
function removeStale(stateDir: string, lockPath: string, pid: number): void {
  const aside = uniqueName(lockPath, 'stale');
  try {
    fs.renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const holder = readHolder(aside);
  if (holder !== null && holder.pid !== pid && isLiveHolder(stateDir, holder)) restore(aside, lockPath);
  fs.rmSync(aside, { force: true });
}

/**
 * Puts back a live lock moved aside. EEXIST: yet another starter linked its own lock in the instant the
 * live one was away (three starters at once, on a stale lock); that one holds the state dir now.
 */
function restore(aside: string, lockPath: string): void {
  try {
    fs.linkSync(aside, lockPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** A name beside the lock that no other starter (process or attempt) uses. */
function uniqueName(lockPath: string, kind: string): string {
  return `${lockPath}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.${kind}`;
}

/**
 * The lock holder is alive while its pid is, unless daemon.json tells that pid now belongs to another
 * process. The lock itself holds the pid alone, as older versions read it: to them anything more is a
 * torn lock, taken over, and two daemons would append to one ledger. daemon.json speaks for the holder
 * only when it names the holder's pid and was written since the lock was made; one older than the lock
 * is a former holder's, which after a reboot may well have had this holder's very pid, and would make a
 * fresh lock look stale. A holder that died before writing daemon.json recorded no identity: its pid
 * alone decides, so a reuse of that pid still needs `daemon.lock` removed by hand.
 */
function isLiveHolder(stateDir: string, holder: Holder): boolean {
  return isRecordedProcessAlive(holder.pid, recordedIdentity(stateDir, holder));
}

function recordedIdentity(stateDir: string, holder: Holder): string | undefined {
  const json = readStamped(path.join(stateDir, STATE_FILE));
  if (json === null || json.mtimeMs < holder.madeMs) return undefined;
  const state = parseState(json.text);
  return state?.pid === holder.pid ? state.identity : undefined;
}

function readHolder(file: string): Holder | null {
  const lock = readStamped(file);
  if (lock === null) return null;
  const pid = Number(lock.text.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, madeMs: lock.mtimeMs } : null;
}

/** A file's text and mtime, both from one file though another may replace it meanwhile; null if absent. */
function readStamped(file: string): { text: string; mtimeMs: number } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    return { text: fs.readFileSync(fd, 'utf8'), mtimeMs: fs.fstatSync(fd).mtimeMs };
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** Written atomically (temp + rename) with mode 0600: it holds the token. */
export function writeState(stateDir: string, state: DaemonState): string {
  const file = path.join(stateDir, STATE_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(state) + '\n', { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
  return file;
}

export function removeState(stateDir: string, pid = process.pid): void {
  const state = readState(stateDir);
  if (state?.pid === pid) fs.rmSync(path.join(stateDir, STATE_FILE), { force: true });
}

export function readState(stateDir: string): DaemonState | null {
  try {
    return parseState(fs.readFileSync(path.join(stateDir, STATE_FILE), 'utf8'));
  } catch {
    // Missing: no daemon to talk to.
    return null;
  }
}

function parseState(text: string): DaemonState | null {
  try {
    const value = JSON.parse(text) as Partial<DaemonState>;
    if (typeof value.port === 'number' && typeof value.pid === 'number' && typeof value.token === 'string') {
      const state = { port: value.port, pid: value.pid, token: value.token, version: String(value.version ?? '') };
      return typeof value.identity === 'string' ? { ...state, identity: value.identity } : state;
    }
  } catch {
    // Torn: no daemon to talk to.
  }
  return null;
}
