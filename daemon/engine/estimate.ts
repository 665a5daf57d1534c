// Expected cost and latency of one request at one site, from live telemetry where there is some and the
// catalog's figures where there is none. Cost uses the meter's own pricing (one formula for estimates
// and bills); latency = expected queue wait + time to first token + output tokens / output speed.

import { BYTES_PER_STREAMED_TOKEN } from '../meter/estimate';
import { priceUsage } from '../meter/pricing';
import type { CostBreakdown } from '../protocol';
import type { Site, SiteModel } from '../catalog/types';
import type { PlacementRequest, SiteLoad } from './types';

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
  return Math.max(0, Math.min(req.maxOutputTokens, req.expectedOutputTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS));
}

function cost(model: SiteModel, req: PlacementRequest, output: number): CostBreakdown {
  const cached = Math.min(req.cachedInputTokens ?? 0, req.inputTokens);
  return priceUsage(
    model.price,
    { input: req.inputTokens - cached, cachedInput: cached, cacheWrite: 0, output, reasoning: 0 },
    output * BYTES_PER_STREAMED_TOKEN,
  );
}

/** Every prompt token uncached, every allowed output token produced and streamed. */
export function worstCaseCost(model: SiteModel, req: PlacementRequest): CostBreakdown {
  return cost(model, { ...req, cachedInputTokens: 0 }, req.maxOutputTokens);
}

/** The catalog's prompt-length share of time to first token; telemetry learns the rest. */
export function prefillMs(model: SiteModel, inputTokens: number): number {
  return (model.ttftPerInputTokenMs ?? 0) * inputTokens;
}

export function estimate(site: Site, model: SiteModel, load: SiteLoad, req: PlacementRequest): Estimate {
  const output = expectedOutputTokens(req);
  const ttftMs = (load.ttftBaseMs ?? model.ttftMs) + prefillMs(model, req.inputTokens);
  const tps = load.outputTokensPerSecond ?? model.outputTokensPerSecond;
  const generateMs = tps > 0 ? (output / tps) * 1000 : 0;
  // With c slots busy, a newcomer at position k in the FIFO waits about k mean hold times / c. Our own
  // in-flight count is exact and current; a site's reported depth is stale, so it serves only where the
  // site's concurrency is unknown (then one slot is assumed).
  const holdMs = load.serviceMs ?? ttftMs + generateMs;
  const c = site.concurrency;
  const ahead = c !== undefined ? Math.max(0, load.inFlight - c + 1) : load.queueDepth ?? 0;
  const queueWaitMs = (ahead * holdMs) / (c ?? 1);
  const breakdown = cost(model, req, output);
  const tokens = req.inputTokens + output;
  return {
    cost: breakdown,
    queueWaitMs,
    ttftMs,
    totalMs: queueWaitMs + ttftMs + generateMs,
    ahead,
    usdPer1M: tokens > 0 ? (breakdown.totalNanoUsd / 1e9 / tokens) * 1e6 : 0,
  };
}
