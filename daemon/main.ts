// Entry point of dist/daemon.js: `node dist/daemon.js --port <n|0> --state-dir <dir>`.

import { ArgsError, parseArgs } from './server/args';
import { Daemon } from './server/daemon';
import { AlreadyRunningError } from './server/stateFile';

/** Exit code when another live daemon holds the state dir; the extension then attaches to that one. */
const EXIT_ALREADY_RUNNING = 3;

async function main(): Promise<void> {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ArgsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(options);
  } catch (error) {
    if (error instanceof AlreadyRunningError) {
      process.stderr.write(`switchyard: ${error.message}\n`);
      process.exit(EXIT_ALREADY_RUNNING);
    }
    throw error;
  }
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => void daemon.stop(signal));
  }
  process.on('uncaughtException', (error) => {
    daemon.log.error('uncaught exception', { error });
    daemon.log.flush();
    process.exit(70);
  });
  await daemon.whenStopped();
  process.exit(0);
}

void main().catch((error: unknown) => {
  process.stderr.write(`switchyard: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
