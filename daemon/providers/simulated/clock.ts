// Time for simulated sites and the router. The real clock runs at wall speed or faster (a speed
// multiplier lets an integration test finish a streamed chat in milliseconds); the virtual clock jumps
// from event to event so an hour of trace replays in seconds.

export interface Clock {
  /** Milliseconds; an epoch time for the real clock, time since the start for a virtual one. */
  now(): number;
  /** Resolves after `ms` of clock time, or as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export class RealClock implements Clock {
  private readonly origin = Date.now();

  /** speed 100: a simulated second passes in 10 ms. */
  constructor(private readonly speed = 1) {}

  now(): number {
    return this.origin + (Date.now() - this.origin) * this.speed;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms / this.speed);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** Min-heap by (at, seq): equal times fire in the order they were scheduled. */
class TimerHeap {
  private items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Timer, y: Timer): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

/** Lets every promise continuation queued so far run (setImmediate fires after the microtask queue drains). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new TimerHeap();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let fired = false;
      const fire = () => {
        if (fired) return;
        fired = true;
        signal?.removeEventListener('abort', fire);
        resolve();
      };
      signal?.addEventListener('abort', fire, { once: true });
      this.timers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve: fire });
    });
  }

  /** Runs every timer due up to `t` in time order, letting each one's continuations run, then sets now = t. */
  async advanceTo(t: number): Promise<void> {
    await settle();
    for (let next = this.timers.peek(); next && next.at <= t; next = this.timers.peek()) {
      this.t = Math.max(this.t, next.at);
      // Fire everything due at this instant together, then let their continuations schedule more.
      while (this.timers.peek()?.at === next.at) this.timers.pop()!.resolve();
      await settle();
    }
    this.t = Math.max(this.t, t);
  }

  /** Runs until no timer is left (every simulated request finished). */
  async runUntilIdle(): Promise<void> {
    await settle();
    while (this.timers.size > 0) await this.advanceTo(this.timers.peek()!.at);
  }
}
