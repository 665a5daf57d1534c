// Starts the real bundled daemon (dist/daemon.js) in a temp state dir and talks to it over real
// HTTP and WebSocket, as the extension does.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createMessageConnection, type MessageConnection } from 'vscode-jsonrpc/node';
import type { DaemonState } from '../../daemon/protocol';
import { socketTransports } from '../../extension/transport';

export const ROOT = path.resolve(__dirname, '../..');
export const DAEMON = path.join(ROOT, 'dist/daemon.js');

export interface RunningDaemon {
  stateDir: string;
  state: DaemonState;
  process: ChildProcess;
  url: string;
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

const made: string[] = [];
// Each test file runs in a process of its own: its folders go when it ends, after every test has read them.
process.once('exit', () => {
  for (const dir of made) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A daemon still writing there can race the removal; a leftover folder fails no test.
    }
  }
});

/** A fresh folder under the system's temp dir, removed when this test process exits. */
export function tempDir(prefix = 'switchyard-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function startDaemon(options: { stateDir?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<RunningDaemon> {
  const stateDir = options.stateDir ?? tempDir();
  const child = spawn(process.execPath, [DAEMON, '--port', '0', '--state-dir', stateDir, ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const state = await waitFor(() => {
    try {
      const value = JSON.parse(fs.readFileSync(path.join(stateDir, 'daemon.json'), 'utf8')) as DaemonState;
      return value.pid === child.pid ? value : undefined;
    } catch {
      return undefined;
    }
  }, 10_000, () => `daemon did not start: ${stderr}`);
  return {
    stateDir,
    state,
    process: child,
    url: `http://127.0.0.1:${state.port}`,
    stderr: () => stderr,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, message: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function openSocket(daemon: RunningDaemon, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${daemon.state.port}/rpc`, {
      headers: { Authorization: `Bearer ${daemon.state.token}`, ...headers },
    });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    socket.once('error', reject);
  });
}

/** A JSON-RPC client over a real WebSocket, built from the extension's own transport. */
export async function connect(daemon: RunningDaemon): Promise<{ rpc: MessageConnection; socket: WebSocket; close(): void }> {
  const socket = await openSocket(daemon);
  const { reader, writer } = socketTransports(socket);
  const rpc = createMessageConnection(reader, writer);
  rpc.listen();
  return {
    rpc,
    socket,
    close() {
      rpc.dispose();
      socket.close();
    },
  };
}

/** Sends raw text and resolves with the next response (not a log notification) the daemon sends back. */
export function rawExchange(socket: WebSocket, text: string): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { method?: string };
      if (message.method !== undefined) return;
      socket.off('message', onMessage);
      resolve(message);
    };
    socket.on('message', onMessage);
    socket.send(text);
  });
}
