// Circuit breaker per site: open after `failureThreshold` consecutive failures, so a dead site stops
// eating requests (and their time to first token); after `cooldownMs` one probe is let through
// (half-open); its success closes the breaker, its failure opens it for another cool-down.

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
  private probeOut = false;

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
    return state === 'closed' || (state === 'half-open' && !this.probeOut);
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  get lastFailure(): number | null {
    return this.lastFailureAt;
  }

  /** A request was placed here; returns true when it is the half-open probe. */
  onPlaced(now: number): boolean {
    if (this.stateAt(now) !== 'half-open' || this.probeOut) return false;
    this.probeOut = true;
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.openedAt = null;
    this.probeOut = false;
  }

  onFailure(now: number, probe: boolean): void {
    this.failures++;
    this.lastFailureAt = now;
    if (probe) this.probeOut = false;
    if (probe || this.openedAt !== null || this.failures >= this.options.failureThreshold) this.openedAt = now;
  }

  /** The request ended saying nothing about the site (cancelled by the user): free the probe slot. */
  onNeutral(probe: boolean): void {
    if (probe) this.probeOut = false;
  }

  stateAt(now: number): BreakerState {
    if (this.openedAt === null) return 'closed';
    return now - this.openedAt >= this.options.cooldownMs ? 'half-open' : 'open';
  }
}
