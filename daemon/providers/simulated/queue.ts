// A FIFO multi-server queue: `servers` requests run at once, the rest wait in arrival order. It keeps
// the integral of the number in system over time so Little's law (L = lambda W) can be checked.

import type { Clock } from './clock';

export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
}

export class SiteQueue {
  private busy = 0;
  private readonly waiting: (Waiter | null)[] = [];
  private head = 0;
  private queued = 0;
  private area = 0;
  private lastChange: number;
  private readonly startedAt: number;
  private arrivals = 0;

  constructor(readonly servers: number, private readonly clock: Clock) {
    this.lastChange = this.startedAt = clock.now();
  }

  /** Requests waiting for a server. */
  get depth(): number {
    return this.queued;
  }

  get inService(): number {
    return this.busy;
  }

  /** Resolves with a release function once a server is free; null if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<Release | null> {
    // Already cancelled: not an arrival, and an abort listener added now would never fire.
    if (signal?.aborted) return Promise.resolve(null);
    this.account();
    this.arrivals++;
    if (this.busy < this.servers) {
      this.busy++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const index = this.waiting.length;
      const onAbort = () => {
        this.account();
        this.waiting[index] = null;
        this.queued--;
        resolve(null);
      };
      this.waiting.push({ grant: (release) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(release);
      } });
      this.queued++;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Time-average number in system, arrivals per ms, since the queue was made. */
  stats(): { meanInSystem: number; arrivalRatePerMs: number; elapsedMs: number } {
    this.account();
    const elapsedMs = this.clock.now() - this.startedAt;
    return { meanInSystem: elapsedMs > 0 ? this.area / elapsedMs : 0, arrivalRatePerMs: elapsedMs > 0 ? this.arrivals / elapsedMs : 0, elapsedMs };
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.account();
      const next = this.nextWaiter();
      if (next) next.grant(this.releaser());
      else this.busy--;
    };
  }

  private nextWaiter(): Waiter | null {
    while (this.head < this.waiting.length) {
      const w = this.waiting[this.head++];
      if (w) {
        this.queued--;
        return w;
      }
    }
    this.waiting.length = this.head = 0;
    return null;
  }

  private account(): void {
    const now = this.clock.now();
    this.area += (this.busy + this.queued) * (now - this.lastChange);
    this.lastChange = now;
  }
}
