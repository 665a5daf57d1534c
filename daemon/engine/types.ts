// The inputs of a placement decision, apart from the catalog and the policy.

import type { BreakerState } from '../protocol';

export interface PlacementRequest {
  /** Canonical model id. */
  model: string;
  inputTokens: number;
  /** Share of inputTokens expected to be read from the provider's prompt cache. */
  cachedInputTokens?: number;
  /** What the answer is expected to cost in output; defaults to min(maxOutputTokens, 256). */
  expectedOutputTokens?: number;
  /** The request's max tokens: bounds the worst-case cost (budget, max USD per request) and the context check. */
  maxOutputTokens: number;
}

/** What placement reads about one site (and model) at one instant. */
export interface SiteLoad {
  /** Requests placed here and not finished, counted from the instant of placement. */
  inFlight: number;
  /** Waiting requests as the site last reported them; null where it does not tell. */
  queueDepth: number | null;
  /** Measured time to first token for an empty prompt, queue excluded (EWMA); null without samples. */
  ttftBaseMs: number | null;
  outputTokensPerSecond: number | null;
  /** Measured time a request holds a slot at the site (EWMA); null without samples. */
  serviceMs: number | null;
  breaker: BreakerState;
  admits: boolean;
  lastFailureAt: number | null;
  consecutiveFailures: number;
}

export interface TelemetryView {
  load(siteId: string, model: string, now: number): SiteLoad;
}

export const IDLE_LOAD: SiteLoad = {
  inFlight: 0,
  queueDepth: null,
  ttftBaseMs: null,
  outputTokensPerSecond: null,
  serviceMs: null,
  breaker: 'closed',
  admits: true,
  lastFailureAt: null,
  consecutiveFailures: 0,
};
