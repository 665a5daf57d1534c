// What every extension-host test file needs: waiting for a condition, the extension's test API, and
// telling a test's own request apart in the spend summary.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RecentRequest } from '../../../daemon/protocol';
import type { SwitchyardApi } from '../../../extension/main';

export const EXTENSION_ID = 'switchyard.switchyard';

export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The active extension's exports, once it is connected to its daemon. */
export async function api(): Promise<SwitchyardApi> {
  const extension = vscode.extensions.getExtension<SwitchyardApi>(EXTENSION_ID);
  assert.ok(extension, 'the extension is not installed');
  const exports = extension.isActive ? extension.exports : await extension.activate();
  await until('the daemon connection', () => exports.connected());
  return exports;
}

/** How the daemon names a request that came through vscode.lm. */
export const VSCODE_LM_CLIENT = 'editor:vscode.lm';

/** The requests the spend summary lists now: one made after this call is not among them. */
export function listedRequests(a: SwitchyardApi): Set<string> {
  return new Set(a.spend()?.recent.map((r) => r.receiptId));
}

/**
 * The newest request by `client` that was not `listed` before it was made. "Newest" alone is not
 * enough: the receipt of an earlier test's request (an endpoint answer's, say) can still be on its way
 * into the summary when the next test starts.
 */
export function nextRequest(a: SwitchyardApi, client: string, listed: Set<string>): Promise<RecentRequest> {
  return until(`a new request by ${client} in the spend summary`, () => a.spend()?.recent.find((r) => r.client === client && !listed.has(r.receiptId)));
}
