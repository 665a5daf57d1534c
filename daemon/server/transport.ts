// JSON-RPC over one WebSocket: each text frame is one message. The reader answers malformed input
// itself (parse error / invalid request, connection kept), and keeps two LSP lifecycle messages from
// reaching vscode-languageserver, whose node watchdog would end the whole process: the daemon is
// shared by every window, so one window's `exit` or its pid must only ever end that window's socket.
// It also refuses what the library would drop without an answer, lose or throw on: a request whose id
// is not a string or number, a message without a method, a request reusing the id of one still in
// progress (the library queues requests by id, so the first would be lost), a cancel without an id.

import { AbstractMessageReader, AbstractMessageWriter, type DataCallback, type Disposable, type Message } from 'vscode-jsonrpc/node';
import type WebSocket from 'ws';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;

/**
 * Answers a window has left unread (the socket's send buffer) beyond which its socket is cut. A window
 * that reads leaves kilobytes queued, even streaming several answers at once; one that stopped reading
 * (hung, or a client that only writes) would otherwise grow the daemon every other window shares
 * without bound.
 */
const MAX_UNREAD_BYTES = 64 * 1024 * 1024;

type RequestId = string | number;

/** The library's key for a request id: it keys its queue by `String(id)`, so 1 and "1" are one. */
const idKey = (id: RequestId): string => String(id);

export class SocketMessageReader extends AbstractMessageReader {
  private callback: DataCallback | undefined;
  /** Requests read and not answered yet, by idKey; the writer removes each as its answer goes out. */
  readonly pending = new Set<string>();

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
    const rpc = message as { id?: unknown; method?: unknown; params?: { processId?: unknown }; result?: unknown; error?: unknown };
    const problem = requestProblem(rpc, this.pending);
    if (problem) return this.reject(INVALID_REQUEST, `Invalid Request: ${problem}`, isRequestId(rpc.id) ? rpc.id : null);
    if (isRequestId(rpc.id) && rpc.method !== undefined) this.pending.add(idKey(rpc.id));
    if (rpc.method === 'exit') {
      this.socket.close(1000, 'exit');
      return;
    }
    if (rpc.method === 'initialize' && rpc.params && typeof rpc.params === 'object') rpc.params.processId = null;
    this.callback?.(message as Message);
  }

  private reject(code: number, message: string, id: RequestId | null = null): void {
    sendOrCut(this.socket, JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }));
  }
}

/** What makes a message one the library would drop unanswered, lose or throw on; null when none. Pure. */
function requestProblem(rpc: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown }, pending: ReadonlySet<string>): string | null {
  if (rpc.id !== undefined && !isRequestId(rpc.id)) return 'id must be a string or a number';
  // A response from the client: the daemon asks nothing, and the library ignores it.
  if (rpc.method === undefined && rpc.id !== undefined && ('result' in rpc || 'error' in rpc)) return null;
  if (typeof rpc.method !== 'string') return 'method must be a string';
  // vscode-jsonrpc reads a cancel's id without a guard, and its throw would leave the socket's
  // 'message' event as an uncaught exception, stopping the daemon.
  if (rpc.method === '$/cancelRequest' && !isRequestId((rpc.params as { id?: unknown } | undefined)?.id)) return '$/cancelRequest needs params.id, the id of a request';
  if (isRequestId(rpc.id) && pending.has(idKey(rpc.id))) return `id ${JSON.stringify(rpc.id)} is already in use by a request in progress; give each request its own`;
  return null;
}

export class SocketMessageWriter extends AbstractMessageWriter {
  /** `pending`: the reader's requests in progress, each removed as its answer is written. */
  constructor(private readonly socket: WebSocket, private readonly pending: Set<string>) {
    super();
  }

  write(message: Message): Promise<void> {
    const answer = message as { id?: unknown; method?: unknown };
    if (answer.method === undefined && isRequestId(answer.id)) this.pending.delete(idKey(answer.id));
    return new Promise((resolve) => sendOrCut(this.socket, JSON.stringify(message), resolve));
  }

  end(): void {
    this.socket.close();
  }
}

/**
 * Sends `text`, or cuts the socket when its peer has left MAX_UNREAD_BYTES unread: a close frame would
 * wait behind all of it. A socket that is closing is not written; reporting that as a writer error
 * would make the connection log it to the same dead socket, over and over.
 */
function sendOrCut(socket: WebSocket, text: string, done: () => void = () => {}): void {
  if (socket.readyState !== socket.OPEN) return done();
  if (socket.bufferedAmount > MAX_UNREAD_BYTES) {
    socket.terminate();
    return done();
  }
  socket.send(text, () => done());
}

function isRequestId(id: unknown): id is RequestId {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}
