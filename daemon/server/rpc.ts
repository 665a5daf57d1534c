// The /rpc WebSocket endpoint: one vscode-languageserver connection per socket. The upgrade is
// refused with a plain HTTP status before any WebSocket exists when Origin, Host or token are wrong.

import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { createConnection, type Connection } from 'vscode-languageserver/node';
import { MAX_MESSAGE_BYTES } from '../protocol';
import { checkOrigin, checkToken, type Refusal } from './guard';
import { SocketMessageReader, SocketMessageWriter } from './transport';

export interface RpcOptions {
  token: string;
  /** Called once per accepted socket, before the connection listens, to register handlers. */
  onConnection(connection: Connection, socket: WebSocket): void;
}

const STATUS_TEXT: Record<Refusal['status'] | 404, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' };

export function attachRpc(server: Server, options: RpcOptions): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node takes its own error listener off a socket it hands to 'upgrade': without one, a client that
    // resets the connection (after a refusal, say) is an uncaught exception that stops the daemon.
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    const refusal: Refusal | { status: 404; message: string } | null =
      checkOrigin(req.headers) ?? (path === '/rpc' ? checkToken(req.headers, [options.token]) : { status: 404, message: `no WebSocket endpoint ${path}` });
    if (refusal) {
      const body = JSON.stringify({ error: { message: refusal.message } });
      socket.end(
        `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status]}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const reader = new SocketMessageReader(ws);
      const connection = createConnection(reader, new SocketMessageWriter(ws, reader.pending));
      options.onConnection(connection, ws);
      connection.listen();
    });
  });
  return wss;
}
