// Settings -> the daemon: policies, default policy, catalog file and budgets go over
// switchyard/configure on every (re)connect and whenever the settings change.

import os from 'node:os';
import { expandHome } from './daemonProcess';
import * as vscode from 'vscode';
import type { BudgetCap, ConfigureParams, Policy } from '../daemon/protocol';

export const SECTION = 'switchyard';

/** The key the daemon files this window's spend and workspace policy under: the first folder's path. */
export function workspaceKey(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export interface BudgetSettings {
  daily: number;
  monthly: number;
  workspace: number;
  softRatio: number;
}

export function readBudgets(): BudgetSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const num = (key: string, fallback: number) => {
    const v = c.get<number>(key);
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  return { daily: num('budgets.daily', 5), monthly: num('budgets.monthly', 0), workspace: num('budgets.workspace', 0), softRatio: Math.min(1, num('budgets.softRatio', 0.8)) };
}

export function budgetCaps(b: BudgetSettings, workspace: string | undefined): BudgetCap[] {
  const caps: BudgetCap[] = [];
  if (b.daily > 0) caps.push({ scope: 'day', capUsd: b.daily, softRatio: b.softRatio });
  if (b.monthly > 0) caps.push({ scope: 'month', capUsd: b.monthly, softRatio: b.softRatio });
  if (b.workspace > 0 && workspace) caps.push({ scope: 'workspace', workspace, capUsd: b.workspace, softRatio: b.softRatio });
  return caps;
}

/** switchyard.catalogFile as a path the daemon can open (`~/` is the home folder); undefined when unset. */
export function catalogFileSetting(): string | undefined {
  const named = vscode.workspace.getConfiguration(SECTION).get<string>('catalogFile')?.trim();
  if (!named) return undefined;
  return expandHome(named, os.homedir());
}

export function readConfigure(): ConfigureParams {
  const c = vscode.workspace.getConfiguration(SECTION);
  const policies = c.get<Policy[]>('policies') ?? [];
  const defaultPolicy = c.get<string>('defaultPolicy')?.trim();
  const catalogFile = catalogFileSetting();
  const workspace = workspaceKey();
  const params: ConfigureParams = { policies: Array.isArray(policies) ? policies : [], budgets: budgetCaps(readBudgets(), workspace), workspace: workspace ?? null };
  if (defaultPolicy) params.defaultPolicy = defaultPolicy;
  // Always sent, empty when unset: the daemon keeps a file it is not told about, so a cleared setting
  // would leave the old file in force (and, once deleted, refused at every reload).
  params.catalogFile = catalogFile ?? '';
  return params;
}

export function defaultModel(): string {
  return vscode.workspace.getConfiguration(SECTION).get<string>('defaultModel')?.trim() || 'llama-3.3-70b';
}

export function maxTokens(): number | undefined {
  const v = vscode.workspace.getConfiguration(SECTION).get<number>('chat.maxTokens');
  return typeof v === 'number' && v > 0 ? Math.floor(v) : undefined;
}

/** The daemon's start settings (`switchyard.daemon.*`): read only when a window starts the daemon. */
const START_SETTINGS = ['stateDir', 'idleTimeoutSeconds', 'port', 'simulationSeed'];

/** The start settings a change touched, by full name; empty when none. */
export function changedStartSettings(e: vscode.ConfigurationChangeEvent): string[] {
  return START_SETTINGS.map((k) => `${SECTION}.daemon.${k}`).filter((name) => e.affectsConfiguration(name));
}

/** True when a settings change concerns what configure carries. */
export function affectsDaemon(e: vscode.ConfigurationChangeEvent): boolean {
  return ['policies', 'defaultPolicy', 'catalogFile', 'budgets'].some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
}
