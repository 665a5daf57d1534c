// Commands and settings of the editor experience, inside the real extension host against the real daemon.

import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { api, EXTENSION_ID, until } from './helpers';

export function registerCommandTests(): void {
  describe('Switchyard commands and settings', () => {
    it('registers every palette command, each with a "Switchyard" title', async () => {
      const registered = await vscode.commands.getCommands(true);
      const contributed = (vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands as { command: string; category: string }[]);
      assert.ok(contributed.length >= 18, `only ${contributed.length} commands contributed`);
      for (const { command, category } of contributed) {
        assert.ok(registered.includes(command), `command ${command} is not registered`);
        assert.equal(category, 'Switchyard', `${command} is not in the Switchyard category`);
      }
    });

    it('"Edit Catalog File" creates an empty catalog in the user\'s settings folder, names it in the settings and opens it; an override saved there reaches the Sites view; ~/ is the home folder', async () => {
      const a = await api();
      const config = () => vscode.workspace.getConfiguration('switchyard');
      const before = config().inspect<string>('catalogFile')?.globalValue;
      await config().update('catalogFile', undefined, vscode.ConfigurationTarget.Global);
      let file: string | undefined;
      try {
        await vscode.commands.executeCommand('switchyard.editCatalog');
        file = config().get<string>('catalogFile');
        // The editor tests give the editor a home of its own, with XDG folders in it.
        assert.equal(file, path.join(process.env.XDG_CONFIG_HOME!, 'switchyard', 'sites.switchyard-catalog.json'));
        assert.deepEqual(JSON.parse(fs.readFileSync(file!, 'utf8')), { sites: [] });
        const editor = await until('the catalog file in the editor', () => (vscode.window.activeTextEditor?.document.uri.fsPath === file ? vscode.window.activeTextEditor : undefined));
        const doc = editor.document;
        await editor.edit((e) => e.replace(new vscode.Range(0, 0, doc.lineCount, 0), JSON.stringify({ sites: [{ id: 'together/us/h100', disabled: true }] }, null, 2)));
        assert.ok(await doc.save(), 'the catalog file was not saved');
        await until('the disabled site in the Sites view', () => a.sites()?.disabled.some((r) => r.id === 'together/us/h100'));
        // Asked again, it opens the same file and leaves what is in it.
        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
        await vscode.commands.executeCommand('switchyard.editCatalog');
        assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, file);
        assert.deepEqual(JSON.parse(fs.readFileSync(file!, 'utf8')).sites[0], { id: 'together/us/h100', disabled: true });
        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

        // A setting under ~/ is a file in the home folder, for the command and the daemon alike.
        await config().update('catalogFile', '~/tilde.switchyard-catalog.json', vscode.ConfigurationTarget.Global);
        await vscode.commands.executeCommand('switchyard.editCatalog');
        const tilde = path.join(os.homedir(), 'tilde.switchyard-catalog.json');
        assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, tilde);
        await until('the first file\'s override gone once the setting names another', () => a.sites()?.disabled.every((r) => r.id !== 'together/us/h100'));
        fs.writeFileSync(tilde, JSON.stringify({ sites: [{ id: 'fireworks/us/h100', disabled: true }] }));
        await until('the ~/ file\'s override in the Sites view', () => a.sites()?.disabled.some((r) => r.id === 'fireworks/us/h100'));
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
        await config().update('catalogFile', before, vscode.ConfigurationTarget.Global);
        if (file) fs.rmSync(file, { force: true });
        fs.rmSync(path.join(os.homedir(), 'tilde.switchyard-catalog.json'), { force: true });
      }
      await until('the sites back once no file is named', () => a.sites()?.disabled.every((r) => r.id !== 'together/us/h100' && r.id !== 'fireworks/us/h100'));
    });

    it('contributes policies, default policy, budgets, catalog file and daemon settings with defaults', () => {
      const c = vscode.workspace.getConfiguration('switchyard');
      const expect: [string, unknown][] = [
        ['defaultPolicy', 'balanced'], ['policies', []], ['budgets.daily', 5], ['budgets.monthly', 0], ['budgets.workspace', 0],
        ['budgets.softRatio', 0.8], ['catalogFile', ''], ['defaultModel', 'llama-3.3-70b'], ['daemon.stateDir', ''], ['daemon.idleTimeoutSeconds', 600], ['daemon.port', 0],
      ];
      for (const [key, value] of expect) {
        const info = c.inspect(key);
        assert.ok(info, `switchyard.${key} is not contributed`);
        assert.deepEqual(info.defaultValue, value, `switchyard.${key} defaults to ${JSON.stringify(info.defaultValue)}`);
      }
      const props = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.configuration.properties as Record<string, { description?: string; markdownDescription?: string }>;
      for (const [key, schema] of Object.entries(props)) assert.ok(schema.description || schema.markdownDescription, `${key} has no description`);
    });

    it('"Set Budget" updates the setting, and the daemon reports the new daily cap', async () => {
      const a = await api();
      await vscode.commands.executeCommand('switchyard.setBudget', 'daily', 7.5);
      assert.equal(vscode.workspace.getConfiguration('switchyard').get('budgets.daily'), 7.5);
      await until('the daily cap of $7.50 in the spend summary', () => a.spend()?.budgets.some((b) => b.scope === 'day' && b.capNanoUsd === 7.5e9));
      await vscode.commands.executeCommand('switchyard.setBudget', 'daily', 5);
      await until('the daily cap back at $5', () => a.spend()?.budgets.some((b) => b.scope === 'day' && b.capNanoUsd === 5e9));
    });

    it('"Switch Routing Policy" for all workspaces sets switchyard.defaultPolicy', async () => {
      await api();
      await vscode.commands.executeCommand('switchyard.switchPolicy', 'cheapest', 'global');
      assert.equal(vscode.workspace.getConfiguration('switchyard').get('defaultPolicy'), 'cheapest');
      await vscode.commands.executeCommand('switchyard.switchPolicy', 'balanced', 'global');
      assert.equal(vscode.workspace.getConfiguration('switchyard').get('defaultPolicy'), 'balanced');
    });

    it('"Open Prompt Panel" opens the webview and it lists the catalog\'s models', async () => {
      const a = await api();
      await vscode.commands.executeCommand('switchyard.openPanel');
      await until('a Switchyard webview tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs)
        .some((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('switchyard.panel')));
      const models = await until('models in the panel', () => (a.panelState().models.length > 0 ? a.panelState().models : undefined));
      assert.ok(models.some((m) => m.id === 'llama-3.3-70b'), `models: ${models.map((m) => m.id).join(', ')}`);
    });

    it('"Ask About Selection" puts the selection and its file name in as context', async () => {
      const a = await api();
      const file = path.join(os.tmpdir(), `switchyard-ask-${process.pid}.ts`);
      fs.writeFileSync(file, 'line one\nconst answer = 42;\nline three\n');
      const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
      editor.selection = new vscode.Selection(1, 0, 1, 18);
      await vscode.commands.executeCommand('switchyard.askAboutSelection');
      const context = await until('the pending context', () => a.panelState().pendingContext);
      assert.equal(context.text, 'const answer = 42;');
      assert.match(context.fileName, /switchyard-ask-\d+\.ts$/);
      assert.deepEqual(context.lines, [2, 2]);
      fs.rmSync(file, { force: true });
    });

    it('"Connect Other Tools" copies the endpoint\'s URL and the key that outlives daemon restarts', async () => {
      await api();
      const stateDir = vscode.workspace.getConfiguration('switchyard.daemon').get<string>('stateDir')!;
      const daemon = JSON.parse(fs.readFileSync(path.join(stateDir, 'daemon.json'), 'utf8')) as { port: number; token: string };
      const key = fs.readFileSync(path.join(stateDir, 'endpoint-key'), 'utf8').trim();
      assert.equal(await vscode.commands.executeCommand('switchyard.connectTools', 'env'), 'env');
      assert.equal(await vscode.env.clipboard.readText(), `export OPENAI_BASE_URL=http://127.0.0.1:${daemon.port}/v1\nexport OPENAI_API_KEY=${key}\n`);
      assert.notEqual(key, daemon.token, 'not the token, which changes with every start');
      const models = await fetch(`http://127.0.0.1:${daemon.port}/v1/models`, { headers: { Authorization: `Bearer ${key}` } });
      assert.equal(models.status, 200);
    });

    it('"Export Ledger" writes the ledger as CSV or JSON by the file\'s extension', async () => {
      await api();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-export-'));
      for (const name of ['ledger.csv', 'ledger.json']) {
        const target = path.join(dir, name);
        const result = await vscode.commands.executeCommand<{ path: string; receipts: number } | undefined>('switchyard.exportLedger', target);
        assert.ok(result, `exporting ${name} failed (see the notifications)`);
        assert.ok(fs.existsSync(target), `${target} was not written`);
      }
      const json = fs.readFileSync(path.join(dir, 'ledger.json'), 'utf8');
      assert.doesNotThrow(() => JSON.parse(json), 'the JSON export does not parse');
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('"Remove API Key" for a provider without a key changes nothing and does not throw', async () => {
      await api();
      await vscode.commands.executeCommand('switchyard.removeApiKey', 'mistral');
    });

    it('API keys never land in the settings', () => {
      const all = JSON.stringify(vscode.workspace.getConfiguration('switchyard'));
      assert.doesNotMatch(all, /apiKey/i);
    });

    it('"Show Placement" opens the placement behind an endpoint answer\'s x-switchyard-placement as a Markdown report', async () => {
      await api();
      const stateDir = vscode.workspace.getConfiguration('switchyard.daemon').get<string>('stateDir')!;
      const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'daemon.json'), 'utf8')) as { port: number; token: string };
      const response = await fetch(`http://127.0.0.1:${state.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${state.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 8 }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      const id = response.headers.get('x-switchyard-placement');
      assert.ok(id, 'no x-switchyard-placement header');
      const site = response.headers.get('x-switchyard-site');
      const document = await vscode.commands.executeCommand<vscode.TextDocument | undefined>('switchyard.showPlacement', id);
      assert.ok(document, 'no report opened (see the notifications)');
      assert.equal(document.languageId, 'markdown');
      const text = document.getText();
      assert.ok(text.startsWith(`# Placement ${id}\n`), text.slice(0, 200));
      assert.ok(text.includes(`placed at \`${site}\``), text.slice(0, 400));
      assert.match(text, /\| chosen \|$/m);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });
  });
}
