// Command line of `node dist/daemon.js`. Pure, so every refusal can be tested without a process.

import os from 'node:os';
import path from 'node:path';
import { defaultStateDir } from '../protocol';
import type { Level } from '../log/logger';

export interface DaemonOptions {
  port: number;
  stateDir: string;
  /** Exit after this long with no connected client; 0 never. */
  idleTimeoutMs: number;
  logLevel: Level;
  logStderr: boolean;
  catalogFile?: string;
  /** Simulated sites run this many times faster than wall time (tests, demos). */
  simSpeed: number;
  /** The simulated fleet's seed; drawn at random when absent, and logged either way. */
  simSeed?: number;
}

export const USAGE = `usage: switchyard-daemon [--port <n|0>] [--state-dir <dir>] [--idle-timeout <seconds>]
                         [--log-level trace|debug|info|warn|error] [--log-stderr] [--catalog <file>]
                         [--sim-speed <factor>] [--sim-seed <integer>]`;

export class ArgsError extends Error {}

/** Seeds are 31-bit, the range the daemon draws its own from. */
export const MAX_SEED = 2 ** 31 - 1;
/** The longest delay setTimeout takes is 2^31 - 1 ms; Node fires a longer one at once. */
export const MAX_IDLE_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const LEVELS: Level[] = ['trace', 'debug', 'info', 'warn', 'error'];

export function parseArgs(argv: string[], env: Record<string, string | undefined> = process.env, home = os.homedir()): DaemonOptions {
  const options: DaemonOptions = {
    port: 0,
    stateDir: defaultStateDir(env, home),
    idleTimeoutMs: 600_000,
    logLevel: 'info',
    logStderr: false,
    simSpeed: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new ArgsError(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    switch (flag) {
      case '--port': {
        const raw = value();
        const port = Number(raw);
        if (!/^\d+$/.test(raw) || port > 65535) throw new ArgsError(`--port must be an integer 0-65535, got "${raw}"`);
        options.port = port;
        break;
      }
      case '--state-dir':
        options.stateDir = path.resolve(value());
        break;
      case '--idle-timeout': {
        const raw = value();
        const seconds = Number(raw);
        if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_IDLE_SECONDS) {
          throw new ArgsError(`--idle-timeout must be seconds from 0 to ${MAX_IDLE_SECONDS} (0: never), got "${raw}"`);
        }
        options.idleTimeoutMs = seconds * 1000;
        break;
      }
      case '--log-level': {
        const level = value() as Level;
        if (!LEVELS.includes(level)) throw new ArgsError(`--log-level must be one of ${LEVELS.join(', ')}, got "${level}"`);
        options.logLevel = level;
        break;
      }
      case '--log-stderr':
        options.logStderr = true;
        break;
      case '--catalog':
        options.catalogFile = path.resolve(value());
        break;
      case '--sim-speed': {
        const raw = value();
        const speed = Number(raw);
        if (!Number.isFinite(speed) || speed <= 0) throw new ArgsError(`--sim-speed must be a number > 0, got "${raw}"`);
        options.simSpeed = speed;
        break;
      }
      case '--sim-seed': {
        const raw = value();
        const seed = Number(raw);
        if (!/^\d+$/.test(raw) || seed > MAX_SEED) throw new ArgsError(`--sim-seed must be an integer 0-${MAX_SEED}, got "${raw}"`);
        options.simSeed = seed;
        break;
      }
      case '--help':
      case '-h':
        throw new ArgsError(USAGE);
      default:
        throw new ArgsError(`unknown argument "${flag}"\n${USAGE}`);
    }
  }
  return options;
}
