// One daemon per state dir. `daemon.lock` (created exclusively, holding the pid) is the mutex, taken
// before listening; `daemon.json` tells clients where the live daemon listens. A file left by a dead
// process is stale and is taken over.

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
    try {
      const fd = fs.openSync(lockPath, 'wx', 0o600);
      fs.writeSync(fd, String(pid));
      fs.closeSync(fd);
      return () => {
        if (readPid(lockPath) === pid) fs.rmSync(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readPid(lockPath);
      if (holder !== null && holder !== pid && isAlive(holder)) throw new AlreadyRunningError(holder, stateDir);
      // Stale (dead holder) or torn (empty, crashed between create and write): take it over.
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not take ${lockPath}: another process keeps recreating it`);
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
