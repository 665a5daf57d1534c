// Routed requests as the editor's features send them (the prompt panel, the language model provider):
// each request's notifications go to the sink of whoever sent it. The daemon can stream before its
// answer to switchyard/chat is read, so notifications for a request not known yet wait for it.

import * as vscode from 'vscode';
import { ResponseError, type LanguageClient } from 'vscode-languageclient/node';
import * as proto from '../daemon/protocol';
import { describeError } from '../media/errors';
import type { PanelError } from '../media/messages';
import type { DaemonConnection } from './connection';
import type { DaemonEvents } from './events';
import { neverAnswered } from './panelParts';

export interface ChatSink {
  /** First, once the daemon placed the request and reserved its budget. */
  placed(started: proto.ChatStarted): void;
  delta(p: proto.ChatDeltaParams): void;
  attempt(p: proto.ChatAttemptParams): void;
  /** Last: the request is over (complete, cancelled, cut or failed). */
  receipt(p: proto.ChatReceiptParams): void;
  /** The connection dropped before the receipt: none will come. */
  lost(): void;
}

type Notification = { kind: 'delta'; p: proto.ChatDeltaParams } | { kind: 'attempt'; p: proto.ChatAttemptParams } | { kind: 'receipt'; p: proto.ChatReceiptParams };

/** Notifications held for requests whose start has not been read yet; a bound, as a stray id would hold them forever. */
const EARLY_REQUESTS = 50;
const EARLY_PER_REQUEST = 10_000;

export class ChatRequests implements vscode.Disposable {
  private readonly sinks = new Map<string, ChatSink>();
  private readonly early = new Map<string, Notification[]>();
  private readonly disposables: vscode.Disposable[];

  constructor(connection: DaemonConnection, events: DaemonEvents) {
    this.disposables = [
      events.onChatDelta((p) => this.route({ kind: 'delta', p })),
      events.onChatAttempt((p) => this.route({ kind: 'attempt', p })),
      events.onReceipt((p) => this.route({ kind: 'receipt', p })),
      connection.onDidChangeState((s) => {
        if (s.kind === 'connected') return;
        const lost = [...this.sinks.values()];
        this.sinks.clear();
        this.early.clear();
        for (const sink of lost) sink.lost();
      }),
    ];
  }

  /** Sends the request; rejects as switchyard/chat does (refused, invalid, not connected). */
  async start(client: LanguageClient, params: proto.ChatParams, sink: ChatSink): Promise<proto.ChatStarted> {
    const started = await client.sendRequest(proto.chat, params);
    this.sinks.set(started.requestId, sink);
    sink.placed(started);
    const held = this.early.get(started.requestId) ?? [];
    this.early.delete(started.requestId);
    for (const n of held) this.deliver(n, sink);
    return started;
  }

  private route(n: Notification): void {
    const sink = this.sinks.get(n.p.requestId);
    if (sink) return this.deliver(n, sink);
    const list = this.early.get(n.p.requestId) ?? [];
    if (list.length < EARLY_PER_REQUEST) list.push(n);
    this.early.set(n.p.requestId, list);
    if (this.early.size > EARLY_REQUESTS) this.early.delete(this.early.keys().next().value as string);
  }

  private deliver(n: Notification, sink: ChatSink): void {
    switch (n.kind) {
      case 'delta':
        return sink.delta(n.p);
      case 'attempt':
        return sink.attempt(n.p);
      case 'receipt':
        this.sinks.delete(n.p.requestId);
        return sink.receipt(n.p);
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** A switchyard/chat that failed to start, as the user should read it. */
export function chatFailure(error: unknown, model: string, policy: string, budgets?: proto.BudgetStatus[]): PanelError {
  const message = (error as Error)?.message ?? String(error);
  const response = error instanceof ResponseError ? (error as ResponseError<unknown>) : undefined;
  return describeError({ code: response?.code, message, data: response?.data, model, policy, unreachable: neverAnswered(response), budgets });
}
