// What every extension-host test file needs: waiting for a condition, and the extension's test API.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
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
