// Expected cost and latency of one request at one site, from live telemetry where there is some and the
// catalog's figures where there is none. Cost uses the meter's own pricing (one formula for estimates
// and bills); latency = expected queue wait + time to first token + output tokens / output speed.

import { BYTES_PER_STREAMED_TOKEN, outputCap, worstCasePromptTokens } from '../meter/estimate';
import { compileCard, priceTotal, priceUsageCompiled, type CompiledCard } from '../meter/pricing';
import type { Offer } from '../catalog/lookup';
import type { CostBreakdown } from '../protocol';
import type { Site, SiteModel } from '../catalog/types';
import { LOAD, newLoadRecord, writeLoad, type LoadRecord, type PlacementRequest, type SiteLoad } from './types';

const {
  RECORD: LOAD_RECORD, IN_FLIGHT: L_IN_FLIGHT, QUEUE_DEPTH: L_QUEUE_DEPTH, TTFT_BASE: L_TTFT_BASE, TPS: L_TPS, SERVICE: L_SERVICE, STATE: L_STATE,
  HAS_QUEUE_DEPTH, HAS_TTFT_BASE, HAS_TPS, HAS_SERVICE,
} = LOAD;

// Called once per site in placement: bound to a module constant, as tsx reads imports through getters.
const priceTotalOf = priceTotal;

/** Without a hint, an answer is assumed this long (the Azure conversation trace's mean is 211). */
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 256;

export interface Estimate {
  cost: CostBreakdown;
  queueWaitMs: number;
  /** Queue wait excluded. */
  ttftMs: number;
  /** Queue wait + time to first token + generation. */
  totalMs: number;
  /** Requests ahead of this one at the site. */
  ahead: number;
  /** Blended price of this request, USD per 1M tokens (input + expected output), fees included. */
  usdPer1M: number;
}

export function expectedOutputTokens(req: PlacementRequest): number {
  return Math.max(0, Math.min(req.maxOutputTokens ?? Infinity, req.expectedOutputTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS));
}

/** What a request is priced on (one expected or worst-case shape), worked out once per decision. */
export interface CostTerms {
  /** Uncached prompt tokens. */
  input: number;
  cached: number;
  output: number;
  bytes: number;
}

export function costTerms(req: PlacementRequest, output: number): CostTerms {
  const cached = Math.min(req.cachedInputTokens ?? 0, req.inputTokens);
  return { input: req.inputTokens - cached, cached, output, bytes: output * BYTES_PER_STREAMED_TOKEN };
}

/**
 * Every prompt token uncached (with the meter's margin for other tokenizers), every allowed output
 * token produced and streamed: the same worst case the meter reserves, so a site the engine admits
 * under a budget or maxUsdPerRequest is one the reservation admits too.
 */
export function worstCaseTerms(req: PlacementRequest, output: number): CostTerms {
  return costTerms({ ...req, inputTokens: worstCasePromptTokens(req.inputTokens), cachedInputTokens: 0 }, output);
}

/** The worst case at one site: the longest answer the request can get there (its cap, or the site's limit). */
export function worstTermsAt(model: SiteModel, req: PlacementRequest): CostTerms {
  return worstCaseTerms(req, outputCap(model, req.inputTokens, req.maxOutputTokens));
}

function costOf(card: CompiledCard, t: CostTerms): CostBreakdown {
  return priceUsageCompiled(card, { input: t.input, cachedInput: t.cached, cacheWrite: 0, output: t.output, reasoning: 0 }, t.bytes);
}

/** The total of `costOf`, without building the breakdown (the placement's hot path). */
export function totalCost(card: CompiledCard, t: CostTerms): number {
  return priceTotalOf(card, t.input, t.cached, 0, t.output, t.bytes);
}

export function worstCaseCost(model: SiteModel, req: PlacementRequest): CostBreakdown {
  return costOf(compileCard(model.price), worstTermsAt(model, req));
}

/** The catalog's prompt-length share of time to first token; telemetry learns the rest. */
export function prefillMs(model: SiteModel, inputTokens: number): number {
  return (model.ttftPerInputTokenMs ?? 0) * inputTokens;
}

/** Expected time to first token, queue excluded: the measured base (or the catalog's) plus prefill. */
export function ttftEstimateMs(model: SiteModel, measuredBaseMs: number | null, inputTokens: number): number {
  return (measuredBaseMs ?? model.ttftMs) + prefillMs(model, inputTokens);
}

/** Blended price of a request, USD per 1M tokens (input + expected output), from its total in nano-USD. */
export function usdPer1MOf(totalNanoUsd: number, tokens: number): number {
  return tokens > 0 ? (totalNanoUsd / 1e9 / tokens) * 1e6 : 0;
}

/** An Estimate without its cost breakdown or blended price, written in place: one per decision, reused for every site. */
export class EstimateScratch {
  queueWaitMs = 0;
  ttftMs = 0;
  /** The catalog's time to first token for this prompt: what ttftConfidence's record is kept against. */
  catalogTtftMs = 0;
  totalMs = 0;
  ahead = 0;
  totalNanoUsd = 0;
  /** The policy's score (`scoreInto`). */
  score = 0;
}

/**
 * THE estimate, for one site, from its load record (types.ts) at `rec[at]` and the request's expected
 * cost terms. Placement calls it for every site; `estimate()` calls it for the sites it explains.
 */
export function estimateInto(out: EstimateScratch, site: Site, model: SiteModel, card: CompiledCard, rec: LoadRecord, at: number, req: PlacementRequest, t: CostTerms): void {
  const present = rec[at + L_STATE];
  const output = t.output;
  // ttftEstimateMs for the measured base and for the catalog's, sharing the prefill.
  const prefill = prefillMs(model, req.inputTokens);
  const ttftMs = (present & HAS_TTFT_BASE ? rec[at + L_TTFT_BASE] : model.ttftMs) + prefill;
  const tps = present & HAS_TPS ? rec[at + L_TPS] : model.outputTokensPerSecond;
  const generateMs = tps > 0 ? (output / tps) * 1000 : 0;
  // With c slots busy, a newcomer at position k in the FIFO waits about k mean hold times / c. Our own
  // in-flight count is exact and current; a site's reported depth is stale, so it serves only where the
  // site's concurrency is unknown (then one slot is assumed).
  const holdMs = present & HAS_SERVICE ? rec[at + L_SERVICE] : ttftMs + generateMs;
  const c = site.concurrency;
  const ahead = c !== undefined ? Math.max(0, rec[at + L_IN_FLIGHT] - c + 1) : present & HAS_QUEUE_DEPTH ? rec[at + L_QUEUE_DEPTH] : 0;
  const queueWaitMs = (ahead * holdMs) / (c ?? 1);
  out.queueWaitMs = queueWaitMs;
  out.ttftMs = ttftMs;
  out.catalogTtftMs = model.ttftMs + prefill;
  out.totalMs = queueWaitMs + ttftMs + generateMs;
  out.ahead = ahead;
  out.totalNanoUsd = totalCost(card, t);
}

/** The estimate with its cost breakdown, for an offer of the catalog index (compiled card). */
export function estimateOffer(offer: Offer, rec: LoadRecord, at: number, req: PlacementRequest): Estimate {
  const t = costTerms(req, expectedOutputTokens(req));
  const e = new EstimateScratch();
  estimateInto(e, offer.site, offer.model, offer.card, rec, at, req, t);
  return { cost: costOf(offer.card, t), queueWaitMs: e.queueWaitMs, ttftMs: e.ttftMs, totalMs: e.totalMs, ahead: e.ahead, usdPer1M: usdPer1MOf(e.totalNanoUsd, req.inputTokens + t.output) };
}

export function estimate(site: Site, model: SiteModel, load: SiteLoad, req: PlacementRequest): Estimate {
  const rec = newLoadRecord(LOAD_RECORD);
  writeLoad(rec, 0, load);
  return estimateOffer({ site, model, card: compileCard(model.price) }, rec, 0, req);
}
