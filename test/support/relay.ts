// A TCP relay between a daemon and a server on 127.0.0.1, standing in for the network: stopped, the
// server is down; frozen, every connection through it goes silent, as across a closed laptop or a lost
// route; with a delay, every byte takes that long each way, as on a slow link.

import net from 'node:net';
import { freePort } from '../../scripts/ports.cjs';

export class Relay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private constructor(readonly port: number, private readonly target: number, private readonly delayMs: number) {}

  static async on(target: number, { delayMs = 0 } = {}): Promise<Relay> {
    return new Relay(await freePort(), target, delayMs);
  }

  /** `url`, which names the server's port, through the relay instead. */
  through(url: string): string {
    return url.replace(`127.0.0.1:${this.target}`, `127.0.0.1:${this.port}`);
  }

  async start(): Promise<void> {
    this.server = net.createServer((near) => {
      const far = net.connect(this.target, '127.0.0.1');
      const end = () => {
        for (const s of [near, far]) {
          s.destroy();
          this.sockets.delete(s);
        }
      };
      for (const s of [near, far]) {
        this.sockets.add(s);
        s.on('error', end).on('close', end);
      }
      if (this.delayMs === 0) {
        near.pipe(far).pipe(near);
        return;
      }
      // Each chunk is held for the delay; timers of equal length fire in order, so bytes stay in order.
      for (const [from, to] of [[near, far], [far, near]]) from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), this.delayMs));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  freeze(): void {
    for (const s of this.sockets) s.pause();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
