// The daemon's notifications as editor events: handlers are registered on each new client (the
// supervisor replaces the client on every reconnect), and features subscribe here once.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import * as proto from '../daemon/protocol';
import type { DaemonConnection } from './connection';
import { DayTimer, readSpend } from './spendParts';

export class DaemonEvents implements vscode.Disposable {
  private readonly deltaEmitter = new vscode.EventEmitter<proto.ChatDeltaParams>();
  private readonly attemptEmitter = new vscode.EventEmitter<proto.ChatAttemptParams>();
  private readonly receiptEmitter = new vscode.EventEmitter<proto.ChatReceiptParams>();
  private readonly spendEmitter = new vscode.EventEmitter<proto.SpendSummary>();
  private readonly catalogEmitter = new vscode.EventEmitter<proto.CatalogSummary>();
  private readonly teamEmitter = new vscode.EventEmitter<proto.TeamStatus>();
  private readonly readyEmitter = new vscode.EventEmitter<LanguageClient>();
  readonly onChatDelta = this.deltaEmitter.event;
  readonly onChatAttempt = this.attemptEmitter.event;
  readonly onReceipt = this.receiptEmitter.event;
  readonly onSpendChanged = this.spendEmitter.event;
  /** The catalog reloaded or a reload was refused (then `error` is set); at connect too, when the daemon's catalog has an error. */
  readonly onCatalogChanged = this.catalogEmitter.event;
  /** Telemetry sharing with the team was set or stopped, or its link came up or went down. */
  readonly onTeamChanged = this.teamEmitter.event;
  /** After a (re)connect, once settings and keys have been sent: the moment to fetch state. */
  readonly onReady = this.readyEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private lastSpend: proto.SpendSummary | undefined;
  /** The client whose connection has had this window's settings, keys and team link sent. */
  private prepared: LanguageClient | undefined;
  private clientHandlers: vscode.Disposable[] = [];
  /** "Today" turns over at midnight with no request to push it: read the spend again then. */
  private readonly dayTimer = new DayTimer(() => this.newDay());

  constructor(private readonly connection: DaemonConnection, private readonly prepare: (client: LanguageClient) => Promise<void>) {
    this.disposables.push(connection.onDidConnect((client) => void this.attach(client)));
  }

  get spend(): proto.SpendSummary | undefined {
    return this.lastSpend;
  }

  /** The connected client, or undefined (no throw) when there is none. */
  get client(): LanguageClient | undefined {
    try {
      return this.connection.connected;
    } catch {
      return undefined;
    }
  }

  /** The connected client once onReady fired for it: a request sent sooner could be placed without this window's keys. */
  get readyClient(): LanguageClient | undefined {
    const client = this.client;
    return client && client === this.prepared ? client : undefined;
  }

  private async attach(client: LanguageClient): Promise<void> {
    // The previous client is gone (the supervisor disposed it): drop its handlers.
    for (const d of this.clientHandlers) d.dispose();
    this.clientHandlers = [
      client.onNotification(proto.chatDelta, (p) => this.deltaEmitter.fire(p)),
      client.onNotification(proto.chatAttempt, (p) => this.attemptEmitter.fire(p)),
      client.onNotification(proto.receipt, (p) => this.receiptEmitter.fire(p)),
      client.onNotification(proto.spendChanged, (p) => this.publishSpend(p)),
      client.onNotification(proto.catalogChanged, (p) => this.catalogEmitter.fire(p)),
      client.onNotification(proto.teamChanged, (p) => this.teamEmitter.fire(p)),
    ];
    const status = this.connection.state.kind === 'connected' ? this.connection.state.status : undefined;
    if (status?.catalog?.error) this.catalogEmitter.fire(status.catalog);
    try {
      await this.prepare(client);
    } finally {
      this.prepared = client;
      this.readyEmitter.fire(client);
    }
  }

  publishSpend(summary: proto.SpendSummary): void {
    this.lastSpend = summary;
    this.spendEmitter.fire(summary);
  }

  /** Asks the daemon for the spend now (after settings changed) and publishes it: every workspace's, as spendChanged pushes it (see readSpend). */
  async refreshSpend(): Promise<proto.SpendSummary | undefined> {
    const client = this.client;
    if (!client) return undefined;
    const summary = await readSpend((type, params) => client.sendRequest(type, params));
    this.publishSpend(summary);
    return summary;
  }

  /** Disconnected, there is nothing to read; the spend is read again on connecting. A failure waits for the next push. */
  private newDay(): void {
    if (this.client) this.refreshSpend().catch(() => undefined);
  }

  dispose(): void {
    this.dayTimer.dispose();
    for (const d of [...this.disposables, ...this.clientHandlers]) d.dispose();
    this.deltaEmitter.dispose();
    this.attemptEmitter.dispose();
    this.receiptEmitter.dispose();
    this.spendEmitter.dispose();
    this.catalogEmitter.dispose();
    this.teamEmitter.dispose();
    this.readyEmitter.dispose();
  }
}
