// Switchyard's models in VS Code's language model API. Copilot Chat's model picker and any extension
// that calls vscode.lm send their requests through the daemon like the prompt panel does: placed by the
// active policy, held to the budget, billed in the ledger (client `editor:vscode.lm`).

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import * as proto from '../daemon/protocol';
import { describeError } from '../media/errors';
import { chatFailure, type ChatRequests } from './chatRequests';
import { maxTokens, SECTION, workspaceKey } from './config';
import type { DaemonConnection } from './connection';
import { ownBudgets } from './spendParts';
import type { DaemonEvents } from './events';
import {
  modelInformation, OfferedModels, refusal, requestOptions, streamAnswer, toChatMessages, VIA, waitFor, type LmErrorCode, type ModelInformation, type ModelStore,
} from './languageModelParts';

const LM_VENDOR = 'switchyard';
/**
 * How long a request waits for the daemon while it (re)starts: starting one takes about a second, a
 * restart up to the 5 s the old one is given to stop, a reconnect's backoff up to 10 s.
 */
const READY_WAIT_MS = 15_000;

export class LanguageModels implements vscode.LanguageModelChatProvider<ModelInformation>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;
  private readonly disposables: vscode.Disposable[];
  private readonly offered: OfferedModels;

  constructor(
    private readonly connection: DaemonConnection,
    private readonly events: DaemonEvents,
    private readonly chats: ChatRequests,
    store: ModelStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.offered = new OfferedModels(store);
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

  /** Never waits for the daemon: VS Code asks every provider before it shows a picker. The last list stands in meanwhile. */
  provideLanguageModelChatInformation(): Promise<ModelInformation[]> {
    const client = this.events.readyClient;
    const read = client ? async () => modelInformation(await client.sendRequest(proto.sites), maxTokens()) : undefined;
    return this.offered.list(read, (line) => this.log.warn(line));
  }

  async provideLanguageModelChatResponse(
    model: ModelInformation,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const client = await this.readyClient(model.id, token);
    // Cancelled while the daemon started: nothing was sent.
    if (!client) return;
    const asked = requestOptions(options);
    // The caller's cap, else the prompt panel's (switchyard.chat.maxTokens), else the model's.
    const cap = asked.maxTokens ?? maxTokens();
    const params: proto.ChatParams = { model: model.id, messages: toChatMessages(messages, model.capabilities.imageInput), workspace: workspaceKey(), via: VIA, ...asked, ...(cap ? { maxTokens: cap } : {}) };

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

  /** A refused request for whoever called vscode.lm: what stopped it and what would help, with the code that tells which. */
  private refusal(error: unknown, model: string): Error {
    const data = (error as { data?: unknown })?.data as proto.NoEligibleSiteData | undefined;
    const described = chatFailure(error, model, data?.placement?.policy ?? 'the active policy', ownBudgets(this.events.spend?.budgets ?? [], workspaceKey()));
    const refused = refusal(described, (error as Error)?.message ?? String(error));
    this.log.warn(`${VIA} ${model}: ${refused.message}`);
    return languageModelError(refused, error);
  }

  /**
   * The client once the daemon is connected and has this window's keys, waited for while it (re)starts: a
   * chat begun as the window opens, or during a restart, goes once it is up. Undefined when the caller
   * cancels meanwhile; a NotFound error when the daemon stays away or has stopped for good.
   */
  private async readyClient(model: string, token: vscode.CancellationToken): Promise<LanguageClient | undefined> {
    const ready = await waitFor<LanguageClient | false>(
      () => (this.connection.state.kind === 'stopped' ? false : this.events.readyClient),
      [this.events.onReady, this.connection.onDidChangeState], READY_WAIT_MS, token);
    if (ready) return ready;
    if (token.isCancellationRequested) return undefined;
    const state = this.connection.state;
    const message = state.kind === 'stopped' ? `The Switchyard daemon stopped: ${state.message}`
      : `Switchyard waited ${READY_WAIT_MS / 1000} s for its daemon to ${state.kind === 'connecting' && state.restarting ? 'restart' : 'be ready'}, in vain.`;
    const refused = refusal(describeError({ message, model, policy: 'the active policy', unreachable: true }), message);
    this.log.warn(`${VIA} ${model}: ${refused.message}`);
    throw languageModelError(refused);
  }

  async provideTokenCount(model: ModelInformation, text: string | vscode.LanguageModelChatRequestMessage, token: vscode.CancellationToken): Promise<number> {
    const client = await this.readyClient(model.id, token);
    if (!client) throw new vscode.CancellationError();
    const params: proto.CountTokensParams = typeof text === 'string' ? { text } : { messages: toChatMessages([text], model.capabilities.imageInput) };
    if ('messages' in params && params.messages.length === 0) return 0;
    return (await client.sendRequest(proto.countTokens, params)).tokens;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** vscode.LanguageModelError with the refusal's code (the caller tells which by it), else a plain Error; the daemon's error as its cause. */
function languageModelError(refused: { code?: LmErrorCode; message: string }, cause?: unknown): Error {
  const error = refused.code ? vscode.LanguageModelError[refused.code](refused.message) : new Error(refused.message);
  if (cause !== undefined) error.cause = cause;
  return error;
}
