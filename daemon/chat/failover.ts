// When a request moves to another site, and how long it waits first: one rule for the daemon and for
// the placement benchmark, whose replay models what the daemon does.

import type { SiteResult } from '../providers/types';

/** Attempts per request, the first included. */
export const MAX_ATTEMPTS = 4;

/** A retryable failure before any output reached the caller: another site can take the request over. */
export function failsOver(result: SiteResult): boolean {
  return result.outcome === 'error' && result.error?.retryable === true && !result.text && !result.toolCalls;
}

/**
 * The pause before attempt `attempts + 1`: doubling from 100 ms, at most 1 s, and jittered by `random`
 * (uniform in [0, 1)) to between half and all of that, so requests that failed together do not return together.
 */
export function backoffMs(attempts: number, random: number): number {
  return Math.min(1000, 50 * 2 ** attempts) * (0.5 + random / 2);
}
