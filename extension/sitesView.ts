// The Sites view (Switchyard's activity bar container): every site with what placement sees of it now
// (serving, breaker open or half-open, measured time to first token and speed, in flight, queued,
// errors, rate-limit headroom) and its models with their price cards. Refreshed after requests while
// the view is visible; sites that need a key, twins standing down for their keyed real sites and
// disabled sites sit in groups of their own. A site is switched off or on from its row, by an override
// in the user's catalog file.

import * as vscode from 'vscode';
import * as proto from '../daemon/protocol';
import { realIdOf } from '../daemon/catalog/twins';
import { switchSite } from './catalogFile';
import { STAYS_OPEN } from './commands';
import type { DaemonEvents } from './events';
import type { Guard } from './guard';
import { groupRows, ledgerRow, siteGroups, teamRow, type GroupRow, type ModelRow, type SiteGroups, type SiteRow, type SiteState, type TeamRow } from './siteRows';

const SITES_VIEW = 'switchyard.sites';

/** What the view shows: the site groups, and the team row when telemetry is shared. */
export type SitesSnapshot = SiteGroups & { team: TeamRow | null; ledger: TeamRow | null };

type Node =
  | { kind: 'team'; row: TeamRow }
  | { kind: 'site'; row: SiteRow }
  | { kind: 'model'; row: ModelRow; site: SiteRow }
  | { kind: 'group'; row: GroupRow };

const ICONS: Record<SiteState, vscode.ThemeIcon> = {
  serving: new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('testing.iconPassed')),
  'rate-limited': new vscode.ThemeIcon('watch', new vscode.ThemeColor('list.warningForeground')),
  'half-open': new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')),
  open: new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground')),
  'no key': new vscode.ThemeIcon('key'),
  'no address': new vscode.ThemeIcon('link'),
  disabled: new vscode.ThemeIcon('circle-slash'),
  'stands down': new vscode.ThemeIcon('debug-pause'),
};

/** What a site row's menu offers (package.json's view/item/context): set its key, give its address, enable it. */
const CONTEXT: Partial<Record<SiteState, string>> = { 'no key': 'site.noKey', 'no address': 'site.noAddress', disabled: 'site.disabled' };

/** Telemetry moves with every request; the view follows at most this often. */
const REFRESH_MS = 1000;

export class SitesView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly disposables: vscode.Disposable[];
  private groups: SiteGroups | undefined;
  private team: TeamRow | null = null;
  private ledger: TeamRow | null = null;
  private error: string | undefined;
  private catalogProblem: string | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly events: DaemonEvents, private readonly guarded: Guard) {
    this.view = vscode.window.createTreeView(SITES_VIEW, { treeDataProvider: this, showCollapseAll: true });
    this.disposables = [
      this.view,
      this.changed,
      events.onReady(() => this.refresh()),
      events.onReceipt(() => this.soon()),
      events.onTeamChanged(() => this.refresh()),
      this.view.onDidChangeVisibility((e) => {
        if (e.visible) this.refresh();
      }),
      vscode.commands.registerCommand('switchyard.refreshSites', () => this.refresh()),
      // The inline key button hands over its tree node; Set API Key wants the provider.
      vscode.commands.registerCommand('switchyard.setSiteKey', (node?: Node) =>
        vscode.commands.executeCommand('switchyard.setApiKey', node?.kind === 'site' ? node.row.provider : undefined)),
      vscode.commands.registerCommand('switchyard.disableSite', (node?: Node | string) => this.switchSite(node, true)),
      vscode.commands.registerCommand('switchyard.enableSite', (node?: Node | string) => this.switchSite(node, false)),
    ];
  }

  /**
   * A site row's "Disable"/"Enable" (or a site id from a caller): an override in the user's catalog file.
   * A twin's row means its real site, which the entry names; the view follows when the daemon reloads.
   */
  private async switchSite(node: Node | string | undefined, disabled: boolean): Promise<string | undefined> {
    const id = typeof node === 'string' ? node : node?.kind === 'site' ? node.row.id : await this.pickSite(disabled);
    if (!id) return undefined;
    const site = realIdOf(id) ?? id;
    return this.guarded(`Switchyard: could not ${disabled ? 'disable' : 'enable'} ${site}`, async () => {
      const file = await switchSite(site, disabled);
      vscode.window.setStatusBarMessage(`Switchyard: ${site} ${disabled ? 'disabled' : 'enabled'} in ${file}`, 4000);
      return file;
    });
  }

  /** From the palette: the sites that can be switched that way, twins standing for their real sites. */
  private async pickSite(disabled: boolean): Promise<string | undefined> {
    await this.load();
    const g = this.groups;
    const rows = !g ? [] : disabled ? [...g.serving, ...g.needKey, ...g.standingDown] : g.disabled;
    const byReal = new Map(rows.map((r) => [realIdOf(r.id) ?? r.id, r]));
    const picked = await vscode.window.showQuickPick([...byReal].map(([id, r]) => ({ label: r.label, description: id, id })), {
      title: `Switchyard: ${disabled ? 'Disable' : 'Enable'} Site in Catalog File`,
      placeHolder: byReal.size ? `The site to ${disabled ? 'switch off' : 'switch back on'} (an override in your catalog file)` : `No site to ${disabled ? 'disable' : 'enable'}`,
      matchOnDescription: true, ...STAYS_OPEN,
    });
    return picked?.id;
  }

  /** The rows as last read, for tests. */
  get snapshot(): SitesSnapshot | undefined {
    return this.groups && { ...this.groups, team: this.team, ledger: this.ledger };
  }

  /** The catalog's last reload was refused (null: it loaded): said above the sites, which are the previous catalog's. */
  catalogError(error: string | null): void {
    this.catalogProblem = error;
    this.view.message = this.message();
  }

  private message(): string | undefined {
    if (this.error) return this.error;
    return this.catalogProblem ? `Your catalog file was refused, so these are the previous catalog's sites: ${this.catalogProblem}` : undefined;
  }

  /** Reads the sites again now (the view shows them once read). */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.load();
  }

  private soon(): void {
    if (!this.view.visible || this.timer) return;
    this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }

  private async load(): Promise<void> {
    const client = this.events.client;
    if (!client) {
      this.error = 'Not connected to the Switchyard daemon.';
    } else {
      try {
        const [sites, status] = await Promise.all([client.sendRequest(proto.sites), client.sendRequest(proto.status)]);
        this.groups = siteGroups(sites);
        this.team = teamRow(status.team);
        this.ledger = ledgerRow(status.team);
        this.error = undefined;
      } catch (error) {
        this.error = `Reading the sites failed: ${(error as Error).message}`;
      }
    }
    this.view.message = this.message();
    const g = this.groups;
    const open = g?.serving.filter((r) => r.state === 'open').length ?? 0;
    const limited = g?.serving.filter((r) => r.state === 'rate-limited').length ?? 0;
    this.view.description = g ? `${g.serving.length} serving${open ? `, ${open} breaker open` : ''}${limited ? `, ${limited} rate-limited` : ''}` : undefined;
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (node?.kind === 'site') return node.row.models.map((row) => ({ kind: 'model', row, site: node.row }));
    if (node?.kind === 'group') return node.row.rows.map((row) => ({ kind: 'site', row }));
    if (node) return [];
    const g = this.groups;
    if (!g) return [];
    const teamRows = [this.team, this.ledger].filter((row) => row !== null);
    const nodes: Node[] = [...teamRows.map((row) => ({ kind: 'team' as const, row })), ...g.serving.map((row) => ({ kind: 'site' as const, row }))];
    nodes.push(...groupRows(g).map((row) => ({ kind: 'group' as const, row })));
    return nodes;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'team': {
        const item = new vscode.TreeItem(node.row.label, vscode.TreeItemCollapsibleState.None);
        item.id = `team:${node.row.command}`;
        item.description = node.row.description;
        item.tooltip = node.row.tooltip;
        item.iconPath = node.row.trouble ? new vscode.ThemeIcon('organization', new vscode.ThemeColor('list.warningForeground')) : new vscode.ThemeIcon('organization');
        item.command = { command: node.row.command, title: node.row.label };
        item.accessibilityInformation = { label: `${node.row.label}: ${node.row.description}` };
        return item;
      }
      case 'group': {
        const item = new vscode.TreeItem(node.row.label, vscode.TreeItemCollapsibleState.Collapsed);
        // Without an id the tree knows a node by its label, whose count changes: the group would fold shut
        // whenever a key is set or a site is switched.
        item.id = `group:${node.row.id}`;
        item.iconPath = new vscode.ThemeIcon(node.row.icon);
        item.tooltip = node.row.tooltip;
        return item;
      }
      case 'site': {
        const item = new vscode.TreeItem(node.row.label, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `site:${node.row.id}`;
        item.description = node.row.description;
        item.tooltip = new vscode.MarkdownString(node.row.tooltip);
        item.iconPath = ICONS[node.row.state];
        item.contextValue = CONTEXT[node.row.state] ?? 'site';
        item.accessibilityInformation = { label: `${node.row.label}: ${node.row.state}${node.row.description === node.row.state ? '' : `, ${node.row.description}`}` };
        return item;
      }
      case 'model': {
        const item = new vscode.TreeItem(node.row.label, vscode.TreeItemCollapsibleState.None);
        item.id = `model:${node.site.id}:${node.row.label}`;
        item.description = node.row.description;
        item.tooltip = new vscode.MarkdownString(node.row.tooltip);
        item.iconPath = new vscode.ThemeIcon('symbol-method');
        return item;
      }
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
