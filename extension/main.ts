// Activation: cheap (onStartupFinished); everything heavy happens in the daemon.

import * as vscode from 'vscode';
import os from 'node:os';
import { defaultStateDir } from '../daemon/protocol';
import { DaemonConnection, type ConnectionSettings } from './connection';
import { StatusBar } from './statusBar';

let connection: DaemonConnection | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Switchyard', { log: true });
  const statusBar = new StatusBar();
  connection = new DaemonConnection(context.asAbsolutePath('dist/daemon.js'), readSettings, log);
  context.subscriptions.push(
    log,
    statusBar,
    connection,
    connection.onDidChangeState((state) => statusBar.show(state)),
    vscode.commands.registerCommand('switchyard.restartDaemon', async () => {
      await connection?.restart();
    }),
    vscode.commands.registerCommand('switchyard.showLogs', () => log.show()),
  );
  connection.start();
}

export function deactivate(): void {
  // The daemon is shared with other windows and exits by itself when idle: only disconnect.
  connection?.dispose();
  connection = undefined;
}

function readSettings(): ConnectionSettings {
  const config = vscode.workspace.getConfiguration('switchyard.daemon');
  const stateDir = config.get<string>('stateDir')?.trim();
  return {
    stateDir: stateDir ? stateDir : defaultStateDir(process.env, os.homedir()),
    idleTimeoutSeconds: config.get<number>('idleTimeoutSeconds') ?? 600,
  };
}
