// Checks that run inside the real extension host, against the real extension.

import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { EXTENSION_ID, until } from './helpers';

export function registerExtensionTests(): void {
  describe('Switchyard in the extension host', () => {
    it('is installed and activates on startup', async () => {
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, `extension ${EXTENSION_ID} is not present`);
      // onStartupFinished: the editor activates it without any help from the test.
      await until('the extension to be active', () => extension.isActive || undefined);
    });

    it('registers its commands', async () => {
      const commands = await vscode.commands.getCommands(true);
      for (const id of ['switchyard.restartDaemon', 'switchyard.showLogs']) {
        assert.ok(commands.includes(id), `command ${id} is not registered`);
      }
    });

    it('contributes its settings with their defaults', () => {
      const config = vscode.workspace.getConfiguration('switchyard.daemon');
      const stateDir = config.inspect<string>('stateDir');
      assert.ok(stateDir, 'switchyard.daemon.stateDir is not contributed');
      assert.equal(stateDir.defaultValue, '');
      const idle = config.inspect<number>('idleTimeoutSeconds');
      assert.ok(idle, 'switchyard.daemon.idleTimeoutSeconds is not contributed');
      assert.equal(typeof idle.defaultValue, 'number');
    });

    it('starts a daemon that writes a private daemon.json', async () => {
      const stateDir = vscode.workspace.getConfiguration('switchyard.daemon').get<string>('stateDir');
      assert.ok(stateDir, 'the editor tests set switchyard.daemon.stateDir in the machine settings');
      const file = path.join(stateDir, 'daemon.json');
      const state = await until('daemon.json', () => {
        try {
          return JSON.parse(fs.readFileSync(file, 'utf8')) as { port: number; pid: number; token: string; version: string };
        } catch {
          return undefined;
        }
      });
      assert.equal(typeof state.port, 'number');
      assert.equal(typeof state.pid, 'number');
      assert.equal(typeof state.token, 'string');
      assert.ok(state.token.length >= 16, 'the token is too short to be a secret');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'daemon.json must be readable by the user only');
      assert.doesNotThrow(() => process.kill(state.pid, 0), `daemon pid ${state.pid} is not alive`);
    });

    it('runs "Switchyard: Show Logs" without error', async () => {
      await vscode.commands.executeCommand('switchyard.showLogs');
    });
  });
}
