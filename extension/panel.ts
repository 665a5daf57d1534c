// The prompt panel's host side: one webview panel per window, restored by a serializer after a reload.
// It runs the same reducer as the webview (media/panelState.ts) over every message it posts and every
// UI event it receives, so it can hand a re-created webview the whole conversation.

import * as vscode from 'vscode';
import crypto from 'node:crypto';
import * as proto from '../daemon/protocol';
import { describeError, droppedError } from '../media/errors';
import { policyLine } from '../media/format';
import { type Ask, type HostMessage, type PanelState, type Preview, type PromptContext, type Turn, type WebviewMessage } from '../media/messages';
import { initialState, isFinal, modelChoices, reduce, reviveState } from '../media/panelState';
import { chatFailure, type ChatRequests } from './chatRequests';
import { defaultModel, maxTokens, workspaceKey } from './config';
import { admit, languageId, Stops } from './panelParts';
import { ownBudgets } from './spendParts';
import type { DaemonConnection } from './connection';
import type { DaemonEvents } from './events';
import { html, webviewOptions } from './webviewHtml';

export const PANEL_VIEW_TYPE = 'switchyard.panel';
const READ_ONLY_SCHEMES = new Set(['output', 'debug', 'vscode-terminal']);
const MODEL_KEY = 'switchyard.panel.model';

export class PromptPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private state: PanelState = initialState();
  private ready = false;
  private readonly stops = new Stops((requestId) => void this.cancelRequest(requestId));
  /** Previews asked so far: only the latest one's answer is shown. */
  private previews = 0;
  private readonly disposables: vscode.Disposable[] = [];
  private panelDisposables: vscode.Disposable[] = [];
  /** The text editor the user was in before the panel took the focus: where Insert puts code. */
  private lastEditor: vscode.TextEditor | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly connection: DaemonConnection,
    private readonly events: DaemonEvents,
    private readonly chats: ChatRequests,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, saved) => {
          this.log.info('restoring the prompt panel after a reload');
          this.state = reviveState(saved as Partial<PanelState> | undefined);
          this.attach(panel);
        },
      }),
      events.onReady(() => void this.refresh()),
      connection.onDidChangeState((s) => this.onConnectionState(s.kind === 'connected')),
      vscode.window.onDidChangeActiveTextEditor((editor) => this.remember(editor)),
    );
    this.remember(vscode.window.activeTextEditor);
  }

  /** Opens (or reveals) the panel; with context, puts the selection in as context for the next prompt. */
  open(context?: PromptContext): void {
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Switchyard', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, webviewOptions(this.context.extensionUri));
      this.attach(panel);
    } else {
      this.panel.reveal(undefined, false);
    }
    if (context) this.apply({ type: 'context', context });
  }

  get isOpen(): boolean {
    return !!this.panel;
  }

  /** For tests and commands: the panel's state as the host sees it. */
  get snapshot(): PanelState {
    return this.state;
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icon.svg');
    panel.webview.options = webviewOptions(this.context.extensionUri);
    panel.webview.html = html(panel.webview, this.context.extensionUri, {
      title: 'Switchyard',
      script: 'dist/media/panel.js',
      styles: ['dist/media/codicon.css', 'media/panel.css'],
      body: BODY,
    });
    this.panelDisposables = [
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
        for (const d of this.panelDisposables) d.dispose();
        this.panelDisposables = [];
        // Nobody will read the answer under way: stop paying for it.
        this.stopAll();
      }),
      panel.onDidChangeViewState((e) => {
        // A hidden webview is destroyed; when shown again it sends 'ready' and gets the state back.
        if (!e.webviewPanel.visible) this.ready = false;
      }),
    ];
    this.state = reduce(this.state, { type: 'connection', connected: this.connection.state.kind === 'connected' });
    void this.refresh();
  }

  /** Applies a message to the host's mirror and posts it to the webview. */
  private apply(message: HostMessage): void {
    this.state = reduce(this.state, message);
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
  }

  private receive(raw: unknown): void {
    const admitted = admit(this.state, raw);
    if ('ignored' in admitted) return this.log.warn(`prompt panel: ignored a message from the webview: ${admitted.ignored}`);
    const m = admitted.message;
    this.onMessage(m).catch((error) => this.log.error(`prompt panel: handling "${m.type}" failed: ${(error as Error).message}`));
  }

  private async onMessage(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        void this.panel?.webview.postMessage({ type: 'restore', state: this.state } satisfies HostMessage);
        return;
      case 'send':
        return this.send(m);
      case 'askPreview':
        return this.preview(m);
      case 'cancel':
        // The webview shows it cancelled already; the mirror follows, and the daemon is told now or once it names the request.
        this.stops.stop(this.state, m.turnId);
        this.state = reduce(this.state, m);
        return;
      case 'setPolicy':
        return this.setPolicy(m.name);
      case 'setModel':
        this.state = reduce(this.state, m);
        await this.context.globalState.update(MODEL_KEY, m.model);
        return;
      case 'command':
        await vscode.commands.executeCommand(m.command, ...(m.args ?? []));
        return;
      case 'copyCode':
        await vscode.env.clipboard.writeText(m.text);
        vscode.window.setStatusBarMessage('$(check) Switchyard: code copied', 2000);
        return;
      case 'insertCode':
        return this.insertCode(m.text, m.language);
      case 'clear':
        // The answer under way goes with the conversation: stop paying for it.
        this.stopAll();
        this.state = reduce(this.state, m);
        return;
      default:
        this.state = reduce(this.state, m);
    }
  }

  private async send(m: Extract<WebviewMessage, { type: 'send' }>): Promise<void> {
    const turn: Turn = {
      id: crypto.randomUUID(), prompt: m.prompt, context: m.context, model: m.model, policy: m.policy || this.state.activePolicy,
      status: 'placing', sentAt: Date.now(), text: '', attempts: [],
      ...(m.images?.length ? { images: m.images } : {}),
      ...(m.rerunOf !== undefined ? { rerunOf: m.rerunOf } : {}),
    };
    this.apply({ type: 'turnStarted', turn });
    // Ready, not only connected: until this window's settings and keys are sent, a daemon that just
    // started would place the prompt without them (a twin instead of the keyed site, or "no key").
    const client = this.events.readyClient;
    if (!client) {
      const message = this.connection.state.kind === 'stopped' ? this.connection.state.message : 'Switchyard is not connected to its daemon right now (it is reconnecting).';
      this.apply({ type: 'failed', turnId: turn.id, error: describeError({ message, model: turn.model, policy: turn.policy, unreachable: true }) });
      return;
    }
    const params = chatParams(m);
    // Over the limit the daemon would close the connection (1009) rather than answer: say why here instead.
    const bytes = Buffer.byteLength(JSON.stringify(params));
    if (bytes > proto.MAX_MESSAGE_BYTES - 4096) {
      const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
      this.apply({ type: 'failed', turnId: turn.id, error: {
        kind: 'other', title: 'Too large to send',
        detail: [`This prompt and the conversation before it come to ${mb(bytes)}, over the ${mb(proto.MAX_MESSAGE_BYTES)} a request may be.`, 'Nothing was sent. Attach fewer or smaller images, or clear the conversation, whose earlier images are sent again with each prompt.'],
        actions: [],
      } });
      return;
    }
    const turnId = turn.id;
    try {
      await this.chats.start(client, params, {
        placed: (started) => {
          this.apply({ type: 'placed', turnId, requestId: started.requestId, placement: started.placement });
          // Stopped while it was being placed (even if cleared meanwhile): stopped now that it has an id.
          this.stops.placed(turnId, started.requestId);
        },
        delta: (p) => this.apply({ type: 'delta', turnId, text: p.text, at: Date.now() }),
        attempt: (attempt) => this.apply({ type: 'attempt', turnId, attempt }),
        receipt: (p) => this.apply({ type: 'receipt', turnId, receipt: p.receipt }),
        // onConnectionState fails every unfinished turn.
        lost: () => undefined,
      });
    } catch (error) {
      this.stops.forget(turnId);
      this.log.warn(`chat failed: ${(error as Error).message}`);
      this.apply({ type: 'failed', turnId, error: chatFailure(error, turn.model, turn.policy, ownBudgets(this.events.spend?.budgets ?? [], workspaceKey())) });
    }
  }

  /** Asks where the draft would go; an answer overtaken by a later ask is dropped, so the line shows the latest. */
  private async preview(m: Extract<WebviewMessage, { type: 'askPreview' }>): Promise<void> {
    const asked = ++this.previews;
    const client = this.events.readyClient;
    let preview: Preview | null = null;
    if (client) {
      try {
        preview = { placement: await client.sendRequest(proto.previewChat, chatParams(m)) };
      } catch (error) {
        preview = { error: (error as Error).message };
      }
    }
    if (asked === this.previews) this.apply({ type: 'preview', preview });
  }

  private remember(editor: vscode.TextEditor | undefined): void {
    // The Output pane is a text editor too, but read-only: not where code goes.
    if (editor && !READ_ONLY_SCHEMES.has(editor.document.uri.scheme)) this.lastEditor = editor;
  }

  /**
   * Into the text editor the user was last in, replacing its selections (the panel has the focus now, so
   * there is no active one); without such an editor, into a new untitled document in the block's language.
   */
  private async insertCode(text: string, language: string | undefined): Promise<void> {
    const last = this.lastEditor;
    if (!last || last.document.isClosed) {
      const document = await vscode.workspace.openTextDocument({ content: text, ...(language ? { language: languageId(language) } : {}) });
      await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One });
      return;
    }
    // Hidden behind the panel's tab, the editor is shown again where it was, with the selections it had.
    const selections = last.selections;
    const editor = await vscode.window.showTextDocument(last.document, { viewColumn: last.viewColumn, preserveFocus: false });
    editor.selections = selections;
    const done = await editor.edit((edit) => {
      for (const selection of editor.selections) edit.replace(selection, text);
    });
    if (!done) void vscode.window.showWarningMessage('Switchyard could not insert the code: the editor did not take the edit.');
  }

  /** Cancels every answer under way (the panel closed, the conversation cleared). */
  private stopAll(): void {
    for (const t of this.state.turns) {
      this.stops.stop(this.state, t.id);
      this.apply({ type: 'cancelled', turnId: t.id });
    }
  }

  /** The receipt (outcome cancelled, with what was produced) follows and is shown on the turn. */
  private async cancelRequest(requestId: string): Promise<void> {
    try {
      await this.events.client?.sendRequest(proto.cancel, { requestId });
    } catch (error) {
      this.log.warn(`cancel failed: ${(error as Error).message}`);
    }
  }

  private onConnectionState(connected: boolean): void {
    this.apply({ type: 'connection', connected });
    if (connected) return;
    for (const t of this.state.turns) if (!isFinal(t)) this.apply({ type: 'failed', turnId: t.id, error: droppedError() });
  }

  private async setPolicy(name: string): Promise<void> {
    const client = this.events.client;
    if (!client) return;
    const workspace = workspaceKey();
    try {
      const result = await client.sendRequest(proto.setPolicy, workspace ? { name, workspace } : { name });
      if (workspace) await this.context.workspaceState.update('switchyard.policy', name);
      this.publishPolicies(result);
    } catch (error) {
      const message = `Switching to policy "${name}" failed: ${(error as Error).message}`;
      this.log.error(message);
      void vscode.window.showErrorMessage(message);
      await this.refresh();
    }
  }

  publishPolicies(result: proto.PoliciesResult): void {
    this.apply({ type: 'policies', policies: result.policies.map((p) => ({ name: p.name, summary: policyLine(p) })), active: result.active, scope: result.scope });
  }

  /** Models and policies from the daemon. */
  async refresh(): Promise<void> {
    const client = this.events.client;
    if (!client || !this.panel) return;
    try {
      const [siteList, policyResult] = await Promise.all([client.sendRequest(proto.sites), client.sendRequest(proto.policies, { workspace: workspaceKey() })]);
      this.apply({ type: 'models', models: modelChoices(siteList), preferred: this.context.globalState.get<string>(MODEL_KEY) ?? defaultModel() });
      this.publishPolicies(policyResult);
    } catch (error) {
      this.log.warn(`loading models and policies for the panel failed: ${(error as Error).message}`);
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

const BODY = `
<header class="bar">
  <label for="model">Model <select id="model" aria-label="Model"></select></label>
  <label for="policy">Policy <select id="policy" aria-label="Routing policy"></select></label>
  <button id="policy-more" class="icon" title="Switch Routing Policy… (this workspace or all)" aria-label="Switch routing policy"><span class="codicon codicon-settings-gear" aria-hidden="true"></span></button>
  <span id="policy-summary"></span>
  <button id="clear" class="icon" title="Clear the conversation" aria-label="Clear the conversation"><span class="codicon codicon-clear-all" aria-hidden="true"></span></button>
</header>
<div id="connection" class="banner" role="status" hidden><span class="codicon codicon-debug-disconnect" aria-hidden="true"></span>Not connected to the Switchyard daemon. <button id="reconnect" class="secondary">Restart Daemon</button></div>
<main id="log" role="log" aria-live="polite" aria-label="Conversation">
  <div id="empty">Ask anything. Each answer shows where it ran, how fast, and what it cost.</div>
</main>
<footer>
  <div id="context" class="chip" hidden><span class="codicon codicon-file-code" aria-hidden="true"></span><span id="context-name"></span><button id="drop-context" class="icon" aria-label="Remove the selection context" title="Remove the selection context"><span class="codicon codicon-close" aria-hidden="true"></span></button></div>
  <div id="attachments" aria-label="Images to send" hidden></div>
  <div id="image-hint" role="status" hidden></div>
  <div id="notice" role="status"></div>
  <div id="preview" role="status" hidden></div>
  <div class="row">
    <button id="attach" class="icon" title="Attach images (or paste or drop them into the prompt)" aria-label="Attach images"><span class="codicon codicon-file-media" aria-hidden="true"></span></button>
    <input id="image-file" type="file" accept="image/*" multiple hidden>
    <textarea id="prompt" aria-label="Prompt" placeholder="Ask… (Enter to send, Shift+Enter for a new line, Escape to cancel; paste or drop images)"></textarea>
    <button id="send" title="Send (Enter)"><span class="codicon codicon-send" aria-hidden="true"></span>Send</button>
    <button id="cancel" class="secondary" title="Cancel (Escape)" hidden><span class="codicon codicon-debug-stop" aria-hidden="true"></span>Cancel</button>
  </div>
</footer>`;

/** What the daemon is asked for a prompt, sent or previewed: the conversation, this window's workspace, the cap and policy in force. */
function chatParams(ask: Ask): proto.ChatParams {
  const params: proto.ChatParams = { model: ask.model, messages: ask.history, workspace: workspaceKey() };
  const max = maxTokens();
  if (max) params.maxTokens = max;
  if (ask.policy) params.policy = ask.policy;
  return params;
}
