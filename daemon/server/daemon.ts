// The daemon process: takes the state dir, listens on 127.0.0.1, publishes daemon.json, serves
// editor connections, and stops on SIGTERM or after an idle spell with no client.

import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'vscode-languageserver/node';
import type { NotificationType } from 'vscode-jsonrpc';
import type { WebSocket, WebSocketServer } from 'ws';
import { PROTOCOL_VERSION, type StatusResult } from '../protocol';
import { VERSION } from '../version';
import { createLogger, type Logger } from '../log/logger';
import { Redactor } from '../log/redact';
import type { DaemonOptions } from './args';
import { createHttpApp } from './http';
import { Metrics } from '../metrics';
import { metricsRouter } from '../metrics/route';
import { createOpenAIEndpoint } from '../openai/endpoint';
import { InvalidParams } from '../chat/validate';
import { warmTokenizer } from '../meter/estimate';
import { attachRpc } from './rpc';
import { acquireLock, removeState, writeState } from './stateFile';
import { processIdentity } from './processIdentity';
import { registerHandlers } from './handlers';
import { checkBudgets, paramsOf, policiesOf, policyNameOf, windowOf } from './params';
import { openParts, type Parts } from './parts';
import * as proto from '../protocol';
import { loadEndpointKey, type EndpointKey } from './endpointKey';

/** How long after listening the tokenizer is built: past the editor's first requests (see warmTokenizer). */
const TOKENIZER_WARM_MS = 1000;

/** Receipts within this window reach the status bar as one push. */
const SPEND_PUSH_MS = 50;

/** How long a stop waits for cancelled requests to record their receipts. */
const STOP_WAIT_MS = 3000;

export class Daemon {
  readonly startedAt = Date.now();
  private readonly clients = new Set<Connection>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** HTTP requests not yet answered: a long one must not be cut by the idle timer. */
  private httpInFlight = 0;
  private spendTimer: NodeJS.Timeout | undefined;
  private clientCount = 0;
  private sockets: WebSocketServer | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<string>;
  private resolveStopped!: (reason: string) => void;

  private constructor(
    readonly options: DaemonOptions,
    readonly log: Logger,
    readonly redactor: Redactor,
    readonly token: string,
    private readonly server: http.Server,
    private readonly releaseLock: () => void,
    readonly parts: Parts,
    readonly metrics: Metrics,
    private readonly endpointKey: EndpointKey,
  ) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const releaseLock = acquireLock(options.stateDir);
    try {
      const redactor = new Redactor();
      const token = crypto.randomBytes(32).toString('base64url');
      redactor.add(token);
      const log = createLogger({
        file: path.join(options.stateDir, 'daemon.log'),
        level: options.logLevel,
        stderr: options.logStderr,
        redactor,
      });
      const endpointKey = loadEndpointKey(options.stateDir);
      redactor.add(endpointKey.key);
      if (endpointKey.created) log.info('endpoint key made', { file: endpointKey.file, why: endpointKey.created });
      const parts = await openParts(options, log, redactor);
      const server = http.createServer();
      const metrics = new Metrics(parts);
      const daemon = new Daemon(options, log, redactor, token, server, releaseLock, parts, metrics, endpointKey);
      parts.meter.onChange(() => daemon.spendChanged());
      // The editor lists sites and models from the catalog, and a refused catalog file must not go unseen.
      parts.catalog.onChange(() => daemon.broadcast(proto.catalogChanged, parts.catalog.summary()));
      parts.team.onChange((status) => daemon.broadcast(proto.teamChanged, status));
      const openAI = createOpenAIEndpoint({ chat: parts.chat, catalog: parts.catalog, log, metrics });
      const routes = (app: import('express').Express) => {
        // A tool using the OpenAI endpoint is a client too: its requests keep an editor-less daemon alive.
        app.use((_req, res, next) => (daemon.busyUntilAnswered(res), next()));
        app.use(openAI.router);
        app.use(metricsRouter(metrics));
      };
      const direct = {
        'POST /v1/chat/completions': (req: http.IncomingMessage, res: http.ServerResponse) => {
          daemon.busyUntilAnswered(res);
          openAI.chatCompletions(req, res);
        },
      };
      server.on('request', createHttpApp({ keys: [token, endpointKey.key], version: VERSION, routes, direct, log }));
      daemon.sockets = attachRpc(server, { token, onConnection: (connection, socket) => daemon.accept(connection, socket) });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, '127.0.0.1', () => resolve());
      });
      const identity = processIdentity(process.pid) ?? undefined;
      writeState(options.stateDir, { port: daemon.port, pid: process.pid, token, version: VERSION, identity });
      log.info('daemon listening', { port: daemon.port, stateDir: options.stateDir, version: VERSION });
      daemon.armIdleTimer();
      // After the editor's first requests (connect, configure, spend), before its first prompt.
      setTimeout(warmTokenizer, TOKENIZER_WARM_MS).unref();
      return daemon;
    } catch (error) {
      releaseLock();
      throw error;
    }
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves with the reason once the daemon has stopped. */
  whenStopped(): Promise<string> {
    return this.stopped;
  }

  /** Where other tools send OpenAI requests, with the key that outlives this process. */
  endpoint(): proto.EndpointInfo {
    return { baseUrl: `http://127.0.0.1:${this.port}/v1`, apiKey: this.endpointKey.key, keyFile: this.endpointKey.file, fixedPort: this.options.port !== 0 };
  }

  status(): StatusResult {
    return {
      version: VERSION,
      protocolVersion: PROTOCOL_VERSION,
      pid: process.pid,
      uptimeMs: Date.now() - this.startedAt,
      clients: this.clients.size,
      stateDir: this.options.stateDir,
      simulationSeed: this.parts.seed,
      catalog: this.parts.catalog.summary(),
      team: this.parts.team.status(),
    };
  }

  /**
   * Applies the editor's settings. Every part is checked before any is changed: a refused call (bad
   * budgets, say, next to a good policy change) changes nothing, in memory or in settings.json.
   */
  async configure(raw: unknown): Promise<void> {
    const { parts } = this;
    const params = paramsOf(proto.configure, raw, true);
    const policies = policiesOf(params.policies);
    const defaultPolicy = params.defaultPolicy === undefined ? undefined : policyNameOf(params.defaultPolicy, 'params.defaultPolicy');
    const policyChoice = policies !== undefined || defaultPolicy !== undefined ? { policies, defaultPolicy } : undefined;
    // The window's workspace only says whose budgets these are.
    const window = windowOf(params.workspace);
    if (params.budgets !== undefined) checkBudgets(params.budgets, 'params.budgets');
    if (params.catalogFile !== undefined && typeof params.catalogFile !== 'string') throw new InvalidParams('params.catalogFile must be a string: a file path, or "" for none');
    const catalogFile = params.catalogFile === undefined ? parts.settings().catalogFile : params.catalogFile || null;
    const catalogFiles = catalogFile !== parts.settings().catalogFile && !this.options.catalogFile ? (catalogFile ? [catalogFile] : []) : undefined;
    // Policies may pin a site that the new catalog file adds: they are checked against the catalog as it will be.
    const siteIds = catalogFiles ? await parts.catalog.siteIdsWith(catalogFiles) : undefined;
    if (policyChoice) parts.policies.check(policyChoice, siteIds);
    // All checked: from here on nothing is refused.
    if (policyChoice) parts.policies.configure(policyChoice, siteIds);
    if (params.budgets !== undefined) parts.meter.setBudgets(params.budgets, window);
    if (catalogFiles) {
      const error = await parts.catalog.setFiles(catalogFiles);
      if (error) this.log.error('catalog file refused; the previous catalog stays in force', { error });
    }
    parts.saveSettings({ ...parts.policies.choice(), budgets: parts.meter.caps(), catalogFile });
    this.spendChanged();
  }

  /** Pushes spend to every client; coalesced so a burst of receipts sends one update. */
  spendChanged(): void {
    if (this.spendTimer) return;
    this.spendTimer = setTimeout(() => {
      this.spendTimer = undefined;
      this.broadcast(proto.spendChanged, this.parts.meter.summary());
    }, SPEND_PUSH_MS);
  }

  broadcast<P>(type: NotificationType<P>, params: P): void {
    // The generic overloads cannot relate P to their RequestParam<P>; the contract types params already.
    for (const connection of this.clients) void connection.sendNotification(type, params as never);
  }

  private accept(connection: Connection, socket: WebSocket): void {
    this.clients.add(connection);
    clearTimeout(this.idleTimer);
    const unsubscribe = this.log.subscribe((level, line) => {
      if (level === 'error' || level === 'fatal') connection.console.error(line);
      else if (level === 'warn') connection.console.warn(line);
      else connection.console.info(line);
    });
    connection.onInitialize(() => ({ capabilities: {}, serverInfo: { name: 'switchyard-daemon', version: VERSION } }));
    const owner = `editor-${++this.clientCount}`;
    registerHandlers(connection, this, owner);
    socket.once('close', () => {
      this.parts.chat.cancelOwner(owner);
      unsubscribe();
      this.clients.delete(connection);
      this.log.info('client disconnected', { clients: this.clients.size });
      this.armIdleTimer();
    });
    this.log.info('client connected', { clients: this.clients.size });
  }

  /** The idle spell starts again when this response is over (sent, or its client gone), not before. */
  busyUntilAnswered(res: http.ServerResponse): void {
    this.httpInFlight++;
    clearTimeout(this.idleTimer);
    res.once('close', () => {
      this.httpInFlight--;
      this.armIdleTimer();
    });
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (this.clients.size > 0 || this.httpInFlight > 0 || this.options.idleTimeoutMs <= 0) return;
    this.idleTimer = setTimeout(() => void this.stop('idle'), this.options.idleTimeoutMs);
    this.idleTimer.unref();
  }

  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.idleTimer);
      this.log.info('daemon stopping', { reason });
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      // What a cancelled request streamed was billed upstream: its receipt reaches the ledger (and its
      // client, still connected) before anything closes. A stuck upstream gets STOP_WAIT_MS, no more.
      const unfinished = await this.parts.chat.stopAll(STOP_WAIT_MS);
      if (unfinished > 0) this.log.warn('requests still running at shutdown: their receipts are lost', { requests: unfinished });
      // Upgraded sockets are no longer the HTTP server's to close: say goodbye on each, then cut.
      for (const socket of this.sockets?.clients ?? []) socket.close(1001, 'daemon stopping');
      setTimeout(() => this.sockets?.clients.forEach((socket) => socket.terminate()), 1000).unref();
      this.server.closeAllConnections();
      await closed;
      clearTimeout(this.spendTimer);
      await this.parts.close();
      removeState(this.options.stateDir);
      this.releaseLock();
      this.log.info('daemon stopped', { reason });
      this.log.flush();
      this.resolveStopped(reason);
    })();
    return this.stopping;
  }
}
