// What the user chose that the daemon must remember between starts: named policies, the default
// one, per-workspace choices, budget caps and the catalog file. The editor's settings are pushed with
// switchyard/configure; a standalone daemon keeps what it was told in <stateDir>/settings.json.

import fs from 'node:fs';
import path from 'node:path';
import type { BudgetCap, Policy } from '../protocol';

export interface DaemonSettings {
  policies: Policy[];
  defaultPolicy: string;
  /** Workspace key -> policy name chosen for that workspace. */
  workspacePolicies: Record<string, string>;
  budgets: BudgetCap[];
  catalogFile: string | null;
}

export const DEFAULT_SETTINGS: DaemonSettings = {
  policies: [],
  defaultPolicy: 'balanced',
  workspacePolicies: {},
  budgets: [],
  catalogFile: null,
};

export function loadSettings(stateDir: string): { settings: DaemonSettings; error: string | null } {
  const file = path.join(stateDir, 'settings.json');
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DaemonSettings>;
    return { settings: { ...DEFAULT_SETTINGS, ...raw }, error: null };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { settings: { ...DEFAULT_SETTINGS }, error: code === 'ENOENT' ? null : `${file}: ${(error as Error).message}; using defaults` };
  }
}

export function saveSettings(stateDir: string, settings: DaemonSettings): void {
  const file = path.join(stateDir, 'settings.json');
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
}
