// Circuit breaker per site: open after `failureThreshold` consecutive failures, so a dead site stops
// eating requests (and their time to first token); after `cooldownMs` one probe is let through
// (half-open); its success closes the breaker, its failure opens it for another cool-down.
//
// Probes are numbered. Any success closes the breaker (an older request's, a teammate's), and the probe
// still out is then an ordinary request: when it settles later it must neither re-open the breaker on
// one failure nor, by freeing "the" probe slot, let a second probe past the one now out.

import type { BreakerState } from '../protocol';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 5, cooldownMs: 30_000 };

export interface BreakerView {
  state: BreakerState;
  /** Whether a request may be placed now (closed, or half-open with no probe out). */
  admits: boolean;
  consecutiveFailures: number;
  openedAt: number | null;
  lastFailureAt: number | null;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private lastFailureAt: number | null = null;
  /** Probes admitted so far: the next one gets the next number, so 0 is never a probe. */
  private probes = 0;
  /** The number of the probe out, 0 when none. */
  private probeOut = 0;

  constructor(private readonly options: BreakerOptions = DEFAULT_BREAKER) {}

  view(now: number): BreakerView {
    const state = this.stateAt(now);
    return {
      state,
      admits: this.admitsIn(state),
      consecutiveFailures: this.failures,
      openedAt: this.openedAt,
      lastFailureAt: this.lastFailureAt,
    };
  }

  /** Whether a request may be placed in this state (closed, or half-open with no probe out). */
  admitsIn(state: BreakerState): boolean {
    return state === 'closed' || (state === 'half-open' && this.probeOut === 0);
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  get lastFailure(): number | null {
    return this.lastFailureAt;
  }

  /** A request was placed here; returns its probe number when it is the half-open probe, else 0. */
  onPlaced(now: number): number {
    if (this.stateAt(now) !== 'half-open' || this.probeOut !== 0) return 0;
    return (this.probeOut = ++this.probes);
  }

  onSuccess(): void {
    this.failures = 0;
    this.openedAt = null;
    this.probeOut = 0;
  }

  /** `probe`: the number onPlaced gave the request (0 for one that was not a probe, or a teammate's). */
  onFailure(now: number, probe: number): void {
    const settlesProbe = this.settles(probe);
    this.failures++;
    this.lastFailureAt = now;
    if (settlesProbe || this.openedAt !== null || this.failures >= this.options.failureThreshold) this.openedAt = now;
  }

  /** The request ended saying nothing about the site (cancelled by the user): free the probe slot if it held it. */
  onNeutral(probe: number): void {
    this.settles(probe);
  }

  /** Whether a result is the probe's, freeing its slot: only the probe out is, not one a success has since overtaken. */
  private settles(probe: number): boolean {
    if (probe === 0 || probe !== this.probeOut) return false;
    this.probeOut = 0;
    return true;
  }

  stateAt(now: number): BreakerState {
    if (this.openedAt === null) return 'closed';
    return now - this.openedAt >= this.options.cooldownMs ? 'half-open' : 'open';
  }
}
