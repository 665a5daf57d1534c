// The spend view webview: totals, budgets, a stacked per-day chart (uPlot) and tables. Data comes
// only from the host (SpendHostMessage); buttons post SpendWebviewMessages.

import uPlot from 'uplot';
import type { RecentRequest, SiteRef, SpendSummary, TeamLedgerStatus } from '../daemon/protocol';
import { ms, siteLabel, usd } from './format';
import type { SpendHostMessage, SpendWebviewMessage } from './messages';
import { axisDollars, chartColours, coloursChanged, siteNames, stackDays, tableRows, type ChartColours } from './spendModel';

interface VsCodeApi {
  postMessage(message: SpendWebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const stackSelect = $<HTMLSelectElement>('stack');
let summary: SpendSummary | undefined;
let workspace: string | null = null;
let catalog: Record<string, SiteRef> = {};
/** Site id to what the view calls it (siteNames); ids it does not know read as themselves. */
let names: Record<string, string> = {};
let plot: uPlot | undefined;
/** The colours the chart on screen was drawn in; undefined while none is drawn. */
let drawnWith: ChartColours | undefined;
const saved = (vscode.getState() ?? {}) as { stack?: 'provider' | 'site' };
stackSelect.value = saved.stack ?? 'provider';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  node.append(...children);
  return node;
}

/** The theme's colours for the chart, as they are now. */
function themeColours(): ChartColours {
  const style = getComputedStyle(document.body);
  return chartColours((name) => style.getPropertyValue(name));
}

function renderTotals(s: SpendSummary): void {
  $('totals').replaceChildren(
    el('span', 'total', el('span', 'label', 'Today '), el('strong', '', usd(s.todayNanoUsd))),
    el('span', 'total', el('span', 'label', 'Month to date '), el('strong', '', usd(s.monthNanoUsd))),
    el('span', 'total', el('span', 'label', 'Requests '), el('strong', '', String(s.receipts))),
    ...(s.reservedNanoUsd > 0 ? [el('span', 'total', el('span', 'label', 'Reserved '), el('strong', '', usd(s.reservedNanoUsd)))] : []),
  );
  const budgets = s.budgets.map((b) => budgetLine(`${b.scope === 'day' ? 'Daily' : b.scope === 'month' ? 'Monthly' : `Workspace${b.workspace ? ` (${b.workspace})` : ''}`} budget`, b));
  $('budgets').replaceChildren(...(budgets.length ? budgets : [el('div', 'muted', 'No budget caps set.')]));
}

/** One cap as a meter of what is spent and held, and what is left. */
function budgetLine(name: string, b: { capNanoUsd: number; spentNanoUsd: number; reservedNanoUsd: number; state: 'ok' | 'warn' | 'exceeded'; softRatio?: number }): HTMLElement {
  const meter = el('meter');
  meter.min = 0;
  meter.max = 1;
  meter.low = b.softRatio ?? 0.8;
  meter.high = 0.999;
  meter.optimum = 0;
  meter.value = b.capNanoUsd > 0 ? Math.min(1, (b.spentNanoUsd + b.reservedNanoUsd) / b.capNanoUsd) : 0;
  return el('div', `budget state-${b.state}`, el('span', 'label', name), meter,
    `${usd(b.spentNanoUsd)} of ${usd(b.capNanoUsd)} · ${usd(Math.max(0, b.capNanoUsd - b.spentNanoUsd - b.reservedNanoUsd))} left${b.state === 'exceeded' ? ' · cap reached' : b.state === 'warn' ? ' · nearly used' : ''}`);
}

/** The team ledger's standing: the team's spend at real sites (UTC), its caps, and each member's month. */
function renderTeam(l: TeamLedgerStatus): void {
  const section = $('team');
  section.hidden = l.state === 'off';
  if (l.state === 'off') return;
  $('team-status').textContent = l.state === 'connected'
    ? `Real sites only, UTC days and months; this window records as ${l.member}.`
    : l.state === 'connecting' ? `Connecting to the team ledger at ${l.server}…` : `The team ledger at ${l.server} is unreachable (${l.error}); showing what was last read.`;
  $('team-totals').replaceChildren(
    el('span', 'total', el('span', 'label', 'Today '), el('strong', '', usd(l.spentTodayNanoUsd))),
    el('span', 'total', el('span', 'label', 'Month to date '), el('strong', '', usd(l.spentMonthNanoUsd))),
    ...(l.reservedNanoUsd > 0 ? [el('span', 'total', el('span', 'label', 'Held in flight '), el('strong', '', usd(l.reservedNanoUsd)))] : []),
  );
  const budgets = l.budgets.map((b) => budgetLine(`Team ${b.scope === 'day' ? 'daily' : 'monthly'} budget (set by ${b.setBy})`, b));
  $('team-budgets').replaceChildren(...(budgets.length ? budgets : [el('div', 'muted', 'No team budget set.')]));
  renderTable('by-member', Object.fromEntries(l.members.map((m) => [m.member, m.spentMonthNanoUsd])), 'member');
}

/** A table of spend by one key; `named` shows a site's name, its id on hover. */
function renderTable(id: string, record: Record<string, number>, label: string, named = false): void {
  const rows = tableRows(record);
  const table = $<HTMLTableElement>(id);
  const head = el('thead', '', el('tr', '', el('th', '', label), el('th', 'num', 'this month'), el('th', 'num', 'share')));
  const keyCell = (key: string) => {
    const cell = el('td', '', (named ? names[key] : undefined) ?? (key || '(none)'));
    if (named) cell.title = key;
    return cell;
  };
  const body = el('tbody', '', ...rows.map((r) => el('tr', '', keyCell(r.key), el('td', 'num', usd(r.nanoUsd)), el('td', 'num', `${(r.share * 100).toFixed(1)}%`))));
  if (rows.length === 0) body.append(el('tr', '', el('td', 'muted', 'No spend yet')));
  table.replaceChildren(head, body);
}

/** The latest requests of every client, each with "why?" to open its placement. */
function renderRecent(recent: RecentRequest[]): void {
  const head = el('thead', '', el('tr', '', ...['time', 'client', 'model', 'site', 'cost', 'total', ''].map((h, i) => el('th', i === 4 || i === 5 ? 'num' : '', h))));
  const body = el('tbody', '', ...recent.map((r) => {
    const why = el('button', 'link', 'why?');
    why.title = `Show placement ${r.placementId}`;
    why.dataset.action = 'why';
    why.addEventListener('click', () => vscode.postMessage({ type: 'showPlacement', id: r.placementId }));
    const row = el('tr', '', el('td', '', new Date(r.createdAt).toLocaleTimeString()), el('td', '', r.client), el('td', '', r.model),
      el('td', '', siteLabel(r.site, true), ...(r.outcome === 'complete' ? [] : [el('span', 'muted', ` · ${r.outcome}`)])), el('td', 'num', usd(r.costNanoUsd)), el('td', 'num', ms(r.totalMs)), el('td', '', why));
    row.dataset.placement = r.placementId;
    return row;
  }));
  if (recent.length === 0) body.append(el('tr', '', el('td', 'muted', 'No requests yet')));
  $<HTMLTableElement>('recent').replaceChildren(head, body);
}

function renderChart(s: SpendSummary): void {
  const by = stackSelect.value === 'site' ? 'site' : 'provider';
  const data = stackDays(s, by);
  const name = (k: string) => (by === 'site' ? names[k] ?? k : k);
  const host = $('chart');
  plot?.destroy();
  plot = undefined;
  drawnWith = undefined;
  host.replaceChildren();
  const colours = themeColours();
  const series = colours.series;
  $('legend').replaceChildren(...data.keys.map((k, i) => {
    const swatch = el('span', `swatch c${i % series.length}`);
    return el('span', 'legend-item', swatch, `${name(k)} ${usd(Math.round(data.values[i].reduce((a, b) => a + b, 0) * 1e9))}`);
  }));
  // Every day of the month so far is on the x axis, spent or not: with no series there is nothing to draw.
  if (data.keys.length === 0) {
    host.append(el('div', 'muted', 'No spend this month yet.'));
    return;
  }
  const fg = colours.axis;
  const grid = colours.grid;
  const bars = uPlot.paths.bars!({ size: [0.6, 48] });
  const opts: uPlot.Options = {
    width: Math.max(320, host.clientWidth || 600),
    height: 240,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: () => [-0.5, data.x.length - 0.5] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 0.01] } },
    axes: [
      { stroke: fg, grid: { show: false }, ticks: { stroke: grid }, incrs: [1, 2, 5, 7, 10], values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? data.days[v]?.slice(5) ?? '' : '')) },
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 90, values: (_u, splits, _axis, _space, step) => axisDollars(splits, step) },
    ],
    // Cumulative series drawn largest first, so each smaller stack paints over the bottom of the one before.
    series: [{}, ...data.keys.map((k, i) => ({ label: name(k), fill: series[i % series.length], stroke: series[i % series.length], width: 0, paths: bars, points: { show: false } }))],
  };
  plot = new uPlot(opts, [data.x, ...data.stacked], host);
  drawnWith = colours;
}

function render(): void {
  if (!summary) return;
  $('status').textContent = `${summary.month}${workspace ? ` · this window's workspace: ${workspace}` : ''}`;
  names = siteNames(summary, catalog);
  renderTotals(summary);
  renderChart(summary);
  renderTable('by-site', summary.bySite, 'site', true);
  renderTable('by-model', summary.byModel, 'model');
  renderTable('by-workspace', summary.byWorkspace, 'workspace');
  renderTable('by-provider', summary.byProvider, 'provider');
  renderTable('by-client', summary.byClient, 'client');
  renderRecent(summary.recent ?? []);
}

window.addEventListener('message', (event: MessageEvent<SpendHostMessage>) => {
  const m = event.data;
  if (m?.type === 'spend') {
    summary = m.summary;
    workspace = m.workspace;
    catalog = m.sites;
    render();
  } else if (m?.type === 'team') {
    renderTeam(m.ledger);
  } else if (m?.type === 'connection' && !m.connected) {
    $('status').textContent = 'Not connected to the Switchyard daemon; showing the last spend known.';
  }
});
stackSelect.addEventListener('change', () => {
  vscode.setState({ stack: stackSelect.value });
  if (summary) renderChart(summary);
});
$('export').addEventListener('click', () => vscode.postMessage({ type: 'export' }));
$('budget').addEventListener('click', () => vscode.postMessage({ type: 'setBudget' }));
$('team-budget').addEventListener('click', () => vscode.postMessage({ type: 'setTeamBudget' }));
// A theme switch restyles the page, but the canvas keeps the colours it was drawn in. VS Code switches
// by rewriting the body's classes and the --vscode-* variables on <html> in one go; by the time this
// runs both are done.
const themeWatch = new MutationObserver(() => {
  if (summary && coloursChanged(drawnWith, themeColours())) renderChart(summary);
});
themeWatch.observe(document.body, { attributes: true, attributeFilter: ['class'] });
themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
let resizeTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => summary && renderChart(summary), 150);
});
vscode.postMessage({ type: 'ready' });
