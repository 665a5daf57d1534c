// Switchyard's models in VS Code's language model API. Copilot Chat's model picker and any extension
// that calls vscode.lm send their requests through the daemon like the prompt panel does: placed by the
// active policy, held to the budget, billed in the ledger (client `editor:vscode.lm`).

import * as vscode from 'vscode';
import * as proto from '../daemon/protocol';
import { chatFailure, type ChatRequests } from './chatRequests';
import { maxTokens, SECTION, workspaceKey } from './config';
import { ownBudgets } from './spendParts';
import type { DaemonEvents } from './events';
import { modelInformation, requestOptions, streamAnswer, toChatMessages, VIA, type ModelInformation } from './languageModelParts';

const LM_VENDOR = 'switchyard';

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
      // The answer cap takes its room from the prompt's (maxInputTokens).
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.chat.maxTokens`)) this.changed.fire();
      }),
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
      return modelInformation(await client.sendRequest(proto.sites), maxTokens());
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

    return streamAnswer(model.id, {
      start: (sink) => this.chats.start(client, params, sink).catch((error) => {
        throw this.refusal(error, model.id);
      }),
      cancel: (requestId) => void client.sendRequest(proto.cancel, { requestId }).catch((e: Error) => this.log.warn(`cancel failed: ${e.message}`)),
      log: (line) => this.log.info(line),
    }, {
      text: (value) => progress.report(new vscode.LanguageModelTextPart(value)),
      toolCall: (callId, name, input) => progress.report(new vscode.LanguageModelToolCallPart(callId, name, input)),
    }, token);
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
