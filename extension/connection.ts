// Supervises the daemon for this window: finds or starts it, connects a LanguageClient over the
// WebSocket, and when the socket drops reconnects with backoff, restarting the daemon if it died.
// Repeated crashes in a short window stop the loop with a clear message instead of spinning.

import * as vscode from 'vscode';
import WebSocket from 'ws';
import { CloseAction, ErrorAction, LanguageClient, type LanguageClientOptions } from 'vscode-languageclient/node';
import * as proto from '../daemon/protocol';
import { closeIsDrop, type Connecting } from './connectionParts';
import { DaemonStartFailed, delay, findDaemon, isDaemonRunning, readDaemonState, signalDaemon, startDaemon, stopDaemon } from './daemonProcess';
import { socketTransports } from './transport';

export type ConnectionState =
  | ({ kind: 'connecting' } & Connecting)
  | { kind: 'connected'; status: proto.StatusResult; state: proto.DaemonState }
  | { kind: 'stopped'; message: string };

export interface ConnectionSettings {
  stateDir: string;
  idleTimeoutSeconds: number;
  /** 0: any free port. */
  port: number;
  /** The simulated fleet's seed for a daemon this window starts; undefined: drawn at random. */
  simulationSeed?: number;
}

const CRASH_WINDOW_MS = 60_000;
const CRASH_LIMIT = 3;
const MAX_BACKOFF_MS = 10_000;
/** The close code of every socket when the daemon stops on purpose (daemon/server/daemon.ts): "going away". */
const DAEMON_STOPPING = 1001;

export class DaemonConnection implements vscode.Disposable {
  private readonly stateEmitter = new vscode.EventEmitter<ConnectionState>();
  private readonly clientEmitter = new vscode.EventEmitter<LanguageClient>();
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires with each new client, so features can register their notification handlers again. */
  readonly onDidConnect = this.clientEmitter.event;

  private current: ConnectionState = { kind: 'connecting', attempt: 0 };
  private client: LanguageClient | undefined;
  private socket: WebSocket | undefined;
  private crashes: number[] = [];
  private generation = 0;
  private disposed = false;

  constructor(
    private readonly daemonScript: string,
    private readonly settings: () => ConnectionSettings,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get state(): ConnectionState {
    return this.current;
  }

  /** The connected client; throws a message fit for the user when there is none. */
  get connected(): LanguageClient {
    if (this.current.kind !== 'connected' || !this.client) {
      throw new Error(
        this.current.kind === 'stopped' ? `Switchyard daemon stopped: ${this.current.message}` : 'Switchyard is still connecting to its daemon',
      );
    }
    return this.client;
  }

  start(): void {
    void this.run(++this.generation);
  }

  /** Stops the daemon this window uses (whoever started it) and starts a fresh one. */
  async restart(): Promise<void> {
    const generation = ++this.generation;
    this.crashes = [];
    // Said before anything else: the old daemon may take seconds to stop (it finishes its answers'
    // receipts first), and until the new one's handshake this window is connected to neither.
    this.setState({ kind: 'connecting', attempt: 0, restarting: true });
    const state = readDaemonState(this.settings().stateDir);
    this.teardown();
    if (state && isDaemonRunning(state)) {
      this.log.info(`stopping daemon pid ${state.pid} for restart`);
      await stopDaemon(state);
    }
    await this.run(generation, true);
  }

  private async run(generation: number, restarting = false): Promise<void> {
    for (let attempt = 0; generation === this.generation && !this.disposed; attempt++) {
      this.setState({ kind: 'connecting', attempt, ...(restarting ? { restarting } : {}) });
      try {
        await this.connect(generation);
        return;
      } catch (error) {
        if (generation !== this.generation) return;
        const message = (error as Error).message;
        this.log.warn(`connecting to the daemon failed (attempt ${attempt + 1}): ${message}`);
        // A daemon that dies at start (its port taken, its state dir unusable) would otherwise be started
        // again every 10 s for good, the status bar saying "reconnecting" and nothing saying why.
        if (error instanceof DaemonStartFailed) this.crashes.push(Date.now());
        if (this.tooManyCrashes()) return this.giveUp(`it crashed ${CRASH_LIMIT} times within a minute (last: ${message})`);
        const backoff = Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
        await delay(backoff);
      }
    }
  }

  private async connect(generation: number): Promise<void> {
    const { stateDir, idleTimeoutSeconds, port, simulationSeed } = this.settings();
    let state = await findDaemon(stateDir);
    if (!state) {
      this.log.info(`starting the daemon (state dir ${stateDir})`);
      state = await startDaemon({ daemonScript: this.daemonScript, stateDir, idleTimeoutSeconds, port, simulationSeed });
      this.log.info(`daemon started, pid ${state.pid}, port ${state.port}`);
    }
    const socket = await openSocket(state);
    if (generation !== this.generation) {
      socket.close();
      return;
    }
    const client = new LanguageClient('switchyard', 'Switchyard', () => Promise.resolve(socketTransports(socket)), this.clientOptions());
    this.socket = socket;
    this.client = client;
    const daemon = state;
    socket.once('close', (code) => void this.onSocketClosed(generation, client, daemon, code));
    let status: proto.StatusResult;
    try {
      status = await this.handshake(client, daemon);
      // restart() or dispose() let go of this client meanwhile; their own loop connects, if any.
      if (this.client !== client) throw new Error('the connection was let go during the handshake');
    } catch (error) {
      // Let go of the half-made connection before the run loop retries: kept, its client would never
      // be disposed and would stand as current while the next attempt makes another.
      if (this.client === client) this.teardown();
      throw error;
    }
    this.log.info(`connected to daemon pid ${status.pid} (${status.clients} client(s))`);
    this.setState({ kind: 'connected', status, state });
    this.clientEmitter.fire(client);
  }

  /** Starts the client and checks the daemon speaks this extension's protocol. */
  private async handshake(client: LanguageClient, state: proto.DaemonState): Promise<proto.StatusResult> {
    await client.start();
    const status = await client.sendRequest(proto.status);
    if (status.protocolVersion !== proto.PROTOCOL_VERSION) {
      // A daemon from another version of the extension: replace it with ours.
      this.log.warn(`daemon pid ${status.pid} speaks protocol ${status.protocolVersion}, this extension ${proto.PROTOCOL_VERSION}: replacing it`);
      signalDaemon({ pid: status.pid, identity: status.pid === state.pid ? state.identity : undefined }, 'SIGTERM');
      throw new Error('protocol version mismatch');
    }
    return status;
  }

  private async onSocketClosed(generation: number, client: LanguageClient, daemon: proto.DaemonState, code: number): Promise<void> {
    // Only an established connection's drop: a failed attempt's close is its run loop's to handle.
    const now = { generation: this.generation, client: this.client, connected: this.current.kind === 'connected', disposed: this.disposed };
    if (!closeIsDrop({ generation, client }, now)) return;
    this.teardown();
    // Let a dying process finish exiting before judging whether it crashed.
    await delay(100);
    if (!isDaemonRunning(daemon)) {
      if (code === DAEMON_STOPPING) {
        // Stopped on purpose (another window's Restart Daemon, a SIGTERM): no crash, or a few restarts
        // from other windows would make this one give up.
        this.log.info(`daemon pid ${daemon.pid} stopped; connecting to the next one`);
      } else {
        this.crashes.push(Date.now());
        this.log.warn(`daemon pid ${daemon.pid} is gone; restarting it`);
        if (this.tooManyCrashes()) return this.giveUp(`it stopped ${CRASH_LIMIT} times within a minute`);
      }
    } else {
      this.log.warn('connection to the daemon dropped; reconnecting');
    }
    if (generation === this.generation) void this.run(generation);
  }

  private tooManyCrashes(): boolean {
    const now = Date.now();
    this.crashes = this.crashes.filter((at) => now - at < CRASH_WINDOW_MS);
    return this.crashes.length >= CRASH_LIMIT;
  }

  private giveUp(why: string): void {
    const message = `The Switchyard daemon was not restarted: ${why}. See "Switchyard: Show Logs", then run "Switchyard: Restart Daemon".`;
    this.log.error(message);
    this.setState({ kind: 'stopped', message });
    void vscode.window.showErrorMessage(message, 'Restart Daemon', 'Show Logs').then((choice) => {
      if (choice === 'Restart Daemon') void vscode.commands.executeCommand('switchyard.restartDaemon');
      if (choice === 'Show Logs') this.log.show();
    });
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: [{ scheme: 'file', pattern: '**/*.prompt.md' }],
      outputChannel: this.log,
      // The supervisor owns reconnection; the client must neither restart nor pop up its own errors.
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        // The client logs this line (as an error) whatever is returned; its default says the server will
        // not be restarted, which the lines after it in the log would contradict.
        closed: () => ({ action: CloseAction.DoNotRestart, handled: true, message: 'the connection to the daemon closed; Switchyard reconnects, or restarts the daemon if it stopped' }),
      },
      initializationFailedHandler: () => false,
    };
  }

  /** Lets go of the current connection; onSocketClosed ignores a client that is no longer current. */
  private teardown(): void {
    const client = this.client;
    const socket = this.socket;
    this.client = undefined;
    this.socket = undefined;
    // While the socket is open, stop the client politely (shutdown, exit) before closing it; a closed
    // socket has already stopped the client, and asking again only logs errors.
    const stopped = client && socket?.readyState === WebSocket.OPEN ? client.dispose(1000).catch(() => undefined) : Promise.resolve();
    void stopped.finally(() => socket?.close());
  }

  private setState(state: ConnectionState): void {
    this.current = state;
    this.stateEmitter.fire(state);
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    this.teardown();
    this.stateEmitter.dispose();
    this.clientEmitter.dispose();
  }
}

function openSocket(state: proto.DaemonState): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${state.port}/rpc`, {
      headers: { Authorization: `Bearer ${state.token}` },
      maxPayload: proto.MAX_MESSAGE_BYTES,
      handshakeTimeout: 5000,
    });
    socket.once('open', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', (error) => reject(new Error(`cannot open ws://127.0.0.1:${state.port}/rpc: ${error.message}`)));
  });
}
