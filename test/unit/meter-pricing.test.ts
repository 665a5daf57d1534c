// Costs for each provider's usage shape, checked against arithmetic done by hand.
// Unit: a price of P USD per 1M tokens is P * 1e6 micro-USD per 1M = P * 1000 nano-USD per token.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PriceCard } from '../../daemon/protocol';
import { compileCard, formatUsd, priceTotal, priceUsage, priceUsageCompiled, ratesFor, tokenCost } from '../../daemon/meter/pricing';
import { mulberry32 } from '../../daemon/providers/simulated/rng';
import { foldAnthropic, fromGemini, fromOpenAI, type AnthropicEvent } from '../../daemon/meter/usage';
import type { ReportedUsage } from '../../daemon/providers/types';

const card = (c: Omit<PriceCard, 'readOn'>): PriceCard => ({ readOn: '2026-07-24', ...c });

test('OpenAI usage with cached and reasoning tokens (gpt-4o)', () => {
  const usage = fromOpenAI({
    prompt_tokens: 2000,
    completion_tokens: 300,
    prompt_tokens_details: { cached_tokens: 1536 },
    completion_tokens_details: { reasoning_tokens: 100 },
  });
  assert.deepEqual({ ...usage, raw: undefined }, { input: 464, cachedInput: 1536, cacheWrite: 0, output: 300, reasoning: 100, raw: undefined });
  const cost = priceUsage(card({ inputPer1M: 2.5, cachedInputPer1M: 1.25, outputPer1M: 10 }), usage, 0);
  // input  464 * 2500 nano   = 1,160,000
  // cached 1536 * 1250 nano  = 1,920,000
  // output 300 * 10000 nano  = 3,000,000 (reasoning is inside completion_tokens, billed once)
  assert.deepEqual(cost, {
    inputNanoUsd: 1_160_000, cachedInputNanoUsd: 1_920_000, cacheWriteNanoUsd: 0, outputNanoUsd: 3_000_000,
    requestFeeNanoUsd: 0, dataTransferNanoUsd: 0, totalNanoUsd: 6_080_000,
  });
  assert.equal(formatUsd(cost.totalNanoUsd), '$0.00608');
});

test('OpenAI-compatible usage with reasoning apart from completion_tokens (xAI): reasoning billed as output', () => {
  // xAI's total_tokens is prompt + completion + reasoning (OpenAI's is prompt + completion, reasoning inside).
  const usage = fromOpenAI({
    prompt_tokens: 10_120,
    completion_tokens: 1499,
    total_tokens: 14_428,
    prompt_tokens_details: { cached_tokens: 128 },
    completion_tokens_details: { reasoning_tokens: 2809 },
  });
  assert.deepEqual([usage.input, usage.cachedInput, usage.output, usage.reasoning], [9992, 128, 4308, 2809]);
  // input 9992 * 1250 = 12,490,000; cached 128 * 200 = 25,600; output 4308 * 2500 = 10,770,000:
  // $0.0232856, what xAI itself reported for this request (cost_in_usd_ticks 232,856,000 at 1e10 per USD).
  assert.equal(priceUsage(card({ inputPer1M: 1.25, cachedInputPer1M: 0.2, outputPer1M: 2.5 }), usage, 0).totalNanoUsd, 23_285_600);
  // OpenAI's own total leaves reasoning inside completion_tokens: not added again.
  const openai = fromOpenAI({ prompt_tokens: 100, completion_tokens: 300, total_tokens: 400, completion_tokens_details: { reasoning_tokens: 200 } });
  assert.deepEqual([openai.output, openai.reasoning], [300, 200]);
});

test('Anthropic usage: cache creation/read from message_start, cumulative message_delta kept not added', () => {
  const events: AnthropicEvent[] = [
    { type: 'message_start', message: { usage: { input_tokens: 50, cache_creation_input_tokens: 1000, cache_read_input_tokens: 2000, output_tokens: 1 } } },
    { type: 'content_block_delta' },
    { type: 'message_delta', usage: { output_tokens: 120 } },
    { type: 'message_delta', usage: { output_tokens: 345 } },
  ];
  const usage = events.reduce<ReportedUsage | null>(foldAnthropic, null)!;
  assert.deepEqual([usage.input, usage.cacheWrite, usage.cachedInput, usage.output], [50, 1000, 2000, 345]);
  const cost = priceUsage(card({ inputPer1M: 3, cachedInputPer1M: 0.3, cacheWritePer1M: 3.75, outputPer1M: 15 }), usage, 0);
  // input  50 * 3000    =   150,000
  // write  1000 * 3750  = 3,750,000
  // read   2000 * 300   =   600,000
  // output 345 * 15000  = 5,175,000 (not 1 + 120 + 345)
  assert.equal(cost.inputNanoUsd, 150_000);
  assert.equal(cost.cacheWriteNanoUsd, 3_750_000);
  assert.equal(cost.cachedInputNanoUsd, 600_000);
  assert.equal(cost.outputNanoUsd, 5_175_000);
  assert.equal(cost.totalNanoUsd, 9_675_000);
});

test('Anthropic 1-hour cache writes: the cache_creation breakdown is read and each kind of write billed at its own rate', () => {
  const events: AnthropicEvent[] = [
    { type: 'message_start', message: { usage: { input_tokens: 50, cache_creation_input_tokens: 3000, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 }, cache_read_input_tokens: 0, output_tokens: 1 } } },
    // A later message_delta repeats the total without the breakdown: the breakdown already read stands.
    { type: 'message_delta', usage: { cache_creation_input_tokens: 3000, output_tokens: 10 } },
  ];
  const usage = events.reduce<ReportedUsage | null>(foldAnthropic, null)!;
  assert.deepEqual([usage.cacheWrite, usage.cacheWrite1h], [3000, 2000]);
  const cost = priceUsage(card({ inputPer1M: 3, cacheWritePer1M: 3.75, cacheWrite1hPer1M: 6, outputPer1M: 15 }), usage, 0);
  // 5-minute 1000 * 3750 = 3,750,000; 1-hour 2000 * 6000 = 12,000,000 (at the 5-minute rate it was 7,500,000)
  assert.equal(cost.cacheWriteNanoUsd, 15_750_000);
  // input 50 * 3000 = 150,000; output 10 * 15000 = 150,000
  assert.equal(cost.totalNanoUsd, 16_050_000);
  // Without a breakdown (older API versions, other providers) every write is a 5-minute one.
  const plain = foldAnthropic(null, { type: 'message_start', message: { usage: { input_tokens: 1, cache_creation_input_tokens: 40 } } })!;
  assert.equal(plain.cacheWrite1h, undefined);
});

test('a card without a 1-hour write price bills those writes at twice the input rate that applies (Anthropic\'s rule)', () => {
  const c = card({ inputPer1M: 3, cacheWritePer1M: 3.75, outputPer1M: 15, tier: { aboveInputTokens: 200_000, inputPer1M: 6 } });
  assert.equal(ratesFor(c, 1000).cacheWrite1h, 6);
  assert.equal(ratesFor(c, 300_000).cacheWrite1h, 12, 'above the tier: twice the tier input');
  assert.equal(ratesFor({ ...c, cacheWrite1hPer1M: 5 }, 300_000).cacheWrite1h, 5, 'a named price wins');
  const usage = { input: 0, cachedInput: 0, cacheWrite: 1500, cacheWrite1h: 1000, output: 0, reasoning: 0 };
  // 500 * 3750 + 1000 * 6000
  assert.equal(priceUsage(c, usage, 0).cacheWriteNanoUsd, 7_875_000);
  // A share larger than the writes (a bad report) never bills more than every write as a 1-hour one.
  assert.equal(priceUsage(c, { ...usage, cacheWrite1h: 9000 }, 0).cacheWriteNanoUsd, 9_000_000);
});

const geminiPro = card({
  inputPer1M: 1.25, cachedInputPer1M: 0.3125, outputPer1M: 5,
  tier: { aboveInputTokens: 128_000, inputPer1M: 2.5, cachedInputPer1M: 0.625, outputPer1M: 10 },
});

test('Gemini usageMetadata below the tier: thoughts billed as output', () => {
  const usage = fromGemini({ promptTokenCount: 1000, candidatesTokenCount: 100, thoughtsTokenCount: 50, totalTokenCount: 1150 });
  assert.deepEqual([usage.input, usage.cachedInput, usage.output, usage.reasoning], [1000, 0, 150, 50]);
  // input 1000 * 1250 = 1,250,000; output (100 + 50) * 5000 = 750,000
  assert.equal(priceUsage(geminiPro, usage, 0).totalNanoUsd, 2_000_000);
});

test('Gemini above the tier: cached tokens inside promptTokenCount, the whole request at tier prices', () => {
  const usage = fromGemini({ promptTokenCount: 150_000, cachedContentTokenCount: 100_000, candidatesTokenCount: 800, thoughtsTokenCount: 200, toolUsePromptTokenCount: 0 });
  assert.deepEqual([usage.input, usage.cachedInput, usage.output], [50_000, 100_000, 1000]);
  const cost = priceUsage(geminiPro, usage, 0);
  // prompt 150,000 > 128,000 -> tier. input 50,000 * 2500 = 125,000,000
  // cached 100,000 * 625 = 62,500,000; output 1000 * 10000 = 10,000,000
  assert.deepEqual([cost.inputNanoUsd, cost.cachedInputNanoUsd, cost.outputNanoUsd, cost.totalNanoUsd], [125_000_000, 62_500_000, 10_000_000, 197_500_000]);
  // At exactly the threshold the base prices still apply: 128,000 * 1250 = 160,000,000.
  assert.equal(priceUsage(geminiPro, { input: 128_000, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 }, 0).totalNanoUsd, 160_000_000);
});

test('Gemini tool-use prompt tokens are billed as input', () => {
  const usage = fromGemini({ promptTokenCount: 100, cachedContentTokenCount: 40, toolUsePromptTokenCount: 25, candidatesTokenCount: 10 });
  assert.deepEqual([usage.input, usage.cachedInput], [85, 40]);
});

test('request fee and data transfer (Groq llama-3.1-8b with a fee and AWS egress)', () => {
  const groq = card({ inputPer1M: 0.05, outputPer1M: 0.08, requestFee: 0.0001, egressPerGB: 0.09 });
  const cost = priceUsage(groq, { input: 1234, cachedInput: 0, cacheWrite: 0, output: 567, reasoning: 0 }, 130_410);
  // input  1234 * 50 = 61,700; output 567 * 80 = 45,360; fee 0.0001 USD = 100,000
  // egress 130,410 B * 0.09 USD/1e9 B = 11,736.9 nano -> 11,737
  assert.deepEqual(cost, {
    inputNanoUsd: 61_700, cachedInputNanoUsd: 0, cacheWriteNanoUsd: 0, outputNanoUsd: 45_360,
    requestFeeNanoUsd: 100_000, dataTransferNanoUsd: 11_737, totalNanoUsd: 218_797,
  });
});

test('each component rounds half-up on its own; the total is their sum', () => {
  const c = card({ inputPer1M: 0.0025, outputPer1M: 0.0025 });
  // 1 token * 2.5 nano = 2.5 -> 3; 3 tokens = 7.5 -> 8
  const cost = priceUsage(c, { input: 1, cachedInput: 0, cacheWrite: 0, output: 3, reasoning: 0 }, 0);
  assert.deepEqual([cost.inputNanoUsd, cost.outputNanoUsd, cost.totalNanoUsd], [3, 8, 11]);
  // Without a cached or cache-write price those tokens cost the input price.
  const plain = priceUsage(card({ inputPer1M: 1, outputPer1M: 1 }), { input: 0, cachedInput: 10, cacheWrite: 10, output: 0, reasoning: 0 }, 0);
  assert.deepEqual([plain.cachedInputNanoUsd, plain.cacheWriteNanoUsd], [10_000, 10_000]);
});

test('formatUsd rounds for display only', () => {
  assert.equal(formatUsd(0), '$0.00');
  assert.equal(formatUsd(4_980_000_000), '$4.98');
  assert.equal(formatUsd(10_000_000), '$0.01');
  assert.equal(formatUsd(123_000), '$0.000123');
});

test('formatUsd never shows a cost under a micro-dollar as free: all nine decimals there, trailing zeros trimmed', () => {
  assert.equal(formatUsd(1), '$0.000000001');
  assert.equal(formatUsd(400), '$0.0000004');
  assert.equal(formatUsd(999), '$0.000000999');
  assert.equal(formatUsd(-400), '-$0.0000004');
  assert.equal(formatUsd(1_000), '$0.000001');
});

test('priceTotal (placement, no allocation) and priceUsage agree on random cards and usage', () => {
  const rng = mulberry32(42);
  const maybe = <T>(v: () => T) => (rng() < 0.5 ? v() : undefined);
  const count = () => (rng() < 0.1 ? 0 : rng() < 0.05 ? Math.floor(rng() * 1e12) : Math.floor(rng() * 200_000));
  for (let k = 0; k < 20_000; k++) {
    const c = card({
      inputPer1M: rng() * 20, outputPer1M: rng() * 80, cachedInputPer1M: maybe(() => rng() * 5), cacheWritePer1M: maybe(() => rng() * 25),
      cacheWrite1hPer1M: maybe(() => rng() * 40), requestFee: maybe(() => rng() / 1000), egressPerGB: maybe(() => rng() * 0.2),
      tier: maybe(() => ({ aboveInputTokens: Math.floor(rng() * 200_000), inputPer1M: rng() * 40, cachedInputPer1M: maybe(() => rng() * 10), outputPer1M: maybe(() => rng() * 160) })),
    });
    const usage = { input: count(), cachedInput: count(), cacheWrite: count(), output: count(), reasoning: 0 };
    const bytes = count() * 230;
    const compiled = compileCard(c);
    const cost = priceUsage(c, usage, bytes);
    assert.equal(priceTotal(compiled, usage.input, usage.cachedInput, usage.cacheWrite, usage.output, bytes), cost.totalNanoUsd);
    assert.deepEqual(priceUsageCompiled(compiled, usage, bytes), cost);
    // And both are still the per-component formula of the card's own rates, a 1-hour share of the writes
    // (placement never expects one) billed at its own rate beside the rest.
    const oneHour = Math.floor(rng() * usage.cacheWrite);
    const split = priceUsage(c, { ...usage, cacheWrite1h: oneHour }, bytes);
    const rates = ratesFor(c, usage.input + usage.cachedInput + usage.cacheWrite);
    const writes = tokenCost(usage.cacheWrite - oneHour, rates.cacheWrite) + tokenCost(oneHour, rates.cacheWrite1h);
    const parts = [tokenCost(usage.input, rates.input), tokenCost(usage.cachedInput, rates.cachedInput), writes, tokenCost(usage.output, rates.output)];
    assert.deepEqual([split.inputNanoUsd, split.cachedInputNanoUsd, split.cacheWriteNanoUsd, split.outputNanoUsd], parts);
    assert.equal(split.totalNanoUsd, parts.reduce((a, b) => a + b, 0) + split.requestFeeNanoUsd + split.dataTransferNanoUsd);
  }
});
