// Turns a price card and token counts into an exact CostBreakdown in integer nano-USD.
//
// Why integers: receipts are summed millions of times (rollups, budgets, exports); floats would
// drift and two views of the same spend would disagree by a cent. USD prices are converted once to
// integer micro-USD per 1M tokens (Math.round(price * 1e6)); one token then costs micro / 1000
// nano-USD, so a component is tokens * micro / 1000 rounded half-up. Each component is rounded on
// its own and the total is the sum of the rounded components, so the parts always add up.

import type { CostBreakdown, PriceCard } from '../protocol';

/**
 * Token counts as the meter bills them. Provider mappers (usage.ts) produce this shape.
 * - `input`: uncached prompt tokens, billed at the input rate. NOT including cached or cache-write
 *   tokens (OpenAI/Gemini report prompt tokens including cached ones; the mapper subtracts).
 * - `cachedInput`: prompt tokens read from a cache, billed at the cached-input rate.
 * - `cacheWrite`: prompt tokens written to a cache, billed at the cache-write rate.
 * - `output`: every generated token INCLUDING reasoning tokens (Gemini reports thoughts apart; the
 *   mapper adds them in). Billed at the output rate.
 * - `reasoning`: the share of `output` that was reasoning; informational, never billed again.
 */
export interface BillableUsage {
  input: number;
  cachedInput: number;
  cacheWrite: number;
  output: number;
  reasoning: number;
}

/** USD per 1M tokens -> integer micro-USD per 1M tokens (== nano-USD per 1000 tokens). */
export function microPer1M(usd: number): number {
  return Math.round(usd * 1e6);
}

/** round-half-up(count * micro / divisor) in integers; BigInt only when the product leaves 2^53. */
function scaled(count: number, micro: number, divisor: number): number {
  if (count <= 0 || micro <= 0) return 0;
  const product = count * micro;
  if (Number.isSafeInteger(product)) return Math.floor((product + divisor / 2) / divisor);
  const d = BigInt(divisor);
  return Number((BigInt(count) * BigInt(micro) + d / 2n) / d);
}

/** Nano-USD for `tokens` at `usdPer1M`. */
export function tokenCost(tokens: number, usdPer1M: number): number {
  return scaled(Math.round(tokens), microPer1M(usdPer1M), 1000);
}

/** The rates that apply to a request of this prompt size: a tier covers the whole request. */
export function ratesFor(card: PriceCard, promptTokens: number) {
  const tier = card.tier && promptTokens > card.tier.aboveInputTokens ? card.tier : undefined;
  const input = tier?.inputPer1M ?? card.inputPer1M;
  return {
    input,
    // A tier that does not price cached tokens keeps the card's cached rate; a card without a
    // cached rate bills cached tokens as ordinary input (the provider gives no discount we know of).
    cachedInput: tier?.cachedInputPer1M ?? card.cachedInputPer1M ?? input,
    cacheWrite: card.cacheWritePer1M ?? input,
    output: tier?.outputPer1M ?? card.outputPer1M,
  };
}

export function priceUsage(card: PriceCard, usage: BillableUsage, bytesReceived: number): CostBreakdown {
  const prompt = usage.input + usage.cachedInput + usage.cacheWrite;
  const rates = ratesFor(card, prompt);
  const cost = {
    inputNanoUsd: tokenCost(usage.input, rates.input),
    cachedInputNanoUsd: tokenCost(usage.cachedInput, rates.cachedInput),
    cacheWriteNanoUsd: tokenCost(usage.cacheWrite, rates.cacheWrite),
    outputNanoUsd: tokenCost(usage.output, rates.output),
    requestFeeNanoUsd: Math.round((card.requestFee ?? 0) * 1e9),
    // USD per 1e9 bytes == nano-USD per byte; micro-USD per GB / 1e6 keeps it integer.
    dataTransferNanoUsd: scaled(Math.round(bytesReceived), microPer1M(card.egressPerGB ?? 0), 1e6),
  };
  return { ...cost, totalNanoUsd: sumParts(cost) };
}

function sumParts(c: Omit<CostBreakdown, 'totalNanoUsd'>): number {
  return c.inputNanoUsd + c.cachedInputNanoUsd + c.cacheWriteNanoUsd + c.outputNanoUsd + c.requestFeeNanoUsd + c.dataTransferNanoUsd;
}

export const ZERO_COST: Readonly<CostBreakdown> = Object.freeze({
  inputNanoUsd: 0,
  cachedInputNanoUsd: 0,
  cacheWriteNanoUsd: 0,
  outputNanoUsd: 0,
  requestFeeNanoUsd: 0,
  dataTransferNanoUsd: 0,
  totalNanoUsd: 0,
});

/**
 * Display only: "$4.98", and more digits for amounts under a cent so a small request does not
 * read as free ("$0.000123"). Storage keeps nano-USD.
 */
export function formatUsd(nano: number): string {
  const sign = nano < 0 ? '-' : '';
  const abs = Math.abs(nano);
  if (abs === 0) return '$0.00';
  if (abs >= 10_000_000) return `${sign}$${(Math.round(abs / 10_000_000) / 100).toFixed(2)}`;
  return `${sign}$${(abs / 1e9).toFixed(6).replace(/0+$/, '').replace(/\.$/, '.00')}`;
}
