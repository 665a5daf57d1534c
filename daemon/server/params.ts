// What each editor request's params must be, checked before anything changes: a refusal is an
// InvalidParams that names the field, and leaves the daemon as it was. Chat params have their own
// checks (chat/validate.ts).

import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { RequestType } from 'vscode-jsonrpc';
import * as proto from '../protocol';
import { InvalidParams } from '../chat/validate';
import { validateCaps } from '../meter/budgets';
import { validateExport } from '../meter/export';

/** Every field of T: a field added to the contract and not here fails to compile, rather than being refused. */
const fieldsOf = <T>(all: Record<keyof Required<T>, true>): readonly string[] => Object.keys(all);

/**
 * The fields each request takes. Extension and daemon speak one PROTOCOL_VERSION, so any other field is
 * a mistake (a misspelt `polices`, a `redisUrl`) that would otherwise be ignored without a word.
 */
const FIELDS: Record<string, readonly string[]> = {
  [proto.configure.method]: fieldsOf<proto.ConfigureParams>({ policies: true, defaultPolicy: true, catalogFile: true, budgets: true, workspace: true }),
  [proto.policies.method]: fieldsOf<{ workspace?: string }>({ workspace: true }),
  [proto.setPolicy.method]: fieldsOf<proto.SetPolicyParams>({ name: true, workspace: true, everywhere: true }),
  [proto.setCredentials.method]: fieldsOf<proto.SetCredentialsParams>({ provider: true, apiKey: true }),
  [proto.setTeam.method]: fieldsOf<proto.SetTeamParams>({ telemetryUrl: true, ledgerUrl: true }),
  [proto.setTeamBudget.method]: fieldsOf<proto.SetTeamBudgetParams>({ scope: true, capUsd: true }),
  [proto.countTokens.method]: fieldsOf<{ text: string; messages: proto.ChatMessage[] }>({ text: true, messages: true }),
  [proto.placement.method]: fieldsOf<proto.PlacementParams>({ id: true }),
  [proto.cancel.method]: fieldsOf<proto.CancelParams>({ requestId: true }),
  [proto.spend.method]: fieldsOf<proto.SpendParams>({ workspace: true }),
  [proto.setBudget.method]: fieldsOf<proto.SetBudgetParams>({ caps: true, workspace: true }),
  [proto.exportLedger.method]: fieldsOf<proto.ExportLedgerParams>({ path: true, format: true, from: true, to: true }),
};

/**
 * `raw` as the params of `type`: an object holding none but its fields. `optional`: null stands for
 * no params at all (the library itself refuses a request that has none).
 */
export function paramsOf<P>(type: RequestType<P, unknown, unknown>, raw: unknown, optional = false): P {
  const known = FIELDS[type.method];
  if (optional && raw === null) return {} as P;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidParams(`params must be an object (fields: ${known.join(', ')})`);
  const stray = Object.keys(raw).find((key) => !known.includes(key));
  if (stray !== undefined) throw new InvalidParams(`params.${stray} is not a field of ${type.method} (known: ${known.join(', ')})`);
  return raw as P;
}

/** params.workspace: a workspace key, undefined when not said, and null (no workspace) where `orNull`. */
export function workspaceOf(raw: unknown): string | undefined;
export function workspaceOf(raw: unknown, orNull: true): string | null | undefined;
export function workspaceOf(raw: unknown, orNull = false): string | null | undefined {
  if (raw === undefined || (orNull && raw === null)) return raw as undefined | null;
  if (typeof raw === 'string' && raw.trim() !== '') return raw;
  throw new InvalidParams(`params.workspace must be a workspace key (a non-empty string)${orNull ? ' or null' : ''}`);
}

/** A budget-setting window's workspace (SetBudgetParams.workspace): a key, null for none, undefined when not said. */
export function windowOf(raw: unknown): string | null | undefined {
  return workspaceOf(raw, true);
}

export function policyNameOf(raw: unknown, field: string): string {
  if (typeof raw === 'string' && raw.trim() !== '') return raw;
  throw new InvalidParams(`${field} must be a policy name (a non-empty string)`);
}

/** params.policies: objects each (their fields are the policy book's to check, naming the policy). */
export function policiesOf(raw: unknown): proto.Policy[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw new InvalidParams('params.policies must be an array of policies');
  const bad = raw.findIndex((p) => typeof p !== 'object' || p === null || Array.isArray(p));
  if (bad >= 0) throw new InvalidParams(`params.policies[${bad}] must be a policy object`);
  return raw as proto.Policy[];
}

/**
 * Budget caps sent by a window are valid, named as `field[i]`. With them valid, the caps they leave in
 * force (capsFromWindow: other workspaces' caps are kept, never one the window names) are too.
 */
export function checkBudgets(sent: unknown, field: string): asserts sent is proto.BudgetCap[] {
  if (!Array.isArray(sent)) throw new InvalidParams(`${field} must be an array of budget caps`);
  try {
    validateCaps(sent, field);
  } catch (error) {
    throw new InvalidParams((error as Error).message);
  }
}

/** params.apiKey: a key to keep, trimmed, or null to remove one. No message ever quotes it. */
export function apiKeyOf(raw: unknown): string | null {
  if (raw === null) return null;
  const key = typeof raw === 'string' ? raw.trim() : '';
  if (key.length < 8) throw new InvalidParams('params.apiKey must be a key of at least 8 characters, or null to remove it');
  // It goes out in an HTTP header: a space or line break inside (two keys pasted, a label with it) would
  // fail every request to the provider, and a non-ASCII character could not be sent at all.
  if (!/^[\x21-\x7e]+$/.test(key)) throw new InvalidParams('params.apiKey must be one key, without spaces or control characters (printable ASCII only)');
  return key;
}

/** YYYY-MM-DD naming a day that exists (not 2026-02-31). */
function isCalendarDay(day: string): boolean {
  const time = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === day;
}

/** exportLedger's params, with a file that can be written: its folder exists, and it is not a folder itself. */
export async function exportParamsOf(raw: unknown): Promise<proto.ExportLedgerParams> {
  const params = paramsOf(proto.exportLedger, raw);
  if (typeof params.path !== 'string' || !path.isAbsolute(params.path) || params.path.includes('\0')) throw new InvalidParams('params.path must be an absolute file path');
  try {
    validateExport(params);
  } catch (error) {
    throw new InvalidParams(`params.${(error as Error).message}`);
  }
  for (const key of ['from', 'to'] as const) {
    const day = params[key];
    if (day !== undefined && !isCalendarDay(day)) throw new InvalidParams(`params.${key} must be a date YYYY-MM-DD, and ${day} is no such day`);
  }
  const folder = path.dirname(params.path);
  const [folderStat, fileStat] = await Promise.all([stat(folder).catch(() => null), stat(params.path).catch(() => null)]);
  if (!folderStat) throw new InvalidParams(`params.path: the folder ${folder} does not exist`);
  if (!folderStat.isDirectory()) throw new InvalidParams(`params.path: ${folder} is not a folder`);
  if (fileStat?.isDirectory()) throw new InvalidParams('params.path is a folder: name a file in it');
  return params;
}
