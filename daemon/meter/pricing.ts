// Turns a price card and token counts into an exact CostBreakdown in integer nano-USD.
//
// Why integers: receipts are summed millions of times (rollups, budgets, exports); floats would
// drift and two views of the same spend would disagree by a cent. USD prices are converted once to
// integer micro-USD per 1M tokens (Math.round(price * 1e6)); one token then costs micro / 1000
// nano-USD, so a component is tokens * micro / 1000 rounded half-up. Each component is rounded on
// its own and the total is the sum of the rounded components, so the parts always add up.

import type { CostBreakdown, PriceCard, TokenCounts } from '../protocol';

/**
 * Token counts as the meter bills them. Provider mappers (usage.ts) produce this shape.
 * - `input`: uncached prompt tokens, billed at the input rate. NOT including cached or cache-write
 *   tokens (OpenAI/Gemini report prompt tokens including cached ones; the mapper subtracts).
 * - `cachedInput`: prompt tokens read from a cache, billed at the cached-input rate.
 * - `cacheWrite`: prompt tokens written to a cache, billed at the cache-write rate.
 * - `cacheWrite1h`: the share of `cacheWrite` written to a 1-hour cache (Anthropic, Claude on Bedrock), billed
 *   at the 1-hour rate instead; absent, every write is an ordinary (5-minute) one.
 * - `output`: every generated token INCLUDING reasoning tokens (Gemini reports thoughts apart, xAI its
 *   reasoning; the mappers add them in). Billed at the output rate.
 * - `reasoning`: the share of `output` that was reasoning; informational, never billed again.
 */
export type BillableUsage = Omit<TokenCounts, 'estimated'>;

/** USD per 1M tokens -> integer micro-USD per 1M tokens (== nano-USD per 1000 tokens). */
export function microPer1M(usd: number): number {
  return Math.round(usd * 1e6);
}

/** round-half-up(count * micro / divisor) in integers; BigInt only when the product leaves 2^53. */
function scaled(count: number, micro: number, divisor: number): number {
  if (count <= 0 || micro <= 0) return 0;
  const product = count * micro;
  return Number.isSafeInteger(product) ? Math.floor((product + divisor / 2) / divisor) : scaledBig(count, micro, divisor);
}

// Apart from `scaled` so that it stays small enough for V8 to inline at each of placement's per-site calls.
function scaledBig(count: number, micro: number, divisor: number): number {
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
    // A card without a 1-hour price follows Anthropic's rule, twice the base input price; as a multiple of
    // the input price it follows a tier's input too. A card's own write prices apply in its tier as well.
    cacheWrite1h: card.cacheWrite1hPer1M ?? 2 * input,
    output: tier?.outputPer1M ?? card.outputPer1M,
  };
}

/** Integer micro-USD per 1M tokens for each kind of token, as one rate set applies to a request. */
export interface MicroRates {
  readonly input: number;
  readonly cachedInput: number;
  readonly cacheWrite: number;
  readonly cacheWrite1h: number;
  readonly output: number;
}

/**
 * A price card converted to integers once (per catalog index, not per request): the rates below and
 * above the tier, the request fee in nano-USD and egress in micro-USD per GB. Pricing with it gives the
 * same nano-USD as pricing with the card, because it is what `priceUsage` itself prices with.
 */
export interface CompiledCard {
  /** The tier applies when the prompt exceeds this many tokens; Infinity without a tier. */
  readonly tierAbove: number;
  readonly base: MicroRates;
  readonly tier: MicroRates;
  readonly requestFeeNanoUsd: number;
  readonly egressMicroPerGB: number;
}

function microRates(card: PriceCard, promptTokens: number): MicroRates {
  const r = ratesFor(card, promptTokens);
  return {
    input: microPer1M(r.input), cachedInput: microPer1M(r.cachedInput), cacheWrite: microPer1M(r.cacheWrite),
    cacheWrite1h: microPer1M(r.cacheWrite1h), output: microPer1M(r.output),
  };
}

export function compileCard(card: PriceCard): CompiledCard {
  const base = microRates(card, -Infinity);
  return {
    tierAbove: card.tier ? card.tier.aboveInputTokens : Infinity,
    base,
    tier: card.tier ? microRates(card, Infinity) : base,
    requestFeeNanoUsd: Math.round((card.requestFee ?? 0) * 1e9),
    egressMicroPerGB: microPer1M(card.egressPerGB ?? 0),
  };
}

type Parts = Omit<CostBreakdown, 'totalNanoUsd'>;

/**
 * THE pricing formula. Each component is rounded on its own and the total is the sum of the rounded
 * components; with `parts` the components are written there too. `priceUsage` (receipts, estimates,
 * explanations) and `priceTotal` (placement's hot path, no allocation) are both this function.
 */
function price(c: CompiledCard, input: number, cachedInput: number, cacheWrite: number, cacheWrite1h: number, output: number, bytesReceived: number, parts: Parts | null): number {
  const r = input + cachedInput + cacheWrite > c.tierAbove ? c.tier : c.base;
  const inputNano = scaled(Math.round(input), r.input, 1000);
  const cachedNano = scaled(Math.round(cachedInput), r.cachedInput, 1000);
  // Both kinds of write are one component; each kind is rounded on its own. The 1-hour share is held to
  // the writes, so a bad report cannot bill more than every write as a 1-hour one.
  const writes = Math.round(cacheWrite);
  const writes1h = Math.min(Math.round(cacheWrite1h), writes);
  const writeNano = scaled(writes - writes1h, r.cacheWrite, 1000) + scaled(writes1h, r.cacheWrite1h, 1000);
  const outputNano = scaled(Math.round(output), r.output, 1000);
  // USD per 1e9 bytes == nano-USD per byte; micro-USD per GB / 1e6 keeps it integer.
  const transferNano = scaled(Math.round(bytesReceived), c.egressMicroPerGB, 1e6);
  if (parts !== null) {
    parts.inputNanoUsd = inputNano;
    parts.cachedInputNanoUsd = cachedNano;
    parts.cacheWriteNanoUsd = writeNano;
    parts.outputNanoUsd = outputNano;
    parts.requestFeeNanoUsd = c.requestFeeNanoUsd;
    parts.dataTransferNanoUsd = transferNano;
  }
  return inputNano + cachedNano + writeNano + outputNano + c.requestFeeNanoUsd + transferNano;
}

/** The total of `priceUsage` for the same usage (no 1-hour writes: placement never expects any), without building the breakdown. */
export function priceTotal(card: CompiledCard, input: number, cachedInput: number, cacheWrite: number, output: number, bytesReceived: number): number {
  return price(card, input, cachedInput, cacheWrite, 0, output, bytesReceived, null);
}

export function priceUsage(card: PriceCard, usage: BillableUsage, bytesReceived: number): CostBreakdown {
  return priceUsageCompiled(compileCard(card), usage, bytesReceived);
}

/** `priceUsage` with a card compiled beforehand. */
export function priceUsageCompiled(card: CompiledCard, usage: BillableUsage, bytesReceived: number): CostBreakdown {
  const cost: CostBreakdown = { inputNanoUsd: 0, cachedInputNanoUsd: 0, cacheWriteNanoUsd: 0, outputNanoUsd: 0, requestFeeNanoUsd: 0, dataTransferNanoUsd: 0, totalNanoUsd: 0 };
  cost.totalNanoUsd = price(card, usage.input, usage.cachedInput, usage.cacheWrite, usage.cacheWrite1h ?? 0, usage.output, bytesReceived, cost);
  return cost;
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
 * read as free: six ("$0.000123"), or all nine under a micro-dollar, where six would round to
 * nothing ("$0.0000004"). Storage keeps nano-USD.
 */
export function formatUsd(nano: number): string {
  const sign = nano < 0 ? '-' : '';
  const abs = Math.abs(nano);
  if (abs === 0) return '$0.00';
  if (abs >= 10_000_000) return `${sign}$${(Math.round(abs / 10_000_000) / 100).toFixed(2)}`;
  return `${sign}$${(abs / 1e9).toFixed(abs < 1000 ? 9 : 6).replace(/0+$/, '').replace(/\.$/, '.00')}`;
}
