// Switchyard's models in VS Code's language model API. Copilot Chat's model picker and any extension
// that calls vscode.lm send their requests through the daemon like the prompt panel does: placed by the
// active policy, held to the budget, billed in the ledger (client `editor:vscode.lm`).

import * as vscode from 'vscode';
import * as proto from '../daemon/protocol';
import { appendToolCall } from '../daemon/chat/tools';
import { siteLabel, usd } from '../media/format';
import { chatFailure, type ChatRequests } from './chatRequests';
import { maxTokens, workspaceKey } from './config';
import { ownBudgets } from './spendParts';
import type { DaemonEvents } from './events';
import { callInput, modelInformation, requestOptions, toChatMessages, type ModelInformation } from './languageModelParts';

const LM_VENDOR = 'switchyard';
const VIA = 'vscode.lm';

export class LanguageModels implements vscode.LanguageModelChatProvider<ModelInformation>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly events: DaemonEvents,
    private readonly chats: ChatRequests,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables = [
      vscode.lm.registerLanguageModelChatProvider(LM_VENDOR, this),
      // Connected or reconnected, the daemon may serve other models (another catalog, other keys).
      events.onReady(() => this.changed.fire()),
      this.changed,
    ];
  }

  /** The models on offer changed: a key was set or removed, or the catalog or settings changed. */
  refresh(): void {
    this.changed.fire();
  }

  async provideLanguageModelChatInformation(): Promise<ModelInformation[]> {
    const client = this.events.client;
    if (!client) return [];
    try {
      return modelInformation(await client.sendRequest(proto.sites));
    } catch (error) {
      this.log.warn(`listing models for vscode.lm failed: ${(error as Error).message}`);
      return [];
    }
  }

  async provideLanguageModelChatResponse(
    model: ModelInformation,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const client = this.events.client;
    if (!client) throw new Error('Switchyard is not connected to its daemon right now (it is reconnecting). Nothing was sent.');
    const asked = requestOptions(options);
    // The caller's cap, else the prompt panel's (switchyard.chat.maxTokens), else the model's.
    const cap = asked.maxTokens ?? maxTokens();
    const params: proto.ChatParams = { model: model.id, messages: toChatMessages(messages), workspace: workspaceKey(), via: VIA, ...asked, ...(cap ? { maxTokens: cap } : {}) };

    const calls: proto.ToolCall[] = [];
    let requestId: string | undefined;
    const cancel = () => {
      if (requestId) void client.sendRequest(proto.cancel, { requestId }).catch((e: Error) => this.log.warn(`cancel failed: ${e.message}`));
    };
    const cancelling = token.onCancellationRequested(cancel);
    try {
      await new Promise<void>((resolve, reject) => {
        this.chats.start(client, params, {
          placed: (started) => {
            requestId = started.requestId;
            if (token.isCancellationRequested) cancel();
          },
          delta: (p) => {
            if (p.text) progress.report(new vscode.LanguageModelTextPart(p.text));
            if (p.toolCall) appendToolCall(calls, p.toolCall);
          },
          attempt: (p) => this.log.info(`${VIA} ${model.id}: ${p.attempt.siteId} failed (${p.attempt.message ?? p.attempt.outcome}); ${p.next ? `moving to ${siteLabel(p.next, true)}` : 'no site left'}`),
          receipt: ({ receipt }) => {
            this.log.info(`${VIA} ${model.id}: ${receipt.outcome} at ${siteLabel(receipt.site, true)}, ${usd(receipt.cost.totalNanoUsd)} (placement ${receipt.placementId})`);
            if (receipt.outcome === 'error' || receipt.outcome === 'cut') {
              reject(new Error(`Switchyard: the answer from ${siteLabel(receipt.site, true)} ${receipt.outcome === 'cut' ? 'was cut off' : 'failed'}: ${receipt.error ?? 'no detail'}. What it produced is billed.`));
              return;
            }
            try {
              for (const call of calls) progress.report(new vscode.LanguageModelToolCallPart(call.id, call.name, callInput(call)));
              resolve();
            } catch (error) {
              reject(error);
            }
          },
          lost: () => reject(new Error('Switchyard: the connection to the daemon dropped during the answer. What the site produced is billed.')),
        }).catch((error) => reject(this.refusal(error, model.id)));
      });
    } finally {
      cancelling.dispose();
    }
  }

  /** A refused request as one message for whoever called vscode.lm: what stopped it and what would help. */
  private refusal(error: unknown, model: string): Error {
    const data = (error as { data?: unknown })?.data as proto.NoEligibleSiteData | undefined;
    const described = chatFailure(error, model, data?.placement?.policy ?? 'the active policy', ownBudgets(this.events.spend?.budgets ?? [], workspaceKey()));
    const text = `Switchyard: ${described.title}.\n${described.detail.join('\n')}`;
    this.log.warn(`${VIA} ${model}: ${text}`);
    return new Error(text);
  }

  async provideTokenCount(_model: ModelInformation, text: string | vscode.LanguageModelChatRequestMessage): Promise<number> {
    const client = this.events.client;
    if (!client) throw new Error('Switchyard is not connected to its daemon right now, so it cannot count tokens.');
    const params: proto.CountTokensParams = typeof text === 'string' ? { text } : { messages: toChatMessages([text]) };
    if ('messages' in params && params.messages.length === 0) return 0;
    return (await client.sendRequest(proto.countTokens, params)).tokens;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
