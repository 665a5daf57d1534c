// The extension's supervisor (extension/connection.ts) and its LanguageClient against the real bundled
// daemon, with the editor replaced by a stand-in for `vscode`: the few parts the supervisor uses, and a
// stub that answers anything else the languageclient asks of the editor.

import assert from 'node:assert/strict';
import http from 'node:http';
import Module from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import * as proto from '../../daemon/protocol';
import type { ConnectionState, DaemonConnection } from '../../extension/connection';
import { isDaemonRunning, readDaemonState } from '../../extension/daemonProcess';
import { DAEMON, tempDir, waitFor } from '../support/daemon';

class EventEmitter<T> {
  private listeners = new Set<(value: T) => void>();
  readonly event = (listener: (value: T) => void) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

/** Any property, call or construction gives itself; never a thenable, iterable as empty. */
const stub: unknown = new Proxy(function () {}, {
  get: (target, key) => {
    if (key === 'then') return undefined;
    if (key === Symbol.iterator) return function* () {};
    if (key === Symbol.toPrimitive) return () => '';
    return key === 'prototype' ? target.prototype : stub;
  },
  apply: () => stub,
  construct: () => stub as object,
});
const withStub = <T extends object>(known: T) => new Proxy(known as Record<string | symbol, unknown>, { get: (target, key) => (key in target ? target[key] : stub) });
const errorsShown: string[] = [];
const vscode = withStub({
  EventEmitter,
  LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
  version: '1.106.0',
  env: { language: 'en', appName: 'test' },
  workspace: withStub({ getConfiguration: () => ({ get: (_key: string, fallback: unknown) => fallback }), textDocuments: [] }),
  window: withStub({ showErrorMessage: (message: string) => (errorsShown.push(message), Promise.resolve(undefined)), visibleTextEditors: [] }),
  commands: withStub({ executeCommand: () => Promise.resolve(undefined) }),
});
const moduleLoader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
const load = moduleLoader._load;
moduleLoader._load = function (request: string, ...rest: unknown[]) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};
// Required only now, once the stand-in answers for vscode.
const { DaemonConnection: Connection } = require('../../extension/connection') as typeof import('../../extension/connection');

/** One editor window's supervisor on `stateDir`, with its log lines and every state it went through. */
function window(stateDir: string, port = 0) {
  const lines: string[] = [];
  const say = (line: string) => void lines.push(line);
  const log = withStub({ info: say, warn: say, error: say, appendLine: say, logLevel: 3 });
  const connection: DaemonConnection = new Connection(DAEMON, () => ({ stateDir, idleTimeoutSeconds: 60, port }), log as never);
  const states: ConnectionState[] = [];
  connection.onDidChangeState((s: ConnectionState) => states.push(s));
  windows.push(connection);
  stateDirs.push(stateDir);
  connection.start();
  const until = <K extends ConnectionState['kind']>(kind: K, where: (s: Extract<ConnectionState, { kind: K }>) => boolean = () => true, timeoutMs = 20_000) =>
    waitFor(() => {
      const s = states.at(-1);
      return s?.kind === kind && where(s as Extract<ConnectionState, { kind: K }>) ? (s as Extract<ConnectionState, { kind: K }>) : undefined;
    }, timeoutMs, () => `still ${JSON.stringify(states.at(-1))}; log:\n${lines.join('\n')}`);
  return { connection, lines, states, until };
}
const windows: DaemonConnection[] = [];
const stateDirs: string[] = [];
// The daemons outlive their windows, as they should: these go with the test.
after(() => {
  windows.forEach((w) => w.dispose());
  for (const dir of stateDirs) {
    const state = readDaemonState(dir);
    if (state && isDaemonRunning(state)) process.kill(state.pid, 'SIGKILL');
  }
});

test('a daemon that exits at every start (its port taken) is retried with backoff, then given up with a message naming why', async () => {
  const taken = http.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  after(() => taken.close());
  const w = window(tempDir(), (taken.address() as AddressInfo).port);
  const stopped = await w.until('stopped', undefined, 30_000);
  assert.match(stopped.message, /3 times within a minute/);
  assert.match(stopped.message, /EADDRINUSE/, 'the message says what stopped the daemon');
  assert.doesNotMatch(stopped.message, /\n\s+at /, 'no stack trace in a notification');
  const starts = () => w.lines.filter((l) => /connecting to the daemon failed/.test(l)).length;
  assert.equal(starts(), 3, 'three starts, then no more');
  assert.equal(errorsShown.filter((m) => /EADDRINUSE/.test(m)).length, 1);
  // It stays given up: no fourth start behind the user's back.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(w.states.at(-1)?.kind, 'stopped');
  assert.equal(starts(), 3);
});

test('two windows share one daemon; one closing leaves it serving the other; a request in flight when it dies fails, and the daemon is started again', async () => {
  const stateDir = tempDir();
  const a = window(stateDir);
  const b = window(stateDir);
  const [first, second] = [await a.until('connected'), await b.until('connected')];
  assert.equal(first.status.pid, second.status.pid, 'one daemon for the state dir');
  a.connection.dispose();
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await b.connection.connected.sendRequest(proto.status)).pid, first.status.pid, 'still served after the other window closed');
  // A request the daemon will never answer: it is stopped, then killed.
  process.kill(first.status.pid, 'SIGSTOP');
  const inFlight = b.connection.connected.sendRequest(proto.status);
  process.kill(first.status.pid, 'SIGKILL');
  await assert.rejects(inFlight, /connection|disposed/i);
  const again = await b.until('connected', (s) => s.status.pid !== first.status.pid);
  assert.equal(readDaemonState(stateDir)?.pid, again.status.pid);
  assert.ok(b.lines.some((l) => l.includes(`daemon pid ${first.status.pid} is gone; restarting it`)));
});

test('a daemon stopped on purpose (another window\'s Restart Daemon, a SIGTERM) is no crash: three in a minute do not make this window give up', async () => {
  const stateDir = tempDir();
  const w = window(stateDir);
  let pid = (await w.until('connected')).status.pid;
  for (let stop = 1; stop <= 3; stop++) {
    process.kill(pid, 'SIGTERM');
    const next = await w.until('connected', (s) => s.status.pid !== pid);
    pid = next.status.pid;
    }
  assert.equal(w.states.some((s) => s.kind === 'stopped'), false);
});

test('a daemon that crashes three times within a minute is not started a fourth time; the window says so', async () => {
  const w = window(tempDir());
  let pid = (await w.until('connected')).status.pid;
  for (let crash = 1; crash <= 2; crash++) {
    process.kill(pid, 'SIGKILL');
    pid = (await w.until('connected', (s) => s.status.pid !== pid)).status.pid;
  }
  process.kill(pid, 'SIGKILL');
  assert.match((await w.until('stopped')).message, /stopped 3 times within a minute/);
});

test('Restart Daemon in one window: both windows end on the one new daemon', async () => {
  const stateDir = tempDir();
  const a = window(stateDir);
  const b = window(stateDir);
  const old = (await a.until('connected')).status.pid;
  await b.until('connected', (s) => s.status.pid === old);
  await a.connection.restart();
  const fresh = (await a.until('connected')).status.pid;
  assert.notEqual(fresh, old);
  assert.equal((await b.until('connected', (s) => s.status.pid !== old)).status.pid, fresh);
  assert.equal(readDaemonState(stateDir)?.pid, fresh);
});
