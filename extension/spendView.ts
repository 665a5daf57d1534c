// The spend view's host side: a webview with spend over time, tables and totals, kept current by
// switchyard/spendChanged, and the team's spend where a team ledger is connected (switchyard/teamChanged).

import * as vscode from 'vscode';
import * as proto from '../daemon/protocol';
import type { SpendHostMessage, SpendWebviewMessage } from '../media/messages';
import { workspaceKey } from './config';
import type { DaemonConnection } from './connection';
import type { DaemonEvents } from './events';
import { html, webviewOptions } from './webviewHtml';

export const SPEND_VIEW_TYPE = 'switchyard.spend';

export class SpendView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** The catalog's sites by id, read when the view opens and again when the catalog changes. */
  private sites: Record<string, proto.SiteRef> = {};

  constructor(private readonly context: vscode.ExtensionContext, private readonly connection: DaemonConnection, private readonly events: DaemonEvents) {
    this.disposables.push(
      events.onSpendChanged(() => this.post()),
      // The figures stay on screen while the daemon is away, saying they are the last known; the spend
      // read at the next connect redraws them as live.
      connection.onDidChangeState((state) => state.kind !== 'connected' && this.postConnection(false)),
      events.onCatalogChanged(() => void this.refreshSites()),
      events.onTeamChanged((team) => this.postTeam(team.ledger)),
      vscode.window.registerWebviewPanelSerializer(SPEND_VIEW_TYPE, { deserializeWebviewPanel: async (panel) => this.attach(panel) }),
    );
  }

  open(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    this.attach(vscode.window.createWebviewPanel(SPEND_VIEW_TYPE, 'Switchyard Spend', vscode.ViewColumn.Active, webviewOptions(this.context.extensionUri)));
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icon.svg');
    panel.webview.options = webviewOptions(this.context.extensionUri);
    panel.webview.html = html(panel.webview, this.context.extensionUri, {
      title: 'Switchyard Spend', script: 'dist/media/spend.js', styles: ['dist/media/codicon.css', 'dist/media/uPlot.min.css', 'media/spend.css'], body: BODY,
    });
    const subs = [
      panel.webview.onDidReceiveMessage((m: SpendWebviewMessage) => void this.onMessage(m)),
      panel.onDidDispose(() => {
        this.panel = undefined;
        subs.forEach((d) => d.dispose());
      }),
    ];
  }

  private async onMessage(m: SpendWebviewMessage): Promise<void> {
    switch (m?.type) {
      case 'ready':
      case 'refresh':
        await this.events.refreshSpend().catch(() => undefined);
        await this.refreshSites();
        await this.events.client?.sendRequest(proto.status).then((s) => this.postTeam(s.team.ledger), () => undefined);
        return;
      case 'export':
        await vscode.commands.executeCommand('switchyard.exportLedger');
        return;
      case 'setBudget':
        await vscode.commands.executeCommand('switchyard.setBudget');
        return;
      case 'setTeamBudget':
        await vscode.commands.executeCommand('switchyard.setTeamBudget');
        return;
      case 'showPlacement':
        await vscode.commands.executeCommand('switchyard.showPlacement', String(m.id));
        return;
    }
  }

  /** Reads the catalog's sites, by which the view names sites, and shows the spend again. */
  private async refreshSites(): Promise<void> {
    if (!this.panel) return;
    const sites = await this.events.client?.sendRequest(proto.sites).catch(() => undefined);
    if (sites) this.sites = Object.fromEntries(sites.map((s) => [s.site.id, s.site]));
    this.post();
  }

  private post(): void {
    if (!this.panel) return;
    const summary = this.events.spend;
    if (!summary) return this.postConnection(!!this.events.client);
    void this.panel.webview.postMessage({ type: 'spend', summary, workspace: workspaceKey() ?? null, sites: this.sites } satisfies SpendHostMessage);
    if (this.connection.state.kind !== 'connected') this.postConnection(false);
  }

  private postConnection(connected: boolean): void {
    void this.panel?.webview.postMessage({ type: 'connection', connected } satisfies SpendHostMessage);
  }

  private postTeam(ledger: proto.TeamLedgerStatus): void {
    void this.panel?.webview.postMessage({ type: 'team', ledger } satisfies SpendHostMessage);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

const BODY = `
<header class="bar">
  <h1>Spend</h1>
  <div class="totals" id="totals" aria-live="polite"></div>
  <span class="spacer"></span>
  <label for="stack">Stack by <select id="stack"><option value="provider">provider</option><option value="site">site</option></select></label>
  <button id="budget" class="secondary"><span class="codicon codicon-credit-card" aria-hidden="true"></span>Set Budget</button>
  <button id="export"><span class="codicon codicon-export" aria-hidden="true"></span>Export Ledger…</button>
</header>
<div id="status" role="status"></div>
<section id="budgets" aria-label="Budgets"></section>
<section id="team" aria-label="Team spend" hidden>
  <div class="bar"><h2>Team</h2><span class="spacer"></span><button id="team-budget" class="secondary"><span class="codicon codicon-organization" aria-hidden="true"></span>Set Team Budget</button></div>
  <div id="team-status" class="muted" role="status"></div>
  <div class="totals" id="team-totals"></div>
  <div id="team-budgets"></div>
  <table id="by-member"></table>
</section>
<section aria-label="Spend per day this month"><h2>Per day, this month</h2><div id="chart"></div><div id="legend" class="legend"></div></section>
<section class="tables">
  <div><h2>By site</h2><table id="by-site"></table></div>
  <div><h2>By model</h2><table id="by-model"></table></div>
  <div><h2>By workspace</h2><table id="by-workspace"></table></div>
  <div><h2>By provider</h2><table id="by-provider"></table></div>
  <div><h2>By client</h2><table id="by-client"></table></div>
</section>
<section aria-label="Recent requests"><h2>Recent requests</h2><table id="recent"></table></section>`;
