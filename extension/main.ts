// Activation: cheap (onStartupFinished); everything heavy happens in the daemon.

import * as vscode from 'vscode';
import os from 'node:os';
import path from 'node:path';
import * as proto from '../daemon/protocol';
import type { PanelState } from '../media/messages';
import { defaultStateDir } from '../daemon/protocol';
import { ChatRequests } from './chatRequests';
import { POLICY_STATE_KEY, registerCommands } from './commands';
import { affectsDaemon, catalogFileSetting, changedStartSettings, readConfigure, workspaceKey } from './config';
import { expandHome } from './daemonProcess';
import { DaemonConnection, type ConnectionSettings } from './connection';
import { DaemonEvents } from './events';
import { guardWith } from './guard';
import { LanguageModels } from './languageModels';
import { PromptPanel } from './panel';
import { Keys } from './secrets';
import { SitesView, type SitesSnapshot } from './sitesView';
import { SpendView } from './spendView';
import { StatusBar } from './statusBar';

let connection: DaemonConnection | undefined;

/** What the extension hands to tests (exports of activate). */
export interface SwitchyardApi {
  panelState(): PanelState;
  connected(): boolean;
  spend(): proto.SpendSummary | undefined;
  sites(): SitesSnapshot | undefined;
}

export function activate(context: vscode.ExtensionContext): SwitchyardApi {
  const log = vscode.window.createOutputChannel('Switchyard', { log: true });
  const statusBar = new StatusBar();
  const keys = new Keys(context.secrets, log);
  connection = new DaemonConnection(context.asAbsolutePath('dist/daemon.js'), readSettings, log);
  const conn = connection;

  /** A refusal of the settings, logged and shown with the way to them. */
  const settingsRefused = (error: unknown, what: string) => {
    log.error(`${what}: ${(error as Error).message}`);
    void vscode.window.showErrorMessage(`Switchyard settings: ${(error as Error).message}`, 'Open Settings').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.action.openSettings', 'switchyard');
    });
  };
  /** On every (re)connect, before anything else asks: settings, keys, the team link, this workspace's policy, then the spend. */
  const prepare = async (client: import('vscode-languageclient/node').LanguageClient) => {
    try {
      await client.sendRequest(proto.configure, readConfigure());
    } catch (error) {
      settingsRefused(error, 'the daemon refused the settings');
    }
    await keys.sendAll(client);
    await keys.sendTeam(client);
    const workspace = workspaceKey();
    const policy = context.workspaceState.get<string>(POLICY_STATE_KEY);
    if (workspace && policy) {
      await client.sendRequest(proto.setPolicy, { name: policy, workspace }).catch((e: Error) => log.warn(`re-applying policy "${policy}" failed: ${e.message}`));
    }
    await events.refreshSpend().catch((e: Error) => log.warn(`reading the spend failed: ${e.message}`));
  };
  const events = new DaemonEvents(conn, prepare);
  const chats = new ChatRequests(conn, events);
  const panel = new PromptPanel(context, conn, events, chats, log);
  const languageModels = new LanguageModels(conn, events, chats, context.globalState, log);
  const guarded = guardWith(log);
  const sitesView = new SitesView(events, guarded);
  /** The refusal last shown, so a file saved twice with the same mistake does not stack notifications. */
  let refusedCatalog: string | null = null;
  const catalogRefused = (error: string) => {
    log.error(`catalog refused; the previous catalog stays in force: ${error}`);
    if (error === refusedCatalog) return;
    refusedCatalog = error;
    void vscode.window.showErrorMessage(`Switchyard: the catalog was not loaded; the previous one stays in force. ${error}`, ...(catalogFileSetting() ? ['Open Catalog File'] : []), 'Show Logs').then((choice) => {
      if (choice === 'Open Catalog File') void vscode.commands.executeCommand('switchyard.editCatalog');
      else if (choice === 'Show Logs') log.show();
    });
  };
  const spendView = new SpendView(context, conn, events);

  context.subscriptions.push(
    log,
    statusBar,
    conn,
    events,
    chats,
    panel,
    languageModels,
    sitesView,
    spendView,
    conn.onDidChangeState((state) => statusBar.show(state)),
    events.onCatalogChanged((summary) => {
      sitesView.catalogError(summary.error);
      if (summary.error) return catalogRefused(summary.error);
      refusedCatalog = null;
      void panel.refresh();
      languageModels.refresh();
      sitesView.refresh();
    }),
    events.onSpendChanged((summary) => statusBar.spend(summary)),
    events.onTeamChanged((team) => statusBar.team(team.ledger)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!affectsDaemon(e)) return;
      const client = events.client;
      if (!client) return;
      try {
        await client.sendRequest(proto.configure, readConfigure());
        await events.refreshSpend();
        await panel.refresh();
        languageModels.refresh();
        sitesView.refresh();
      } catch (error) {
        settingsRefused(error, 'the daemon refused the new settings');
      }
    }),
    // A running daemon keeps the settings it started with, and other windows share it: say so, and let
    // the user choose when to restart rather than restarting under someone else's request.
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      const changed = changedStartSettings(e);
      if (changed.length === 0) return;
      const choice = await vscode.window.showInformationMessage(
        `Switchyard: ${changed.join(', ')} ${changed.length === 1 ? 'takes' : 'take'} effect when the daemon next starts. Restarting it stops the requests in flight in every window.`,
        'Restart Daemon',
      );
      if (choice === 'Restart Daemon') await vscode.commands.executeCommand('switchyard.restartDaemon');
    }),
    vscode.commands.registerCommand('switchyard.restartDaemon', async () => {
      await conn.restart();
    }),
    vscode.commands.registerCommand('switchyard.showLogs', () => log.show()),
    vscode.commands.registerCommand('switchyard.openPanel', () => panel.open()),
    vscode.commands.registerCommand('switchyard.askAboutSelection', () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) {
        panel.open();
        return;
      }
      const selection = editor.selection;
      const range = selection.isEmpty ? new vscode.Range(0, 0, editor.document.lineCount, 0) : selection;
      const text = editor.document.getText(range);
      const fileName = editor.document.isUntitled ? editor.document.fileName : path.basename(editor.document.fileName);
      const relative = vscode.workspace.asRelativePath(editor.document.uri, false);
      panel.open({ fileName: relative || fileName, language: editor.document.languageId, text, lines: [range.start.line + 1, Math.max(range.start.line + 1, range.end.character === 0 && range.end.line > range.start.line ? range.end.line : range.end.line + 1)] });
    }),
    vscode.commands.registerCommand('switchyard.showSpend', () => spendView.open()),
    ...registerCommands({ context, events, keys, guarded, onPolicies: (r) => panel.publishPolicies(r), onKeysChanged: () => {
      void panel.refresh();
      languageModels.refresh();
      sitesView.refresh();
    } }),
  );
  conn.start();
  return {
    panelState: () => panel.snapshot,
    connected: () => conn.state.kind === 'connected',
    spend: () => events.spend,
    sites: () => sitesView.snapshot,
  };
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
    stateDir: stateDir ? expandHome(stateDir, os.homedir()) : defaultStateDir(process.env, os.homedir()),
    idleTimeoutSeconds: config.get<number>('idleTimeoutSeconds') ?? 600,
    port: config.get<number>('port') ?? 0,
    simulationSeed: config.get<number | null>('simulationSeed') ?? undefined,
  };
}
