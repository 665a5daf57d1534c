// Folding a request's attempts into its one receipt: costs and tokens add up across every attempt
// that produced something billable; timings run from the moment the request was placed.

import { addTokenFields } from '../meter/usage';
import type { CostBreakdown, TokenCounts } from '../protocol';

export { ZERO_COST } from '../meter/pricing';

export const ZERO_TOKENS: TokenCounts = { input: 0, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0, estimated: false };

export function addCost(a: CostBreakdown, b: CostBreakdown): CostBreakdown {
  return {
    inputNanoUsd: a.inputNanoUsd + b.inputNanoUsd,
    cachedInputNanoUsd: a.cachedInputNanoUsd + b.cachedInputNanoUsd,
    cacheWriteNanoUsd: a.cacheWriteNanoUsd + b.cacheWriteNanoUsd,
    outputNanoUsd: a.outputNanoUsd + b.outputNanoUsd,
    requestFeeNanoUsd: a.requestFeeNanoUsd + b.requestFeeNanoUsd,
    dataTransferNanoUsd: a.dataTransferNanoUsd + b.dataTransferNanoUsd,
    totalNanoUsd: a.totalNanoUsd + b.totalNanoUsd,
  };
}

export function addTokens(a: TokenCounts, b: TokenCounts): TokenCounts {
  return { ...addTokenFields(a, b), estimated: a.estimated || b.estimated };
}

/** Output tokens per second of streaming, after the first token; null when it cannot be told. */
export function tokensPerSecond(outputTokens: number, ttftMs: number | null, totalMs: number): number | null {
  if (ttftMs === null || outputTokens < 2 || totalMs <= ttftMs) return null;
  return Math.round((outputTokens / ((totalMs - ttftMs) / 1000)) * 10) / 10;
}
