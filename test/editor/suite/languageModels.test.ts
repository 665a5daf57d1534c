// Switchyard's models as VS Code's language model API serves them to any extension (Copilot Chat's
// model picker included), driven through vscode.lm in the real extension host against the real daemon.

import * as assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { RecentRequest } from '../../../daemon/protocol';
import { api, listedRequests, nextRequest, until, VSCODE_LM_CLIENT } from './helpers';

const MODEL = 'llama-3.3-70b';

async function switchyardModel(id = MODEL): Promise<vscode.LanguageModelChat> {
  const [model] = await until(`${id} in vscode.lm`, async () => {
    const found = await vscode.lm.selectChatModels({ vendor: 'switchyard', id });
    return found.length > 0 ? found : undefined;
  });
  return model;
}

export function registerLanguageModelTests(): void {
  describe('Switchyard models in vscode.lm', () => {
    it('offers each model the fleet serves, with its widest context window less the answer cap', async () => {
      await api();
      const models = await until('Switchyard models', async () => {
        const found = await vscode.lm.selectChatModels({ vendor: 'switchyard' });
        return found.length > 0 ? found : undefined;
      });
      const ids = models.map((m) => m.id);
      for (const id of [MODEL, 'gpt-4o-mini', 'claude-3.5-haiku', 'gemini-2.0-flash']) assert.ok(ids.includes(id), `${id} is not offered: ${ids.join(', ')}`);
      const llama = models.find((m) => m.id === MODEL)!;
      assert.equal(llama.vendor, 'switchyard');
      assert.equal(llama.family, MODEL);
      // Copilot fills maxInputTokens with prompt; the daemon places a prompt only where the answer cap fits beside it.
      const cap = vscode.workspace.getConfiguration('switchyard').get<number | null>('chat.maxTokens') ?? 0;
      assert.equal(llama.maxInputTokens, 128_000 - cap, `maxInputTokens ${llama.maxInputTokens} with the cap ${cap}`);
    });

    it('streams an answer placed by the active policy, billed in the ledger as editor:vscode.lm', async () => {
      const a = await api();
      const model = await switchyardModel();
      const listed = listedRequests(a);
      const response = await model.sendRequest([vscode.LanguageModelChatMessage.User('Name three rivers in Europe.')], {}, new vscode.CancellationTokenSource().token);
      let text = '';
      for await (const piece of response.text) text += piece;
      assert.match(text, /^\[simulated llama-3\.3-70b at /, `the answer: ${text.slice(0, 200)}`);
      // Found only if it is billed to vscode.lm's client name.
      const recent = await nextRequest(a, VSCODE_LM_CLIENT, listed);
      assert.equal(recent.model, MODEL);
      // The answer ran to its end, or to the 1024-token cap of switchyard.chat.maxTokens: a simulated
      // answer's length is drawn under the daemon's random seed, over the cap about once in 120 draws.
      assert.ok(recent.outcome === 'complete' || recent.outcome === 'length', recent.outcome);
      assert.ok(recent.costNanoUsd > 0, 'the request is billed');
      assert.ok(text.includes(recent.site.location), `the answer names the site that served it (${recent.site.location})`);
    });

    it('cancelling the caller\'s token cancels the request; what was produced is billed', async () => {
      const a = await api();
      const model = await switchyardModel();
      // A simulated answer's length is drawn per prompt: a short one can be over before the cancel lands
      // on a loaded machine. Then the cancel had nothing to stop, and another prompt is tried.
      let recent: RecentRequest | undefined;
      for (const subject of ['a lighthouse keeper', 'a night train', 'a glacier']) {
        const listed = listedRequests(a);
        const source = new vscode.CancellationTokenSource();
        const response = await model.sendRequest([vscode.LanguageModelChatMessage.User(`Write a long story about ${subject}.`)], { modelOptions: { maxTokens: 4000 } }, source.token);
        try {
          for await (const piece of response.text) {
            if (piece) source.cancel();
          }
        } catch {
          // The stream may end with a cancellation error: the caller asked for it.
        }
        recent = await nextRequest(a, VSCODE_LM_CLIENT, listed);
        if (recent.outcome === 'cancelled') break;
      }
      assert.equal(recent!.outcome, 'cancelled');
      assert.ok(recent!.costNanoUsd > 0, 'the prompt and the words produced before the cancel are billed');
    });

    it('counts tokens with the daemon\'s tokenizer', async () => {
      const model = await switchyardModel();
      assert.equal(await model.countTokens('hello world'), 2);
      const framed = await model.countTokens(vscode.LanguageModelChatMessage.User('hello world'));
      assert.ok(framed > 2, `a message counts its chat framing too (${framed})`);
    });

    it('a budget refusal reaches the caller as LanguageModelError "Blocked", in the panel\'s words', async () => {
      const a = await api();
      const model = await switchyardModel();
      await vscode.commands.executeCommand('switchyard.setBudget', 'daily', 0.000001);
      try {
        await until('the tiny daily cap in the spend summary', () => a.spend()?.budgets.some((b) => b.scope === 'day' && b.capNanoUsd < 1e6));
        await assert.rejects(
          async () => {
            const response = await model.sendRequest([vscode.LanguageModelChatMessage.User('Name a lake in Finland.')], {}, new vscode.CancellationTokenSource().token);
            for await (const piece of response.text) void piece;
          },
          (error: Error) => {
            assert.ok(error instanceof vscode.LanguageModelError, `${error.name}: ${error.message}`);
            assert.equal(error.code, vscode.LanguageModelError.Blocked.name);
            assert.match(error.message, /^Switchyard: Daily budget exhausted/);
            return true;
          },
        );
      } finally {
        await vscode.commands.executeCommand('switchyard.setBudget', 'daily', 5);
        await until('the daily cap back at $5', () => a.spend()?.budgets.some((b) => b.scope === 'day' && b.capNanoUsd === 5e9));
      }
    });

    it('while the daemon restarts its models stay offered, and a request made then waits for the new daemon and is answered', async () => {
      const a = await api();
      const model = await switchyardModel();
      const restarted = vscode.commands.executeCommand('switchyard.restartDaemon');
      try {
        await until('the restart to begin', () => !a.connected());
        // Asked at once: the old daemon takes a moment to stop and the new one about a second to start.
        const asked = model.sendRequest([vscode.LanguageModelChatMessage.User('Name a mountain in Norway.')], {}, new vscode.CancellationTokenSource().token);
        const offered = await vscode.lm.selectChatModels({ vendor: 'switchyard' });
        assert.ok(offered.some((m) => m.id === MODEL), `offered during the restart: ${offered.map((m) => m.id).join(', ') || 'nothing'}`);
        const response = await asked;
        let text = '';
        for await (const piece of response.text) text += piece;
        assert.match(text, /^\[simulated llama-3\.3-70b at /, `the answer: ${text.slice(0, 200)}`);
      } finally {
        await restarted;
      }
    });

    it('refuses tools on the simulated fleet with a message that says why and what would help', async () => {
      const model = await switchyardModel();
      const tools: vscode.LanguageModelChatTool[] = [{ name: 'get_weather', description: 'The weather in a city', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }];
      await assert.rejects(
        async () => {
          const response = await model.sendRequest([vscode.LanguageModelChatMessage.User('What is the weather in Oslo?')], { tools }, new vscode.CancellationTokenSource().token);
          for await (const piece of response.text) void piece;
        },
        (error: Error) => {
          assert.match(error.message, /^Switchyard: No site for llama-3\.3-70b can do what this request needs\./);
          assert.match(error.message, /simulated: answers with text only, so it cannot call the request's tools/);
          assert.match(error.message, /set that provider's API key/);
          return true;
        },
      );
    });
  });
}
