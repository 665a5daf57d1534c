// One daemon per state dir. `daemon.lock` (holding the pid from the moment it exists, created only
// when absent) is the mutex, taken before listening; `daemon.json` tells clients where the live daemon
// listens. A file left by a dead process is stale and is taken over.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { STATE_FILE, type DaemonState } from '../protocol';

const LOCK_FILE = 'daemon.lock';

export class AlreadyRunningError extends Error {
  constructor(readonly pid: number, stateDir: string) {
    super(`a Switchyard daemon (pid ${pid}) is already running for ${stateDir}`);
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, which still means the state dir is taken.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the state dir for this process, or throws AlreadyRunningError. Returns the release function. */
export function acquireLock(stateDir: string, pid = process.pid): () => void {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const lockPath = path.join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createLock(lockPath, pid)) {
      return () => {
        if (readPid(lockPath) === pid) fs.rmSync(lockPath, { force: true });
      };
    }
    const holder = readPid(lockPath);
    if (holder !== null && holder !== pid && isAlive(holder)) throw new AlreadyRunningError(holder, stateDir);
    // Stale (dead holder), torn (empty: left by a version that wrote the pid after creating the file)
    // or released meanwhile: take it over.
    removeStale(lockPath, pid);
  }
  throw new Error(`could not take ${lockPath}: another process keeps recreating it`);
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
function removeStale(lockPath: string, pid: number): void {
  const aside = uniqueName(lockPath, 'stale');
  try {
    fs.renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const holder = readPid(aside);
  if (holder !== null && holder !== pid && isAlive(holder)) restore(aside, lockPath);
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

function readPid(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
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
    const value = JSON.parse(fs.readFileSync(path.join(stateDir, STATE_FILE), 'utf8')) as Partial<DaemonState>;
    if (typeof value.port === 'number' && typeof value.pid === 'number' && typeof value.token === 'string') {
      return { port: value.port, pid: value.pid, token: value.token, version: String(value.version ?? '') };
    }
  } catch {
    // Missing or torn: no daemon to talk to.
  }
  return null;
}
