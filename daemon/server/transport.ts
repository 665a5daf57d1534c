// JSON-RPC over one WebSocket: each text frame is one message. The reader answers malformed input
// itself (parse error / invalid request, connection kept), and keeps two LSP lifecycle messages from
// reaching vscode-languageserver, whose node watchdog would end the whole process: the daemon is
// shared by every window, so one window's `exit` or its pid must only ever end that window's socket.

import { AbstractMessageReader, AbstractMessageWriter, type DataCallback, type Disposable, type Message } from 'vscode-jsonrpc/node';
import type WebSocket from 'ws';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;

export class SocketMessageReader extends AbstractMessageReader {
  private callback: DataCallback | undefined;

  constructor(private readonly socket: WebSocket) {
    super();
    socket.on('message', (data, isBinary) => this.receive(isBinary ? null : data.toString()));
    socket.on('close', () => this.fireClose());
    socket.on('error', (error) => this.fireError(error));
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    return { dispose: () => (this.callback = undefined) };
  }

  private receive(text: string | null): void {
    if (text === null) return this.reject(INVALID_REQUEST, 'binary frames are not JSON-RPC; send text');
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (error) {
      return this.reject(PARSE_ERROR, `Parse error: ${(error as Error).message}`);
    }
    if (Array.isArray(message)) return this.reject(INVALID_REQUEST, 'batch requests are not supported');
    if (typeof message !== 'object' || message === null || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      return this.reject(INVALID_REQUEST, 'Invalid Request: expected a JSON-RPC 2.0 object');
    }
    const rpc = message as { method?: string; params?: { processId?: unknown } };
    if (rpc.method === 'exit') {
      this.socket.close(1000, 'exit');
      return;
    }
    if (rpc.method === 'initialize' && rpc.params && typeof rpc.params === 'object') rpc.params.processId = null;
    // vscode-jsonrpc reads a cancel's id without a guard, and its throw would leave the socket's
    // 'message' event as an uncaught exception, stopping the daemon.
    if (rpc.method === '$/cancelRequest' && !isRequestId((rpc.params as { id?: unknown } | undefined)?.id)) {
      return this.reject(INVALID_REQUEST, 'Invalid Request: $/cancelRequest needs params.id, the id of a request');
    }
    this.callback?.(message as Message);
  }

  private reject(code: number, message: string): void {
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }));
  }
}

export class SocketMessageWriter extends AbstractMessageWriter {
  constructor(private readonly socket: WebSocket) {
    super();
  }

  write(message: Message): Promise<void> {
    // A socket that is closing cannot be written; reporting that as a writer error would make the
    // connection log it to the same dead socket, over and over.
    if (this.socket.readyState !== this.socket.OPEN) return Promise.resolve();
    return new Promise((resolve) => this.socket.send(JSON.stringify(message), () => resolve()));
  }

  end(): void {
    this.socket.close();
  }
}

function isRequestId(id: unknown): boolean {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}
