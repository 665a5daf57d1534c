// The command palette: policy switching, keys, budgets, spend, the ledger export and the catalog file.

import * as vscode from 'vscode';
import os from 'node:os';
import * as proto from '../daemon/protocol';
import { teamUrlProblem } from '../daemon/team/url';
import { dollars, policyLine, usd } from '../media/format';
import { placementMarkdown } from '../media/placementReport';
import { editCatalogFile } from './catalogFile';
import { budgetCaps, defaultModel, readBudgets, SECTION, workspaceKey } from './config';
import type { DaemonEvents } from './events';
import type { Guard } from './guard';
import { KEYED_PROVIDERS, TEAM_PARTS, type Keys, type TeamPart } from './secrets';
import { toolSnippets } from './toolSnippets';

export const POLICY_STATE_KEY = 'switchyard.policy';

function client(events: DaemonEvents) {
  const c = events.client;
  if (!c) throw new Error('Switchyard is not connected to its daemon right now. Try again in a moment, or run "Switchyard: Restart Daemon".');
  return c;
}

export interface CommandDeps {
  context: vscode.ExtensionContext;
  events: DaemonEvents;
  keys: Keys;
  guarded: Guard;
  onPolicies: (result: proto.PoliciesResult) => void;
  /** After a key was stored or removed: which sites can be placed changed. */
  onKeysChanged: () => void;
}

/** Placement reports ("Show Placement"), read-only documents under this scheme. */
const PLACEMENT_SCHEME = 'switchyard-placement';

/** How each part shared with the team is asked for. */
const TEAM_ASKS: Record<TeamPart, { title: string; prompt: string; example: string; stopped: string; sharing: (server: string) => string; stored: string }> = {
  telemetryUrl: {
    title: 'Switchyard: Share Site Telemetry with Team',
    prompt: 'Your team\'s Redis (redis://[:password@]host:port). Each daemon shares what it learns about real sites: speed, errors, breakers, rate limits.',
    example: 'redis://:password@redis.internal:6379',
    stopped: 'site telemetry no longer shared',
    sharing: (server) => `sharing site telemetry through ${server}`,
    stored: 'the team\'s Redis is stored; sharing starts when the daemon connects',
  },
  ledgerUrl: {
    title: 'Switchyard: Connect Team Ledger',
    prompt: 'Your team\'s PostgreSQL (postgres://user:password@host:port/database). Every member\'s receipts at real sites go to one ledger, and team budgets hold across every daemon.',
    example: 'postgres://switchyard:password@db.internal:5432/switchyard',
    stopped: 'team ledger disconnected',
    sharing: (server) => `team ledger on ${server}`,
    stored: 'the team ledger is stored; it connects when the daemon does',
  },
};

/**
 * Every pick and box a command opens stays open when focus moves, until Escape. Opened from the
 * palette over the prompt panel, it would otherwise be dismissed on a busy machine by the focus the
 * webview takes back as the palette closes, and the command would end as if cancelled; a second step
 * would drop the choice just made.
 */
export const STAYS_OPEN = { ignoreFocusOut: true } as const;

export function registerCommands({ context, events, keys, guarded, onPolicies, onKeysChanged }: CommandDeps): vscode.Disposable[] {
  const reports = new Map<string, string>();

  /** A URL or null from a caller (a keybinding, a test); anything else (a tree node) asks in a password box. */
  async function shareWithTeam(part: TeamPart, urlArg: unknown): Promise<proto.TeamStatus | undefined> {
    const ask = TEAM_ASKS[part];
    const { server } = TEAM_PARTS[part];
    let url = typeof urlArg === 'string' || urlArg === null ? urlArg : undefined;
    if (url === undefined) {
      const sharing = (await keys.teamUrl(part)) !== undefined;
      const text = await vscode.window.showInputBox({
        title: ask.title, password: true, ...STAYS_OPEN,
        prompt: `${ask.prompt}${sharing ? ' Leave empty to stop.' : ''}`,
        validateInput: (text) => {
          const problem = text.trim() ? teamUrlProblem(text.trim(), server) : null;
          return problem ? `The URL ${problem}, e.g. ${ask.example}` : undefined;
        },
      });
      if (text === undefined || (text.trim() === '' && !sharing)) return;
      url = text.trim() || null;
    }
    const status = await keys.setTeam(part, url, events.client);
    const where = part === 'telemetryUrl' ? status?.server : status?.ledger.server;
    vscode.window.setStatusBarMessage(`Switchyard: ${url === null ? ask.stopped : where ? ask.sharing(where) : ask.stored}`, 4000);
    return status;
  }

  return [
    vscode.commands.registerCommand('switchyard.showPlacement', (id?: string) =>
      guarded('Showing the placement failed', async () => {
        const c = client(events);
        const wanted = typeof id === 'string' && id.trim() ? id.trim() : (await vscode.window.showInputBox({
          title: 'Switchyard: Show Placement', ...STAYS_OPEN,
          prompt: 'A placement id: the x-switchyard-placement header of an answer from the endpoint, or a receipt\'s placementId in the exported ledger',
          validateInput: (v) => (v.trim() ? null : 'Paste a placement id'),
        }))?.trim();
        if (!wanted) return;
        const placement = await c.sendRequest(proto.placement, { id: wanted });
        if (!placement) {
          void vscode.window.showInformationMessage(`No recent placement "${wanted}": the daemon keeps its last 1000, until it restarts.`);
          return;
        }
        // A read-only document of its own scheme: nothing to save when it is closed.
        const uri = vscode.Uri.from({ scheme: PLACEMENT_SCHEME, path: `/Placement ${placement.id}.md` });
        reports.set(uri.toString(), placementMarkdown(placement));
        const document = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(document, { preview: true });
        return document;
      })),
    vscode.workspace.registerTextDocumentContentProvider(PLACEMENT_SCHEME, { provideTextDocumentContent: (uri) => reports.get(uri.toString()) ?? '' }),
    vscode.commands.registerCommand('switchyard.switchPolicy', (name?: string, scope?: 'workspace' | 'global') =>
      guarded('Switching the routing policy failed', async () => {
        const c = client(events);
        const workspace = workspaceKey();
        const current = await c.sendRequest(proto.policies, { workspace });
        let chosen = typeof name === 'string' ? name : undefined;
        if (!chosen) {
          const items = current.policies.map((p): vscode.QuickPickItem & { policy: string } => ({
            policy: p.name,
            label: `${p.name === current.active ? '$(check) ' : ''}${p.name}`,
            description: `${p.kind}${p.name === current.active ? ` · active ${current.scope === 'workspace' ? 'in this workspace' : 'everywhere'}` : ''}`,
            detail: policyLine(p),
          }));
          const pick = await vscode.window.showQuickPick(items, {
            title: 'Switchyard: Switch Routing Policy', placeHolder: `Active: ${current.active}. Pick the policy for the next requests`, matchOnDetail: true, ...STAYS_OPEN,
          });
          if (!pick) return;
          chosen = pick.policy;
        }
        let where = scope;
        if (!where) {
          if (!workspace) where = 'global';
          else {
            const pick = await vscode.window.showQuickPick([
              { label: 'This workspace', description: workspace, scope: 'workspace' as const },
              { label: 'All workspaces', description: 'the default for every workspace without its own choice', scope: 'global' as const },
            ], { title: `Use "${chosen}" for…`, ...STAYS_OPEN });
            if (!pick) return;
            where = pick.scope;
          }
        }
        // "All workspaces" from a workspace with its own choice drops that choice, or it would go on routing with it.
        const result = await c.sendRequest(proto.setPolicy, workspace ? { name: chosen, workspace, everywhere: where !== 'workspace' } : { name: chosen });
        if (where === 'workspace') await context.workspaceState.update(POLICY_STATE_KEY, chosen);
        else {
          await context.workspaceState.update(POLICY_STATE_KEY, undefined);
          await vscode.workspace.getConfiguration(SECTION).update('defaultPolicy', chosen, vscode.ConfigurationTarget.Global);
        }
        onPolicies(result);
        vscode.window.setStatusBarMessage(`Switchyard: routing with "${chosen}" ${where === 'workspace' ? 'in this workspace' : 'everywhere'}`, 4000);
      })),

    vscode.commands.registerCommand('switchyard.setApiKey', (provider?: string) =>
      guarded('Setting the API key failed', async () => {
        let id = KEYED_PROVIDERS.find((p) => p.id === provider)?.id;
        if (!id) {
          const stored = new Set(await keys.stored());
          const pick = await vscode.window.showQuickPick(KEYED_PROVIDERS.map((p) => ({ label: p.label, description: stored.has(p.id) ? 'key stored' : p.id, id: p.id })),
            { title: 'Switchyard: Set API Key', placeHolder: 'Provider', ...STAYS_OPEN });
          if (!pick) return;
          id = pick.id;
        }
        const label = KEYED_PROVIDERS.find((p) => p.id === id)?.label ?? id;
        const apiKey = await vscode.window.showInputBox({
          title: `API key for ${label}`, password: true, ...STAYS_OPEN,
          prompt: 'Kept in the editor\'s secret storage and sent only to the local Switchyard daemon, which keeps it in memory.',
          validateInput: (v) => (v.trim().length < 8 ? 'That is too short to be an API key' : undefined),
        });
        if (!apiKey) return;
        await keys.set(id, apiKey.trim(), events.client);
        onKeysChanged();
        vscode.window.setStatusBarMessage(`Switchyard: API key for ${label} stored`, 4000);
      })),

    vscode.commands.registerCommand('switchyard.removeApiKey', (provider?: string) =>
      guarded('Removing the API key failed', async () => {
        let id = KEYED_PROVIDERS.find((p) => p.id === provider)?.id;
        if (!id) {
          const stored = await keys.stored();
          if (stored.length === 0) {
            void vscode.window.showInformationMessage('Switchyard has no stored API keys.');
            return;
          }
          const pick = await vscode.window.showQuickPick(stored.map((s) => ({ label: KEYED_PROVIDERS.find((p) => p.id === s)?.label ?? s, id: s })),
            { title: 'Switchyard: Remove API Key', ...STAYS_OPEN });
          if (!pick) return;
          id = pick.id;
        }
        await keys.remove(id, events.client);
        onKeysChanged();
        vscode.window.setStatusBarMessage(`Switchyard: API key for ${id} removed`, 4000);
      })),

    vscode.commands.registerCommand('switchyard.shareTelemetry', (urlArg?: unknown) =>
      guarded('Sharing telemetry with the team failed', () => shareWithTeam('telemetryUrl', urlArg))),

    vscode.commands.registerCommand('switchyard.connectTeamLedger', (urlArg?: unknown) =>
      guarded('Connecting the team ledger failed', () => shareWithTeam('ledgerUrl', urlArg))),

    vscode.commands.registerCommand('switchyard.setTeamBudget', (scopeArg?: unknown, amountArg?: unknown) =>
      guarded('Setting the team budget failed', async () => {
        const c = client(events);
        const ledger = (await c.sendRequest(proto.status)).team.ledger;
        if (ledger.state === 'off') {
          const connect = await vscode.window.showInformationMessage('Team budgets live on the team ledger. Connect it first.', 'Connect Team Ledger…');
          if (connect) await vscode.commands.executeCommand('switchyard.connectTeamLedger');
          return;
        }
        const capOf = (scope: 'day' | 'month') => ledger.budgets.find((b) => b.scope === scope);
        const show = (scope: 'day' | 'month') => {
          const b = capOf(scope);
          return b ? `${usd(b.capNanoUsd)}, set by ${b.setBy}` : 'no cap';
        };
        type Item = vscode.QuickPickItem & { scope: 'day' | 'month' };
        const items: Item[] = [
          { label: 'Team daily', description: show('day'), detail: 'Cap on what the whole team spends at real sites per UTC day', scope: 'day' },
          { label: 'Team monthly', description: show('month'), detail: 'Cap on what the whole team spends at real sites per UTC month', scope: 'month' },
        ];
        const scope = items.find((i) => i.scope === scopeArg)?.scope ?? (await vscode.window.showQuickPick(items, { title: 'Switchyard: Set Team Budget', placeHolder: 'Which cap? Every member\'s daemon enforces it.', ...STAYS_OPEN }))?.scope;
        if (!scope) return;
        let amount = typeof amountArg === 'number' || amountArg === null ? amountArg : undefined;
        if (amount === undefined) {
          const current = capOf(scope);
          const text = await vscode.window.showInputBox({
            title: `Team ${scope === 'day' ? 'daily' : 'monthly'} budget in USD (empty for no cap)`, ...STAYS_OPEN,
            value: current ? String(current.capNanoUsd / 1e9) : '',
            validateInput: (v) => (v.trim() === '' || /^\s*\$?\d+(\.\d+)?\s*$/.test(v) ? undefined : 'A number of US dollars, e.g. 50 or 12.50; empty removes the cap'),
          });
          if (text === undefined) return;
          amount = text.trim() === '' ? null : Number(text.replace('$', '').trim());
        }
        const status = await c.sendRequest(proto.setTeamBudget, { scope, capUsd: amount });
        vscode.window.setStatusBarMessage(amount === null ? `Switchyard: team ${scope === 'day' ? 'daily' : 'monthly'} budget removed` : `Switchyard: team ${scope === 'day' ? 'daily' : 'monthly'} budget ${dollars(amount)}`, 4000);
        return status;
      })),

    vscode.commands.registerCommand('switchyard.setBudget', (scopeArg?: string, amountArg?: number) =>
      guarded('Setting the budget failed', async () => {
        const b = readBudgets();
        const workspace = workspaceKey();
        const show = (v: number) => (v > 0 ? dollars(v) : 'no cap');
        type Item = vscode.QuickPickItem & { key: 'daily' | 'monthly' | 'workspace' };
        const items: Item[] = [
          { label: 'Daily', description: show(b.daily), detail: 'Cap on what all workspaces spend per calendar day', key: 'daily' },
          { label: 'Monthly', description: show(b.monthly), detail: 'Cap on what all workspaces spend per calendar month', key: 'monthly' },
          ...(workspace ? [{ label: 'This workspace', description: show(b.workspace), detail: `Cap on this workspace's spend (${workspace})`, key: 'workspace' as const }] : []),
        ];
        const key = items.find((i) => i.key === scopeArg)?.key ?? (await vscode.window.showQuickPick(items, { title: 'Switchyard: Set Budget', placeHolder: 'Which cap?', ...STAYS_OPEN }))?.key;
        if (!key) return;
        let amount = typeof amountArg === 'number' ? amountArg : undefined;
        if (amount === undefined) {
          const text = await vscode.window.showInputBox({
            title: `${items.find((i) => i.key === key)?.label} budget in USD (0 for no cap)`, value: String(b[key]), ...STAYS_OPEN,
            validateInput: (v) => (/^\s*\$?\d+(\.\d+)?\s*$/.test(v) ? undefined : 'A number of US dollars, e.g. 5 or 0.50'),
          });
          if (text === undefined) return;
          amount = Number(text.replace('$', '').trim());
        }
        if (!Number.isFinite(amount) || amount < 0) throw new Error(`${amount} is not an amount of USD`);
        await vscode.workspace.getConfiguration(SECTION).update(`budgets.${key}`, amount,
          key === 'workspace' ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
        // The settings listener sends configure; also apply directly so the status bar answers now.
        const c = events.client;
        if (c) {
          await c.sendRequest(proto.setBudget, { caps: budgetCaps(readBudgets(), workspace), workspace: workspace ?? null });
          await events.refreshSpend();
        }
      })),

    vscode.commands.registerCommand('switchyard.exportLedger', (target?: string) =>
      guarded('Exporting the ledger failed', async () => {
        const c = client(events);
        let file = typeof target === 'string' ? vscode.Uri.file(target) : undefined;
        if (!file) {
          const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
          file = await vscode.window.showSaveDialog({
            title: 'Export the Switchyard ledger', saveLabel: 'Export',
            defaultUri: vscode.Uri.joinPath(folder, `switchyard-ledger-${new Date().toISOString().slice(0, 10)}.csv`),
            filters: { CSV: ['csv'], JSON: ['json'] },
          });
          if (!file) return;
        }
        const format = file.fsPath.toLowerCase().endsWith('.json') ? 'json' : 'csv';
        const result = await c.sendRequest(proto.exportLedger, { path: file.fsPath, format });
        void vscode.window.showInformationMessage(`Exported ${result.receipts} receipt(s) to ${result.path}`, 'Open').then((choice) => {
          if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(result.path));
        });
        return result;
      })),

    vscode.commands.registerCommand('switchyard.editCatalog', () => guarded('Opening the catalog file failed', editCatalogFile)),

    vscode.commands.registerCommand('switchyard.connectTools', (format?: string) =>
      guarded('Connecting other tools failed', async () => {
        const info = await client(events).sendRequest(proto.endpoint);
        const snippets = toolSnippets(info, defaultModel());
        const chosen = snippets.find((s) => s.id === format) ?? await vscode.window.showQuickPick(snippets.map((s) => ({ ...s, description: s.detail, detail: undefined })), {
          title: 'Switchyard: Connect Other Tools', placeHolder: `Copy the endpoint (${info.baseUrl}) and its key for…`, ...STAYS_OPEN,
        });
        if (!chosen) return;
        const snippet = snippets.find((s) => s.id === chosen.id)!;
        await vscode.env.clipboard.writeText(snippet.text);
        // The key survives restarts; the URL only with a fixed port.
        const port = info.fixedPort ? 'The key and the port stay the same across daemon restarts.' : 'The key stays the same across daemon restarts; the port changes unless switchyard.daemon.port is set.';
        void vscode.window.showInformationMessage(`Copied for ${snippet.label}. ${port}`, ...(info.fixedPort ? [] : ['Set a Fixed Port'])).then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'switchyard.daemon.port');
        });
        return snippet.id;
      })),
  ];
}
