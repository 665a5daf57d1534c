// The status bar item: today's spend against the daily budget once connected (pushed by the daemon
// with switchyard/spendChanged; every workspace's, as the daily cap counts it), with this window's
// own workspace budget but no other window's, the team's spend and budgets in its tooltip where a
// team ledger is connected, the connection state otherwise (restarting, from Restart Daemon until the
// new daemon's handshake). Its accessible label always starts with "Switchyard:" and says whether the
// daemon is connected. Its figures are the connected daemon's only (LiveFigures).

import * as vscode from 'vscode';
import type { BudgetStatus, SpendSummary, TeamLedgerStatus } from '../daemon/protocol';
import { usd } from '../media/format';
import { workspaceKey } from './config';
import type { ConnectionState } from './connection';
import { connectingView } from './connectionParts';
import { LiveFigures, ownBudgets, worstBudget, type AnyBudget } from './spendParts';

const TOP = 3;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('switchyard.status', vscode.StatusBarAlignment.Right, 100);
  private state: ConnectionState = { kind: 'connecting', attempt: 0 };
  /** Today's spend and the team ledger's standing (as teamChanged pushed it, else as the connection's status said). */
  private readonly figures = new LiveFigures();
  private wasConnected = false;

  constructor() {
    this.item.name = 'Switchyard';
    this.render();
    this.item.show();
  }

  show(state: ConnectionState): void {
    this.state = state;
    if (state.kind === 'connected') {
      this.wasConnected = true;
      this.figures.connected(state.status.team.ledger);
    } else {
      this.figures.disconnected();
    }
    this.render();
  }

  spend(summary: SpendSummary): void {
    if (this.figures.spend(summary)) this.render();
  }

  team(ledger: TeamLedgerStatus): void {
    if (this.figures.team(ledger)) this.render();
  }

  private render(): void {
    const item = this.item;
    const state = this.state;
    switch (state.kind) {
      case 'connecting': {
        const view = connectingView(state, this.wasConnected);
        item.text = view.text;
        item.tooltip = view.tooltip;
        item.accessibilityInformation = { label: view.label };
        item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
        item.command = 'switchyard.showLogs';
        break;
      }
      case 'stopped':
        item.text = '$(debug-disconnect) Switchyard: daemon stopped';
        item.tooltip = `${state.message}\nClick to restart the daemon.`;
        item.accessibilityInformation = { label: `Switchyard: disconnected, daemon stopped. ${state.message}` };
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        item.command = 'switchyard.restartDaemon';
        break;
      case 'connected': {
        const { summary: s, ledger } = this.figures;
        // The summary lists every window's workspace cap; another's, reached, is not this window's limit.
        const budgets = ownBudgets(s?.budgets ?? [], workspaceKey());
        const day = budgets.find((b) => b.scope === 'day');
        const teamBudgets = ledger?.state === 'off' ? [] : ledger?.budgets ?? [];
        const worst = worstBudget([...budgets, ...teamBudgets]);
        const spent = s ? usd(s.todayNanoUsd) : '…';
        item.text = `$(pulse) ${spent}${day ? ` / ${usd(day.capNanoUsd)}` : s ? ' today' : ''}`;
        const budgetText = day ? ` of ${usd(day.capNanoUsd)} daily budget` : ' (no daily budget)';
        const stateText = worst?.state === 'exceeded' ? `; ${scopeName(worst)} budget reached` : worst?.state === 'warn' ? `; ${scopeName(worst)} budget nearly used` : '';
        item.accessibilityInformation = {
          label: `Switchyard: connected to daemon pid ${state.status.pid}. Today ${spent}${budgetText}${stateText}.`,
        };
        item.tooltip = tooltip(s, budgets, ledger, state);
        item.backgroundColor = worst?.state === 'exceeded'
          ? new vscode.ThemeColor('statusBarItem.errorBackground')
          : worst?.state === 'warn' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
        item.command = 'switchyard.showSpend';
        break;
      }
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}

function scopeName(b: AnyBudget): string {
  const name = b.scope === 'day' ? 'daily' : b.scope === 'month' ? 'monthly' : 'workspace';
  return b.setBy !== undefined ? `team ${name}` : name;
}

function top(record: Record<string, number>): [string, number][] {
  return Object.entries(record).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, TOP);
}

function tooltip(s: SpendSummary | undefined, budgets: BudgetStatus[], ledger: TeamLedgerStatus | undefined, state: Extract<ConnectionState, { kind: 'connected' }>): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.isTrusted = { enabledCommands: ['switchyard.showSpend', 'switchyard.setBudget', 'switchyard.switchPolicy'] };
  md.appendMarkdown('**Switchyard** spend\n\n');
  if (!s) {
    md.appendMarkdown('Loading spend…\n\n');
  } else {
    md.appendMarkdown(`| | |\n|---|---:|\n| Today (${s.day}) | ${usd(s.todayNanoUsd)} |\n| Month to date (${s.month}) | ${usd(s.monthNanoUsd)} |\n`);
    if (s.reservedNanoUsd > 0) md.appendMarkdown(`| Reserved in flight | ${usd(s.reservedNanoUsd)} |\n`);
    for (const b of budgets) {
      const left = Math.max(0, b.capNanoUsd - b.spentNanoUsd - b.reservedNanoUsd);
      const mark = b.state === 'exceeded' ? ' $(error)' : b.state === 'warn' ? ' $(warning)' : '';
      md.appendMarkdown(`| ${scopeName(b)} budget${mark} | ${usd(b.spentNanoUsd)} of ${usd(b.capNanoUsd)}, ${usd(left)} left |\n`);
    }
    const providers = top(s.byProvider);
    const sites = top(s.bySite);
    if (providers.length) md.appendMarkdown(`\n**Top providers this month**: ${providers.map(([k, v]) => `${k} ${usd(v)}`).join(' · ')}\n`);
    if (sites.length) md.appendMarkdown(`\n**Top sites**: ${sites.map(([k, v]) => `${k} ${usd(v)}`).join(' · ')}\n`);
  }
  if (ledger && ledger.state !== 'off') {
    md.appendMarkdown(`\n**Team** (real sites, UTC${ledger.state === 'connected' ? '' : `; ledger ${ledger.state}`})\n\n| | |\n|---|---:|\n| Today | ${usd(ledger.spentTodayNanoUsd)} |\n| Month to date | ${usd(ledger.spentMonthNanoUsd)} |\n`);
    for (const b of ledger.budgets) {
      const mark = b.state === 'exceeded' ? ' $(error)' : b.state === 'warn' ? ' $(warning)' : '';
      md.appendMarkdown(`| ${scopeName(b)} budget${mark} | ${usd(b.spentNanoUsd)} of ${usd(b.capNanoUsd)} |\n`);
    }
  }
  md.appendMarkdown(`\n---\n[Show spend](command:switchyard.showSpend) · [Set budget](command:switchyard.setBudget) · [Switch policy](command:switchyard.switchPolicy)\n\n`);
  md.appendMarkdown(`Connected to daemon ${state.status.version}, pid ${state.status.pid}, port ${state.state.port}; simulated fleet seed ${state.status.simulationSeed}`);
  return md;
}
