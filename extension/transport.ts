// vscode-languageclient speaks to the daemon over a WebSocket: each text frame is one JSON-RPC message.

import { AbstractMessageReader, AbstractMessageWriter, type DataCallback, type Disposable, type Message, type MessageReader, type MessageWriter } from 'vscode-jsonrpc/node';
import type WebSocket from 'ws';

class SocketReader extends AbstractMessageReader {
  private callback: DataCallback | undefined;

  constructor(socket: WebSocket) {
    super();
    socket.on('message', (data) => {
      try {
        this.callback?.(JSON.parse(data.toString()) as Message);
      } catch (error) {
        this.fireError(error);
      }
    });
    socket.on('close', () => this.fireClose());
    socket.on('error', (error) => this.fireError(error));
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    return { dispose: () => (this.callback = undefined) };
  }
}

class SocketWriter extends AbstractMessageWriter {
  constructor(private readonly socket: WebSocket) {
    super();
  }

  write(message: Message): Promise<void> {
    // A closing socket has nowhere to deliver to; its close event, not this write, drives reconnection.
    if (this.socket.readyState !== this.socket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.socket.send(JSON.stringify(message), (error) => (error ? reject(error) : resolve()));
    });
  }

  end(): void {
    this.socket.close();
  }
}

export function socketTransports(socket: WebSocket): { reader: MessageReader; writer: MessageWriter } {
  return { reader: new SocketReader(socket), writer: new SocketWriter(socket) };
}
