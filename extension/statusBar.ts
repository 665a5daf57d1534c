// The status bar item: the daemon connection state, until spend replaces it once connected.

import * as vscode from 'vscode';
import type { ConnectionState } from './connection';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('switchyard.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'Switchyard';
    this.show({ kind: 'connecting', attempt: 0 });
    this.item.show();
  }

  show(state: ConnectionState): void {
    const item = this.item;
    switch (state.kind) {
      case 'connecting':
        item.text = '$(sync~spin) Switchyard: connecting';
        item.tooltip = state.attempt > 0 ? `Reconnecting to the Switchyard daemon (attempt ${state.attempt + 1})` : 'Connecting to the Switchyard daemon';
        item.backgroundColor = undefined;
        item.command = 'switchyard.showLogs';
        break;
      case 'connected':
        item.text = '$(plug) Switchyard: connected';
        item.tooltip = `Switchyard daemon ${state.status.version}, pid ${state.status.pid}, port ${state.state.port}`;
        item.backgroundColor = undefined;
        item.command = 'switchyard.showLogs';
        break;
      case 'stopped':
        item.text = '$(debug-disconnect) Switchyard: daemon stopped';
        item.tooltip = `${state.message}\nClick to restart the daemon.`;
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        item.command = 'switchyard.restartDaemon';
        break;
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}
