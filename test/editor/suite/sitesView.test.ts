// The Sites view in the real extension host: what it lists, and that it follows the telemetry.

import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { api, listedRequests, nextRequest, until, VSCODE_LM_CLIENT } from './helpers';
import { startPostgres } from '../../support/postgres.cjs';
import { startRedis } from '../../support/redis.cjs';

export function registerSitesViewTests(): void {
  describe('the Sites view', () => {
    it('lists the simulated fleet as serving, the real sites under "need a key", each with its models and prices', async () => {
      const a = await api();
      await vscode.commands.executeCommand('switchyard.sites.focus');
      const groups = await until('the sites in the view', () => a.sites());
      const helsinki = groups.serving.find((r) => r.label === 'groq · eu-helsinki · groq-lpu');
      assert.ok(helsinki, `serving: ${groups.serving.map((r) => r.label).join('; ')}`);
      assert.ok(helsinki.simulated && helsinki.description.startsWith('simulated · '), helsinki.description);
      // Earlier flows may have keyed a site of their own; the built-in real sites have no key here.
      assert.ok(groups.needKey.length >= 10 && groups.needKey.every((r) => !r.simulated && r.description === 'no key'), JSON.stringify(groups.needKey.map((r) => r.label)));
      assert.ok(groups.needKey.some((r) => r.label === 'groq · eu-helsinki · groq-lpu'), 'the real Groq site waits for its key');
      assert.ok(groups.disabled.length > 0, 'the catalog\'s disabled example is listed apart');
      assert.ok(helsinki.models.some((m) => m.label === 'llama-3.3-70b' && /^\$[\d.]+ in · \$[\d.]+ out per 1M · \d+k context$/.test(m.description)), JSON.stringify(helsinki.models));
    });

    it('shows the measured figures of the site that served a request', async () => {
      const a = await api();
      await vscode.commands.executeCommand('switchyard.sites.focus');
      const [model] = await vscode.lm.selectChatModels({ vendor: 'switchyard', id: 'llama-3.3-70b' });
      const listed = listedRequests(a);
      const response = await model.sendRequest([vscode.LanguageModelChatMessage.User('Which site are you?')], {}, new vscode.CancellationTokenSource().token);
      for await (const piece of response.text) void piece;
      const served = await nextRequest(a, VSCODE_LM_CLIENT, listed);
      const row = await until(`${served.site.id} with its measurements`, () => {
        const r = a.sites()?.serving.find((s) => s.id === served.site.id);
        return r && /^simulated · TTFT \d+ ms · [\d.]+ tok\/s/.test(r.description) ? r : undefined;
      }, 10_000);
      assert.match(row.tooltip, /Measured over \d+ requests/);
    });

    it('switches a site off from its row by an override in the catalog file, kept with the user\'s unsaved edits there, and back on', async () => {
      const a = await api();
      await vscode.commands.executeCommand('switchyard.sites.focus');
      const config = () => vscode.workspace.getConfiguration('switchyard');
      const before = config().inspect<string>('catalogFile')?.globalValue;
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-switch-')), 'mine.switchyard-catalog.json');
      fs.writeFileSync(file, JSON.stringify({ sites: [{ id: 'together/us/h100', concurrency: 3 }] }, null, 2));
      await config().update('catalogFile', file, vscode.ConfigurationTarget.Global);
      const helsinki = 'groq/eu-helsinki/lpu';
      const disabled = () => a.sites()?.disabled.map((r) => r.id) ?? [];
      try {
        // The user is editing the file: an unsaved change to another entry.
        const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
        const concurrency = editor.document.getText().indexOf('3');
        await editor.edit((e) => e.replace(new vscode.Range(editor.document.positionAt(concurrency), editor.document.positionAt(concurrency + 1)), '5'));
        // The twin's row, as the context menu hands it over, means the site.
        assert.equal(await vscode.commands.executeCommand('switchyard.disableSite', `sim:${helsinki}`), file);
        assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).sites, [{ id: 'together/us/h100', concurrency: 5 }, { id: helsinki, disabled: true }]);
        await until('Helsinki and its twin under "Disabled"', () => disabled().includes(helsinki) && disabled().includes(`sim:${helsinki}`));
        assert.ok(!a.sites()!.serving.some((r) => r.id === `sim:${helsinki}`));

        await vscode.commands.executeCommand('switchyard.enableSite', helsinki);
        assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).sites, [{ id: 'together/us/h100', concurrency: 5 }, { id: helsinki, disabled: false }]);
        await until('Helsinki serving again', () => a.sites()?.serving.some((r) => r.id === `sim:${helsinki}`));
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
        await config().update('catalogFile', before, vscode.ConfigurationTarget.Global);
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
      }
    });

    it('shares site telemetry with a team through its Redis: said above the sites, the URL kept out of settings', async () => {
      const a = await api();
      const password = 'editor-team-password-5c4b3a';
      const redis = await startRedis({ password });
      try {
        await vscode.commands.executeCommand('switchyard.sites.focus');
        const status = await vscode.commands.executeCommand<{ server: string }>('switchyard.shareTelemetry', redis.url);
        assert.equal(status.server, `127.0.0.1:${redis.port}`);
        const row = await until('the team row', () => {
          const team = a.sites()?.team;
          return team?.description === `0 teammates · 127.0.0.1:${redis.port}` ? team : undefined;
        }, 10_000);
        assert.equal(row.trouble, false);
        assert.ok(!JSON.stringify(vscode.workspace.getConfiguration('switchyard')).includes(password), 'the password is in the settings');
        await vscode.commands.executeCommand('switchyard.shareTelemetry', null);
        await until('the team row gone', () => (a.sites() && a.sites()!.team === null ? true : undefined), 10_000);
      } finally {
        await vscode.commands.executeCommand('switchyard.shareTelemetry', null);
        await redis.stop();
      }
    });

    it('connects the team ledger and sets a team budget from commands: the row shows spend of cap, the URL stays out of settings', async () => {
      const a = await api();
      const password = 'editor-ledger-password-8d7e6f';
      const db = await startPostgres({ password });
      try {
        await vscode.commands.executeCommand('switchyard.sites.focus');
        const status = await vscode.commands.executeCommand<{ ledger: { server: string } }>('switchyard.connectTeamLedger', db.url);
        assert.equal(status.ledger.server, `127.0.0.1:${db.port}`);
        // Requests earlier tests made at keyed sites are this month's real spend: connecting sends them along.
        await until('the team ledger row', () => (/^\$[\d.]+ today · \$[\d.]+ this month$/.test(a.sites()?.ledger?.description ?? '') ? true : undefined), 15_000);
        await vscode.commands.executeCommand('switchyard.setTeamBudget', 'month', 5);
        const row = await until('the budget in the row', () => {
          const ledger = a.sites()?.ledger;
          return ledger && /^\$[\d.]+ of \$5\.00 this month$/.test(ledger.description) ? ledger : undefined;
        }, 10_000);
        assert.equal(row.trouble, false);
        assert.match(row.tooltip, /Team monthly budget \$5\.00 \(set by [^)]+\): ok\./);
        assert.ok(!JSON.stringify(vscode.workspace.getConfiguration('switchyard')).includes(password), 'the password is in the settings');
        await vscode.commands.executeCommand('switchyard.connectTeamLedger', null);
        await until('the ledger row gone', () => (a.sites() && a.sites()!.ledger === null ? true : undefined), 10_000);
      } finally {
        await vscode.commands.executeCommand('switchyard.connectTeamLedger', null);
        await db.stop();
      }
    });
  });
}
