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
  /** The request's output cap, which bounds the worst case (budget, max USD per request) and the context check;
   *  absent, it set none and each site's own limit applies (meter's outputCap). */
  maxOutputTokens?: number;
  /** The request defines tools or carries tool calls: only sites that can call tools serve it. */
  tools?: boolean;
  /** The answer must be JSON, any object or to a schema: only sites that can answer so serve it. */
  json?: 'object' | 'schema';
  /** The request shows images, all inline (data: URLs) or some by http(s) URL: only sites whose model sees them serve it. */
  images?: 'inline' | 'url';
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
  /** Mean and spread of ln(observed / catalog time to first token) at this site; 0 before enough samples. */
  ttftErrorMean: number;
  ttftErrorSd: number;
}

export interface TelemetryView {
  load(siteId: string, model: string, now: number): SiteLoad;
  /** The same view written as a load record at `out[at .. at + LOAD_RECORD)`: placement's hot path,
   *  which reads every site offering the model and so must not allocate per site. */
  loadInto(siteId: string, model: string, now: number, out: LoadRecord, at: number): void;
  /** `loadInto` for sites `from` to `to` (excluded) of a list (the offers of one model), site k at `out[(k - from) * stride]`. */
  loadAllInto(sites: readonly { site: { id: string } }[], from: number, to: number, model: string, now: number, out: LoadRecord, stride: number): void;
}

/** Load records of one or more sites, `LOAD.RECORD` numbers each (placement appends its own after them). */
export type LoadRecord = number[];

/** Zeros stored as doubles, copied to make records. */
const zeros: number[] = [0.5];
zeros.length = 0;

/**
 * A record of `length` numbers: an ordinary array in the JS heap, made by copying an array that already
 * holds doubles. `new Array(n)` would first hold small integers and be copied again, to doubles, at
 * the first fractional value: a third more garbage per decision.
 */
export function newLoadRecord(length: number): LoadRecord {
  while (zeros.length < length) zeros.push(0);
  return zeros.slice(0, length);
}

// A SiteLoad as a flat record of numbers. Nullable fields are flagged in a bitmask rather than coded as
// NaN, so every value round-trips exactly. Hot code copies these into its own module constants
// (`const { ... } = LOAD`): an import read through a module namespace costs a call per read in tsx.
export const LOAD = Object.freeze({
  /** Numbers per site. */
  RECORD: 9,
  IN_FLIGHT: 0,
  QUEUE_DEPTH: 1,
  TTFT_BASE: 2,
  TPS: 3,
  SERVICE: 4,
  /**
   * The small integers of a site, packed into one number (`packState`), as every number of the record is
   * garbage once per site per decision: bits 0-4 say which nullable fields are not null (HAS_*), bits 5-6
   * the breaker (0 closed, 1 open, 2 half-open), bits 7-8 whether it admits (1 it takes a request now; 0
   * its breaker refuses; ADMITS_RATE_LIMITED the provider asked to wait), the rest consecutive failures.
   */
  STATE: 5,
  HAS_QUEUE_DEPTH: 1,
  HAS_TTFT_BASE: 2,
  HAS_TPS: 4,
  HAS_SERVICE: 8,
  HAS_LAST_FAILURE: 16,
  ADMITS_RATE_LIMITED: 2,
  LAST_FAILURE: 6,
  TTFT_ERROR_MEAN: 7,
  TTFT_ERROR_SD: 8,
});
const {
  IN_FLIGHT: L_IN_FLIGHT, QUEUE_DEPTH: L_QUEUE_DEPTH, TTFT_BASE: L_TTFT_BASE, TPS: L_TPS, SERVICE: L_SERVICE, STATE: L_STATE,
  LAST_FAILURE: L_LAST_FAILURE, HAS_QUEUE_DEPTH, HAS_TTFT_BASE, HAS_TPS, HAS_SERVICE, HAS_LAST_FAILURE,
  TTFT_ERROR_MEAN: L_TTFT_ERROR_MEAN, TTFT_ERROR_SD: L_TTFT_ERROR_SD,
} = LOAD;

/** Consecutive failures beyond this read as this many: a breaker opens after a handful. */
const MAX_FAILURES = (1 << 22) - 1;

/** The STATE number of a record (see LOAD.STATE). */
export function packState(present: number, breaker: number, admits: number, failures: number): number {
  return present | (breaker << 5) | (admits << 7) | (Math.min(failures, MAX_FAILURES) << 9);
}

export function admitsOf(state: number): number {
  return (state >> 7) & 3;
}

function breakerOf(state: number): number {
  return (state >> 5) & 3;
}

function failuresOf(state: number): number {
  return state >>> 9;
}

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open'];

export function breakerCode(state: BreakerState): number {
  return state === 'closed' ? 0 : state === 'open' ? 1 : 2;
}

export function writeLoad(out: LoadRecord, at: number, l: SiteLoad): void {
  out[at + L_IN_FLIGHT] = l.inFlight;
  out[at + L_QUEUE_DEPTH] = l.queueDepth ?? 0;
  out[at + L_TTFT_BASE] = l.ttftBaseMs ?? 0;
  out[at + L_TPS] = l.outputTokensPerSecond ?? 0;
  out[at + L_SERVICE] = l.serviceMs ?? 0;
  out[at + L_LAST_FAILURE] = l.lastFailureAt ?? 0;
  const present = (l.queueDepth !== null ? HAS_QUEUE_DEPTH : 0) | (l.ttftBaseMs !== null ? HAS_TTFT_BASE : 0)
    | (l.outputTokensPerSecond !== null ? HAS_TPS : 0) | (l.serviceMs !== null ? HAS_SERVICE : 0) | (l.lastFailureAt !== null ? HAS_LAST_FAILURE : 0);
  out[at + L_STATE] = packState(present, breakerCode(l.breaker), l.admits ? 1 : 0, l.consecutiveFailures);
  out[at + L_TTFT_ERROR_MEAN] = l.ttftErrorMean;
  out[at + L_TTFT_ERROR_SD] = l.ttftErrorSd;
}

export function readLoad(rec: LoadRecord, at: number): SiteLoad {
  const present = rec[at + L_STATE];
  return {
    inFlight: rec[at + L_IN_FLIGHT],
    queueDepth: present & HAS_QUEUE_DEPTH ? rec[at + L_QUEUE_DEPTH] : null,
    ttftBaseMs: present & HAS_TTFT_BASE ? rec[at + L_TTFT_BASE] : null,
    outputTokensPerSecond: present & HAS_TPS ? rec[at + L_TPS] : null,
    serviceMs: present & HAS_SERVICE ? rec[at + L_SERVICE] : null,
    breaker: BREAKER_STATES[breakerOf(present)],
    admits: admitsOf(present) === 1,
    lastFailureAt: present & HAS_LAST_FAILURE ? rec[at + L_LAST_FAILURE] : null,
    consecutiveFailures: failuresOf(present),
    ttftErrorMean: rec[at + L_TTFT_ERROR_MEAN],
    ttftErrorSd: rec[at + L_TTFT_ERROR_SD],
  };
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
  ttftErrorMean: 0,
  ttftErrorSd: 0,
};
