// Live telemetry per site, in memory: in-flight counts (from the instant of placement, so a burst of
// placements sees its own load instead of herding onto the site that looked idle a moment ago), EWMAs
// of time to first token, output speed and slot hold time per site and model, error rate, rate-limit
// headroom and the circuit breaker.

import type { TelemetrySnapshot } from '../protocol';
import type { SiteResult } from '../providers/types';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerOptions } from './breaker';
import { DEFAULT_EWMA, Ewma, LogError, type EwmaOptions } from './ewma';
import { breakerCode as breakerCodeImport, IDLE_LOAD, LOAD, packState as packStateImport, newLoadRecord, readLoad, writeLoad, type LoadRecord, type SiteLoad, type TelemetryView } from './types';

// Called once per site by placement: a module constant, as tsx reads imports through getters.
const breakerCode = breakerCodeImport;
const packState = packStateImport;

const {
  RECORD: LOAD_RECORD, IN_FLIGHT: L_IN_FLIGHT, QUEUE_DEPTH: L_QUEUE_DEPTH, TTFT_BASE: L_TTFT_BASE, TPS: L_TPS, SERVICE: L_SERVICE, STATE: L_STATE,
  LAST_FAILURE: L_LAST_FAILURE, HAS_QUEUE_DEPTH, HAS_TTFT_BASE, HAS_TPS, HAS_SERVICE, HAS_LAST_FAILURE,
  ADMITS_RATE_LIMITED, TTFT_ERROR_MEAN: L_TTFT_ERROR_MEAN, TTFT_ERROR_SD: L_TTFT_ERROR_SD,
} = LOAD;

export interface TelemetryOptions {
  ewma?: EwmaOptions;
  breaker?: BreakerOptions;
}

/** Issued at placement, handed back with the result. */
export interface Ticket {
  readonly siteId: string;
  readonly model: string;
  readonly placedAt: number;
  /** Prompt-length part of time to first token, from the catalog slope, removed from samples. */
  readonly prefillMs: number;
  /** The site was at its concurrency when this was placed: its timings include queueing. */
  readonly queued: boolean;
  /** The catalog's time to first token for this request, queue excluded: what the site's TTFT error is measured
   *  against; 0 when not known (no error sample). */
  readonly expectedTtftMs: number;
  /** The breaker's number for this request when it is the half-open probe, else 0. */
  readonly probe: number;
  settled: boolean;
}

/** What one attempt teaches about a site, apart from this daemon's own bookkeeping (in flight, probes). */
export interface SiteObservation {
  siteId: string;
  model: string;
  /** The attempt waited behind this daemon's own requests: its timings describe that queue. */
  queued: boolean;
  prefillMs: number;
  expectedTtftMs: number;
  outcome: SiteResult['outcome'];
  /** Null when not measured: no token came, or the answer came whole instead of streamed. */
  ttftMs: number | null;
  durationMs: number;
  outputTokens: number;
  queueDepth?: number;
  /** Rate-limit headroom from the response headers, 0..1; null when not sent. */
  headroom: number | null;
  error?: { status?: number; retryable?: boolean; retryAfterMs?: number };
}

export function observationOf(ticket: Ticket, result: SiteResult, outputTokens: number): SiteObservation {
  const e = result.error;
  return {
    siteId: ticket.siteId, model: ticket.model, queued: ticket.queued, prefillMs: ticket.prefillMs, expectedTtftMs: ticket.expectedTtftMs,
    // A whole (unstreamed) answer's "first token" came with its last: it measures neither time to first token
    // nor output speed, here or at a teammate, so it is shared as unknown; its duration still holds.
    outcome: result.outcome, ttftMs: result.streamed === false ? null : result.ttftMs, durationMs: result.durationMs, outputTokens,
    ...(result.queueDepth !== undefined ? { queueDepth: result.queueDepth } : {}),
    headroom: headroomFrom(result.headers),
    ...(e ? { error: { status: e.status, retryable: e.retryable, retryAfterMs: e.retryAfterMs } } : {}),
  };
}

interface ModelStats {
  ttftBase: Ewma;
  tps: Ewma;
  service: Ewma;
  ttftError: LogError;
}

class SiteStats {
  inFlight = 0;
  queueDepth: number | null = null;
  headroom = 1;
  /** Until when the provider asked us to stay away (Retry-After, or no requests left in its window). */
  limitedUntil = 0;
  readonly errors: Ewma;
  readonly breaker: CircuitBreaker;
  readonly models = new Map<string, ModelStats>();

  constructor(private readonly options: Required<TelemetryOptions>) {
    this.errors = new Ewma(options.ewma);
    this.breaker = new CircuitBreaker(options.breaker);
  }

  model(name: string): ModelStats {
    let m = this.models.get(name);
    if (!m) {
      const e = this.options.ewma;
      this.models.set(name, (m = { ttftBase: new Ewma(e), tps: new Ewma(e), service: new Ewma(e), ttftError: new LogError() }));
    }
    return m;
  }
}

/** Failures that say the site is unwell, as opposed to the request being bad (400) or the user leaving. */
function siteFailure(o: SiteObservation): boolean {
  if (o.outcome === 'cut') return true;
  if (o.outcome !== 'error') return false;
  const status = o.error?.status;
  return o.error?.retryable === true || status === undefined || status === 429 || status >= 500;
}

/** Remaining / limit request headers: OpenAI-style (most providers) and Anthropic's own names. */
const HEADROOM_HEADERS: readonly [remaining: string, limit: string][] = [
  ['x-ratelimit-remaining-requests', 'x-ratelimit-limit-requests'],
  ['anthropic-ratelimit-requests-remaining', 'anthropic-ratelimit-requests-limit'],
];

/** Rate-limit headroom from the response headers: remaining / limit requests, 0..1, or null when not sent. */
export function headroomFrom(headers: Record<string, string>): number | null {
  for (const [r, l] of HEADROOM_HEADERS) {
    if (headers[r] === undefined || headers[l] === undefined) continue;
    const remaining = Number(headers[r]);
    const limit = Number(headers[l]);
    if (Number.isFinite(remaining) && Number.isFinite(limit) && limit > 0) return Math.max(0, Math.min(1, remaining / limit));
  }
  return null;
}

/**
 * Learns a derived sample only when it is finite: one Infinity makes an average Infinity and then NaN,
 * for good. Figures finite each can still divide to one (a teammate's 9e15 tokens in 1e-300 ms).
 */
function addFinite(average: Ewma | LogError, sample: number, now: number): void {
  if (Number.isFinite(sample)) average.add(sample, now);
}

/** How long to leave a rate-limited site alone when it gave no Retry-After. */
const RATE_LIMIT_PAUSE_MS = 1000;
/** The longest Retry-After honoured, a day (as from a teammate): a header of years would shut a site out for the daemon's life. */
const MAX_RATE_LIMIT_PAUSE_MS = 86_400_000;

export class Telemetry implements TelemetryView {
  private readonly sites = new Map<string, SiteStats>();
  private readonly bound = new WeakMap<object, { model: string; sites: (SiteStats | undefined)[]; models: (ModelStats | undefined)[] }>();
  private readonly options: Required<TelemetryOptions>;

  constructor(options: TelemetryOptions = {}) {
    this.options = { ewma: options.ewma ?? DEFAULT_EWMA, breaker: options.breaker ?? DEFAULT_BREAKER };
  }

  /**
   * Counts the request in flight now. `concurrency` is the site's, when known; `prefillMs` the
   * catalog's prompt-length share of TTFT for this request; `expectedTtftMs` the catalog's TTFT for it,
   * queue excluded, so the result can teach how the site compares (ttftError).
   */
  onPlaced(siteId: string, model: string, now: number, prefillMs = 0, concurrency?: number, expectedTtftMs = 0): Ticket {
    const s = this.site(siteId);
    const queued = concurrency !== undefined && s.inFlight >= concurrency;
    s.inFlight++;
    return { siteId, model, placedAt: now, prefillMs, queued, expectedTtftMs, probe: s.breaker.onPlaced(now), settled: false };
  }

  /**
   * Records the outcome; idempotent per ticket so a double settle cannot drive in-flight negative.
   * Returns what the attempt taught about the site (null on a second settle), which a team shares.
   */
  onResult(ticket: Ticket, result: SiteResult, now: number, outputTokens = result.usage?.output ?? 0): SiteObservation | null {
    if (ticket.settled) return null;
    ticket.settled = true;
    const s = this.site(ticket.siteId);
    s.inFlight = Math.max(0, s.inFlight - 1);
    // Refused before anything was sent, for the request's shape: it says nothing of the site, here or to a teammate.
    if (result.error?.unsupported) {
      s.breaker.onNeutral(ticket.probe);
      return null;
    }
    const observation = observationOf(ticket, result, outputTokens);
    this.learn(s, observation, now, ticket.probe);
    return observation;
  }

  /** What another daemon of the team saw at a site: learned as if seen here, without this daemon's in-flight count or probe. */
  observe(observation: SiteObservation, now: number): void {
    this.learn(this.site(observation.siteId), observation, now, 0);
  }

  private learn(s: SiteStats, o: SiteObservation, now: number, probe: number): void {
    if (o.queueDepth !== undefined) s.queueDepth = o.queueDepth;
    if (o.headroom !== null) s.headroom = o.headroom;
    // Stop sending before the next 429: a site that said "wait" or has no requests left in its window is
    // left alone for that long (a second when it did not say how long), then tried again.
    const retryAfterMs = o.error?.retryAfterMs;
    if (retryAfterMs !== undefined || o.headroom === 0 || o.error?.status === 429) {
      s.limitedUntil = Math.max(s.limitedUntil, now + Math.min(retryAfterMs ?? RATE_LIMIT_PAUSE_MS, MAX_RATE_LIMIT_PAUSE_MS));
    }

    if (o.outcome === 'cancelled' && o.ttftMs === null) {
      s.breaker.onNeutral(probe);
      return;
    }
    const failed = siteFailure(o);
    s.errors.add(failed ? 1 : 0, now);
    if (failed) s.breaker.onFailure(now, probe);
    else if (o.outcome === 'cancelled') s.breaker.onNeutral(probe);
    else s.breaker.onSuccess();

    // Timings of a request that queued behind our own requests describe the queue, which placement
    // estimates separately; only unqueued ones teach the site's own speed.
    if (o.queued) return;
    // The slot's hold time needs no first token: a whole (unstreamed) answer teaches it too.
    if (o.outcome === 'complete' || o.outcome === 'length') addFinite(s.model(o.model).service, o.durationMs, now);
    if (o.ttftMs === null) return;
    const m = s.model(o.model);
    if (o.expectedTtftMs > 0) addFinite(m.ttftError, Math.log(Math.max(1, o.ttftMs) / o.expectedTtftMs), now);
    addFinite(m.ttftBase, Math.max(0, o.ttftMs - o.prefillMs), now);
    const streamMs = o.durationMs - o.ttftMs;
    if (o.outputTokens >= 2 && streamMs > 0) addFinite(m.tps, o.outputTokens / (streamMs / 1000), now);
  }

  load(siteId: string, model: string, now: number): SiteLoad {
    const s = this.sites.get(siteId);
    if (!s) return IDLE_LOAD;
    const rec = newLoadRecord(LOAD_RECORD);
    this.loadInto(siteId, model, now, rec, 0);
    return readLoad(rec, 0);
  }

  loadInto(siteId: string, model: string, now: number, out: LoadRecord, at: number): void {
    const s = this.sites.get(siteId);
    if (!s) writeLoad(out, at, IDLE_LOAD);
    else this.write(s, s.models.get(model), now, out, at);
  }

  loadAllInto(sites: readonly { site: { id: string } }[], from: number, to: number, model: string, now: number, out: LoadRecord, stride: number): void {
    // The stats found for each offer, remembered per offer list (one per model and catalog index) so a
    // decision does not look every site up by id again. Entries are never removed from `sites`, so a
    // remembered one stays right; a site or model without stats yet is looked up again next time.
    let bound = this.bound.get(sites);
    if (!bound || bound.model !== model) this.bound.set(sites, (bound = { model, sites: new Array(sites.length).fill(undefined), models: new Array(sites.length).fill(undefined) }));
    for (let k = from, at = 0; k < to; k++, at += stride) {
      let s = bound.sites[k];
      if (s === undefined) {
        s = this.sites.get(sites[k].site.id);
        if (s === undefined) {
          writeLoad(out, at, IDLE_LOAD);
          continue;
        }
        bound.sites[k] = s;
      }
      let m = bound.models[k];
      if (m === undefined) bound.models[k] = m = s.models.get(model);
      this.write(s, m, now, out, at);
    }
  }

  private write(s: SiteStats, m: ModelStats | undefined, now: number, out: LoadRecord, at: number): void {
    const state = s.breaker.stateAt(now);
    const ttft = m ? m.ttftBase.valueAt(now) : null;
    const tps = m ? m.tps.valueAt(now) : null;
    const service = m ? m.service.valueAt(now) : null;
    const lastFailure = s.breaker.lastFailure;
    out[at + L_IN_FLIGHT] = s.inFlight;
    out[at + L_QUEUE_DEPTH] = s.queueDepth ?? 0;
    out[at + L_TTFT_BASE] = ttft ?? 0;
    out[at + L_TPS] = tps ?? 0;
    out[at + L_SERVICE] = service ?? 0;
    out[at + L_LAST_FAILURE] = lastFailure ?? 0;
    const present = (s.queueDepth !== null ? HAS_QUEUE_DEPTH : 0) | (ttft !== null ? HAS_TTFT_BASE : 0)
      | (tps !== null ? HAS_TPS : 0) | (service !== null ? HAS_SERVICE : 0) | (lastFailure !== null ? HAS_LAST_FAILURE : 0);
    const admits = now < s.limitedUntil ? ADMITS_RATE_LIMITED : s.breaker.admitsIn(state) ? 1 : 0;
    out[at + L_STATE] = packState(present, breakerCode(state), admits, s.breaker.consecutiveFailures);
    out[at + L_TTFT_ERROR_MEAN] = m ? m.ttftError.mean(now) : 0;
    out[at + L_TTFT_ERROR_SD] = m ? m.ttftError.sd(now) : 0;
  }

  /** The wire snapshot; for a site with several models, the speeds of the most sampled one that placement still reads. */
  snapshot(siteId: string, now: number): TelemetrySnapshot {
    const s = this.sites.get(siteId);
    const busiest = s ? [...s.models.values()].filter((m) => m.ttftBase.valueAt(now) !== null).sort((a, b) => b.ttftBase.samples - a.ttftBase.samples)[0] : undefined;
    return {
      inFlight: s?.inFlight ?? 0,
      queueDepth: s?.queueDepth ?? null,
      // As placement reads them: a figure whose samples are stale is not shown as measured.
      ttftMs: busiest?.ttftBase.valueAt(now) ?? null,
      outputTokensPerSecond: busiest?.tps.valueAt(now) ?? null,
      errorRate: s?.errors.value ?? 0,
      headroom: s?.headroom ?? 1,
      rateLimitedMs: s && now < s.limitedUntil ? Math.ceil(s.limitedUntil - now) : 0,
      breaker: s ? s.breaker.view(now).state : 'closed',
      samples: s?.errors.samples ?? 0,
    };
  }

  private site(id: string): SiteStats {
    let s = this.sites.get(id);
    if (!s) this.sites.set(id, (s = new SiteStats(this.options)));
    return s;
  }
}
