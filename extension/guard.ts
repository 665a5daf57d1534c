// A command's failure, said once: an error message for the user (never a thrown command, which the
// workbench would report a second time) and a line in Switchyard's log, which outlives the notification
// and is where "Show Logs" and a bug report look.

import * as vscode from 'vscode';

/** Runs a command body; a failure is said and logged, and the body's result (or undefined) returned. */
export type Guard = <T>(what: string, run: () => Promise<T>) => Promise<T | undefined>;

export function guardWith(log: vscode.LogOutputChannel): Guard {
  return async (what, run) => {
    try {
      return await run();
    } catch (error) {
      const message = `${what}: ${(error as Error).message}`;
      log.error(message);
      void vscode.window.showErrorMessage(message);
      return undefined;
    }
  };
}
