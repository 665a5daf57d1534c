// Finding the user's daemon through daemon.json, or starting one with the editor's own Node
// (process.execPath + ELECTRON_RUN_AS_NODE), detached so it outlives this window and serves others.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { STATE_FILE, type DaemonState } from '../daemon/protocol';
import { isRecordedProcessAlive } from '../daemon/server/processIdentity';
import { liveLockHolder } from '../daemon/server/stateFile';

/** The daemon's exit code when another live daemon already holds the state dir. */
const EXIT_ALREADY_RUNNING = 3;

export function readDaemonState(stateDir: string): DaemonState | null {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, STATE_FILE), 'utf8')) as DaemonState;
    return typeof state.port === 'number' && typeof state.pid === 'number' && typeof state.token === 'string' ? state : null;
  } catch {
    return null;
  }
}

/** The daemon `state` records still runs: its pid is alive and, where known, not another process's now. */
export function isDaemonRunning(state: Pick<DaemonState, 'pid' | 'identity'>): boolean {
  return isRecordedProcessAlive(state.pid, state.identity);
}

/**
 * Sends `signal` to the daemon `state` records, unless it no longer runs: after a crash or a reboot its
 * pid may belong to any program of the user's, which must not be signalled. Returns whether it was sent.
 */
export function signalDaemon(state: Pick<DaemonState, 'pid' | 'identity'>, signal: NodeJS.Signals): boolean {
  if (!isDaemonRunning(state)) return false;
  process.kill(state.pid, signal);
  return true;
}

/** Stops the daemon `state` records: SIGTERM, then SIGKILL if it is still running 5 s later. */
export async function stopDaemon(state: DaemonState): Promise<void> {
  if (!signalDaemon(state, 'SIGTERM')) return;
  for (let i = 0; i < 50 && isDaemonRunning(state); i++) await delay(100);
  signalDaemon(state, 'SIGKILL');
}

/** A daemon that is alive and answers /healthz, or null. */
export async function findDaemon(stateDir: string): Promise<DaemonState | null> {
  const state = readDaemonState(stateDir);
  if (!state || !isDaemonRunning(state)) return null;
  try {
    const response = await fetch(`http://127.0.0.1:${state.port}/healthz`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? state : null;
  } catch {
    return null;
  }
}

export interface SpawnOptions {
  daemonScript: string;
  stateDir: string;
  idleTimeoutSeconds: number;
  /** 0: any free port. */
  port?: number;
  /** The simulated fleet's seed; absent, the daemon draws one. */
  simulationSeed?: number;
  timeoutMs?: number;
}

/** The daemon's command line for these options. */
export function daemonArgs(options: SpawnOptions): string[] {
  const args = [options.daemonScript, '--port', String(options.port ?? 0), '--state-dir', options.stateDir, '--idle-timeout', String(options.idleTimeoutSeconds)];
  if (options.simulationSeed !== undefined) args.push('--sim-seed', String(options.simulationSeed));
  return args;
}

/** A path from a setting: `~` and `~/...` are the home folder, as in a shell. */
export function expandHome(named: string, home: string): string {
  if (named === '~') return home;
  return named.startsWith('~/') ? path.join(home, named.slice(2)) : named;
}

/**
 * The daemon this window started died before it was ready (exited, or never wrote its state file): a
 * crash as the supervisor counts them, unlike losing the race to another window's start.
 */
export class DaemonStartFailed extends Error {}

/** What the daemon said on stderr as it failed, without the stack under it: the message is for the user. */
function failureText(stderr: string): string {
  return stderr.split('\n').filter((line) => line.trim() !== '' && !/^\s+at /.test(line)).join('\n').trim();
}

export async function startDaemon(options: SpawnOptions): Promise<DaemonState> {
  const child = spawn(
    process.execPath,
    daemonArgs(options),
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let holder: number | null = null;
  try {
    while (Date.now() < deadline) {
      const state = readDaemonState(options.stateDir);
      if (state && state.pid === child.pid) return state;
      const code = await Promise.race([exited, delay(100).then(() => undefined)]);
      if (code === EXIT_ALREADY_RUNNING) {
        // Another window won the race to start it: attach to that one once it answers.
        const winner = await findDaemon(options.stateDir);
        if (winner) return winner;
        // Or the holder was a daemon on its way out (idle, or stopped for a restart): nobody else will
        // start one, so say so at once and let the supervisor start again.
        holder = liveLockHolder(options.stateDir);
        if (holder === null) throw new Error(`the daemon holding ${options.stateDir} stopped before it answered; starting one again`);
        // `exited` has settled: without this wait the loop would never yield, and the editor would freeze.
        await delay(100);
      } else if (code !== undefined) {
        const said = failureText(stderr);
        throw new DaemonStartFailed(`the daemon exited with code ${code} before it was ready${said ? `: ${said}` : ''}`);
      }
    }
    child.kill();
    throw new DaemonStartFailed(holder !== null
      ? `the daemon (pid ${holder}) holding ${options.stateDir} did not answer within ${timeoutMs} ms`
      : `the daemon did not write ${STATE_FILE} within ${timeoutMs} ms`);
  } finally {
    child.stderr?.destroy();
    child.unref();
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
