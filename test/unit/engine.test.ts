import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimate, worstCaseCost } from '../../daemon/engine/estimate';
import { outputCap, worstCaseOf } from '../../daemon/meter/estimate';
import { builtinPolicies, normalQuantile, validatePolicy } from '../../daemon/engine/policies';
import { Telemetry } from '../../daemon/engine/telemetry';
import { IDLE_LOAD, LOAD, newLoadRecord, readLoad, writeLoad, type SiteLoad } from '../../daemon/engine/types';
import { model, simSite } from './engine-fixtures';

const m = model({
  price: { inputPer1M: 1, cachedInputPer1M: 0.5, outputPer1M: 2, requestFee: 0.001, egressPerGB: 0.09, readOn: '2026-01-01' },
  ttftMs: 200,
  ttftPerInputTokenMs: 0.1,
  outputTokensPerSecond: 100,
});
const site = simSite('s', { concurrency: 2 }, m);
const req = { model: 'm', inputTokens: 1000, cachedInputTokens: 200, expectedOutputTokens: 100, maxOutputTokens: 400 };

test('estimated cost: input, cached input, output, request fee and data transfer by the card', () => {
  const e = estimate(site, m, IDLE_LOAD, req);
  // 800 x 1 + 200 x 0.5 + 100 x 2 USD/1M tokens, 0.001 USD fee, 100 x 230 bytes at 0.09 USD/GB.
  assert.deepEqual(e.cost, {
    inputNanoUsd: 800_000,
    cachedInputNanoUsd: 100_000,
    cacheWriteNanoUsd: 0,
    outputNanoUsd: 200_000,
    requestFeeNanoUsd: 1_000_000,
    dataTransferNanoUsd: 2_070,
    totalNanoUsd: 2_102_070,
  });
  assert.ok(Math.abs(e.usdPer1M - (0.00210207 / 1100) * 1e6) < 1e-9); // blended USD per 1M tokens
  // Worst case: nothing cached, the prompt with the meter's 10% margin for other tokenizers, all 400
  // output tokens: 1100 + 800 + 1000 + 400 x 230 x 0.09 nano; the very figure the meter reserves.
  assert.equal(worstCaseCost(m, req).totalNanoUsd, 1_100_000 + 800_000 + 1_000_000 + 8_280);
  assert.equal(worstCaseCost(m, req).totalNanoUsd, worstCaseOf(m.price, req.inputTokens, req.maxOutputTokens).cost.totalNanoUsd);
});

test('output cap: the request\'s own, else the model\'s maximum, else the window left after the smallest the prompt can count', () => {
  assert.equal(outputCap(m, 1000, 400), 400);
  // No more than the model gives: the site is asked for that, and no more is reserved.
  assert.equal(outputCap({ ...m, maxOutputTokens: 8192 }, 1000, 20_000), 8192);
  // 100,000 - floor(1000 / 1.1): another tokenizer may count the prompt up to the margin smaller.
  assert.equal(outputCap(m, 1000, undefined), 99_091);
  assert.equal(outputCap({ ...m, maxOutputTokens: 8192 }, 1000, undefined), 8192);
  assert.equal(outputCap({ ...m, maxOutputTokens: 8192 }, 105_000, undefined), 100_000 - 95_454);
  assert.equal(outputCap(m, 200_000, undefined), 0);
  // The engine's worst case without a cap is the meter's reservation for the same request.
  const { maxOutputTokens: _, ...uncapped } = req;
  assert.equal(worstCaseCost(m, uncapped).totalNanoUsd, worstCaseOf(m.price, 1000, 99_091).cost.totalNanoUsd);
});

test('estimated latency: queue wait from in-flight over concurrency, prompt-length TTFT, generation', () => {
  const idle = estimate(site, m, IDLE_LOAD, req);
  assert.equal(idle.ttftMs, 300); // 200 + 0.1 x 1000
  assert.equal(idle.queueWaitMs, 0);
  assert.equal(idle.totalMs, 1300); // + 100 tokens at 100/s
  const busy = estimate(site, m, { ...IDLE_LOAD, inFlight: 3 }, req);
  assert.equal(busy.ahead, 2);
  assert.equal(busy.queueWaitMs, 1300); // 2 ahead x 1300 ms hold / 2 servers
  assert.equal(busy.totalMs, 2600);
});

test('telemetry replaces catalog figures once it has samples (prompt-length share removed)', () => {
  const t = new Telemetry();
  const ticket = t.onPlaced('s', 'm', 0, 100, 2);
  t.onResult(ticket, { outcome: 'complete', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: 500, durationMs: 2500 }, 2500, 100);
  const load = t.load('s', 'm', 2500);
  assert.equal(load.inFlight, 0);
  assert.equal(load.ttftBaseMs, 400);
  assert.equal(load.outputTokensPerSecond, 50);
  const e = estimate(site, m, load, req);
  assert.equal(e.ttftMs, 500);
  assert.equal(e.totalMs, 2500);
});

test('built-in policies validate; user policy errors name the policy and the field', () => {
  for (const p of builtinPolicies()) assert.deepEqual(validatePolicy(p), []);
  assert.deepEqual(validatePolicy({ name: 'x', kind: 'cheapest', constraints: { maxTtftMs: -1, regions: [], colour: 'red' } }), [
    'policy "x": constraints.colour is not a known constraint',
    'policy "x": constraints.regions must be a non-empty list of strings (regions or groups: eu, europe, us, asia)',
    'policy "x": constraints.maxTtftMs must be a number >= 0, got -1',
  ]);
  assert.deepEqual(validatePolicy({ name: 'p', kind: 'pinned', site: 'nowhere' }, new Set(['sim:a/b/c'])), ['policy "p": site names unknown site "nowhere"']);
  assert.deepEqual(validatePolicy({ name: 'p', kind: 'pinned', site: 'a/b/c' }, new Set(['sim:a/b/c'])), []);
  assert.deepEqual(validatePolicy({ kind: 'fast' }), ['policy (unnamed): name must be a non-empty string without spaces around it', 'policy (unnamed): kind must be one of cheapest, fastest, balanced, first-fit, pinned, got "fast"']);
  assert.deepEqual(validatePolicy({ name: 'f', kind: 'first-fit' }), ['policy "f": order must list at least one site id']);
  assert.deepEqual(validatePolicy({ name: 'i', kind: 'cheapest', constraints: { maxTtftMs: 1000, ttftConfidence: 1 } }), [
    'policy "i": constraints.ttftConfidence must be a number between 0 and 1 (exclusive), got 1',
  ]);
  assert.deepEqual(validatePolicy({ name: 'i', kind: 'cheapest', constraints: { ttftConfidence: 0.9 } }), ['policy "i": constraints.ttftConfidence needs constraints.maxTtftMs']);
  assert.deepEqual(validatePolicy({ name: 'i', kind: 'cheapest', constraints: { maxTtftMs: 1000, ttftConfidence: 0.9 } }), []);
  // 1e400 in a settings file parses to Infinity, which would score a site NaN.
  assert.deepEqual(validatePolicy({ name: 'b', kind: 'balanced', usdPerSecond: JSON.parse('1e400') }), ['policy "b": usdPerSecond must be a finite number >= 0']);
});

test('normal quantile: the z a confidence asks for', () => {
  for (const [p, z] of [[0.5, 0], [0.95, 1.6448536], [0.99, 2.3263479], [0.01, -2.3263479], [0.8, 0.8416212]]) {
    assert.ok(Math.abs(normalQuantile(p) - z) < 1e-6, `${p}`);
  }
});

test('load records: every field of a SiteLoad round-trips, the small integers packed into one number', () => {
  const loads: SiteLoad[] = [
    IDLE_LOAD,
    { inFlight: 7, queueDepth: 3, ttftBaseMs: 412.5, outputTokensPerSecond: 88.25, serviceMs: 2100.125, breaker: 'half-open', admits: false, lastFailureAt: 1_785_000_000_123, consecutiveFailures: 6, ttftErrorMean: -0.031, ttftErrorSd: 0.152 },
    { ...IDLE_LOAD, breaker: 'open', admits: false, queueDepth: 0, lastFailureAt: 0, consecutiveFailures: 1_000_000 },
  ];
  const rec = newLoadRecord(LOAD.RECORD * loads.length);
  loads.forEach((l, k) => writeLoad(rec, k * LOAD.RECORD, l));
  loads.forEach((l, k) => assert.deepEqual(readLoad(rec, k * LOAD.RECORD), l));
});
