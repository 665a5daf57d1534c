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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What each field must be, as the sentence that says so when it is not. */
const FIELDS: { [K in keyof DaemonSettings]: [check: (v: unknown) => boolean, must: string] } = {
  policies: [Array.isArray, 'must be an array'],
  defaultPolicy: [(v) => typeof v === 'string', 'must be a policy name'],
  workspacePolicies: [(v) => isObject(v) && Object.values(v).every((name) => typeof name === 'string'), 'must map workspace keys to policy names'],
  budgets: [Array.isArray, 'must be an array'],
  catalogFile: [(v) => v === null || typeof v === 'string', 'must be a file path or null'],
};

/**
 * The saved settings, each field of the wrong type (a hand edit, an older version) replaced by its
 * default and named in `error`: one bad field must not cost the others, nor stop the daemon starting.
 */
export function loadSettings(stateDir: string): { settings: DaemonSettings; error: string | null } {
  const file = path.join(stateDir, 'settings.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { settings: { ...DEFAULT_SETTINGS }, error: code === 'ENOENT' ? null : `${file}: ${(error as Error).message}; using defaults` };
  }
  if (!isObject(raw)) return { settings: { ...DEFAULT_SETTINGS }, error: `${file}: must hold a JSON object; using defaults` };
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  const problems: string[] = [];
  for (const [field, [check, must]] of Object.entries(FIELDS)) {
    if (!(field in raw)) continue;
    if (check(raw[field])) settings[field] = raw[field];
    else problems.push(`${field} ${must}`);
  }
  return { settings: settings as unknown as DaemonSettings, error: problems.length > 0 ? `${file}: ${problems.join(', ')}; those use their defaults` : null };
}

export function saveSettings(stateDir: string, settings: DaemonSettings): void {
  const file = path.join(stateDir, 'settings.json');
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
}
