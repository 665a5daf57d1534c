import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawBlindOracle, oracle } from '../../bench/placement/oracle';
import { MODEL, replay } from '../../bench/placement/replay';
import { enginePolicy } from '../../bench/placement/strategies';
import { buildCatalog } from '../../daemon/catalog/merge';
import { regionAllowed } from '../../daemon/catalog/regions';
import type { Site } from '../../daemon/catalog/types';
import { Telemetry } from '../../daemon/engine/telemetry';
import { PolicyBook } from '../../daemon/engine/policyBook';
import { Router } from '../../daemon/engine/router';
import { VirtualClock } from '../../daemon/providers/simulated/clock';
import { mulberry32 } from '../../daemon/providers/simulated/rng';
import type { Policy, PolicyConstraints, RejectReason } from '../../daemon/protocol';
import type { SiteResult } from '../../daemon/providers/types';
import { decide, fleet, simSite } from './engine-fixtures';

const ok = (ttftMs: number): SiteResult => ({ outcome: 'complete', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs, durationMs: ttftMs + 1000 });

const cheap = simSite('cheap', {}, { price: { inputPer1M: 0.5, outputPer1M: 0.5, readOn: '2026-01-01' }, ttftMs: 900, outputTokensPerSecond: 50 });
const fast = simSite('fast', {}, { price: { inputPer1M: 3, outputPer1M: 3, readOn: '2026-01-01' }, ttftMs: 100, outputTokensPerSecond: 500 });
const mid = simSite('mid', { region: 'eu-central-1', hardware: 'tpu-v5e' }, { price: { inputPer1M: 1, outputPer1M: 1, readOn: '2026-01-01' }, ttftMs: 300, outputTokensPerSecond: 150 });
const index = fleet(cheap, fast, mid);

test('cheapest picks the lowest expected cost, fastest the lowest expected time', () => {
  assert.equal(decide(index, { name: 'c', kind: 'cheapest' }).chosen, 'cheap');
  assert.equal(decide(index, { name: 'f', kind: 'fastest' }).chosen, 'fast');
});

test('balanced trades cost against waiting at the policy price', () => {
  // cheap: 0.55 mUSD, 2.9 s; mid: 1.1 mUSD, 0.967 s; fast: 3.3 mUSD, 0.3 s.
  assert.equal(decide(index, { name: 'b', kind: 'balanced', usdPerSecond: 0 }).chosen, 'cheap');
  assert.equal(decide(index, { name: 'b', kind: 'balanced', usdPerSecond: 0.001 }).chosen, 'mid');
  assert.equal(decide(index, { name: 'b', kind: 'balanced', usdPerSecond: 0.1 }).chosen, 'fast');
});

test('first-fit takes the first site in order that meets every threshold', () => {
  const p = decide(index, { name: 'ff', kind: 'first-fit', order: ['cheap', 'mid', 'fast'], constraints: { maxTtftMs: 500 } });
  assert.equal(p.chosen, 'mid');
  assert.equal(p.candidates.find((c) => c.site.id === 'cheap')?.rejected?.reason, 'threshold');
  const notListed = decide(index, { name: 'ff', kind: 'first-fit', order: ['mid'] });
  assert.equal(notListed.candidates.find((c) => c.site.id === 'fast')?.rejected?.reason, 'pinned');
});

test('pinned places only the pinned site, and a real id also names its simulated twin', () => {
  assert.equal(decide(index, { name: 'p', kind: 'pinned', site: 'fast' }).chosen, 'fast');
  const twins = fleet(simSite('sim:groq/x/lpu', { provider: 'groq' }), cheap);
  assert.equal(decide(twins, { name: 'p', kind: 'pinned', site: 'groq/x/lpu' }).chosen, 'sim:groq/x/lpu');
});

test('each constraint rejects with its reason and a detail', () => {
  const cases: [PolicyConstraints, string, RejectReason][] = [
    [{ regions: ['eu'] }, 'mid', 'residency'],
    [{ hardware: ['tpu-v5e'] }, 'mid', 'hardware'],
    [{ maxUsdPer1MTokens: 2 }, 'cheap', 'threshold'],
    [{ maxTtftMs: 250 }, 'fast', 'threshold'],
  ];
  for (const [constraints, chosen, reason] of cases) {
    const p = decide(index, { name: 'c', kind: 'cheapest', constraints });
    assert.equal(p.chosen, chosen, JSON.stringify(constraints));
    const rejected = p.candidates.filter((c) => c.rejected);
    assert.ok(rejected.length > 0 && rejected.every((c) => c.rejected!.reason === reason && c.rejected!.detail.length > 0));
  }
  // Worst case at 500 output tokens: cheap 0.75 mUSD, mid 1.5 mUSD, fast 4.5 mUSD.
  const perRequest = decide(index, { name: 'c', kind: 'fastest', constraints: { maxUsdPerRequest: 0.002 } });
  assert.equal(perRequest.chosen, 'mid');
  const budget = decide(index, { name: 'c', kind: 'fastest' }, { remainingBudgetNanoUsd: 1_000_000 });
  assert.equal(budget.chosen, 'cheap');
  assert.equal(budget.candidates.find((c) => c.site.id === 'fast')?.rejected?.reason, 'budget');
});

test('the team\'s headroom passes over real sites whose worst case exceeds it; simulated sites cost the team nothing', () => {
  const keyed = { hasKey: () => true };
  const realFast = simSite('groq/eu/fast', { provider: 'groq', simulated: false, endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.example/v1' } }, { price: { inputPer1M: 3, outputPer1M: 3, readOn: '2026-01-01' }, ttftMs: 100, outputTokensPerSecond: 500 });
  const realMid = simSite('together/us/mid', { provider: 'together', simulated: false, endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.example/v1' } }, { price: { inputPer1M: 1, outputPer1M: 1, readOn: '2026-01-01' }, ttftMs: 300, outputTokensPerSecond: 150 });
  // Worst cases (1000 prompt tokens with the 10% margin, 500 output): fast 4.8 mUSD, mid 1.6 mUSD, the simulated cheap site 0.8 mUSD.
  const p = decide(fleet(realFast, realMid, cheap), { name: 'f', kind: 'fastest' }, { ...keyed, teamRemainingNanoUsd: 2_000_000 });
  assert.equal(p.chosen, 'together/us/mid');
  const passed = p.candidates.find((c) => c.site.id === 'groq/eu/fast')!.rejected!;
  assert.equal(passed.reason, 'budget');
  assert.match(passed.detail, /^worst case \$0\.00480 exceeds the team's remaining budget \$0\.00200$/);
  const spent = decide(fleet(realFast, realMid, cheap), { name: 'f', kind: 'fastest' }, { ...keyed, teamRemainingNanoUsd: 0 });
  assert.equal(spent.chosen, 'cheap', 'a simulated site is not held against the team');
  assert.match(decide(fleet(realFast), { name: 'f', kind: 'fastest' }, { ...keyed, teamRemainingNanoUsd: 0 }).why, /1 over the team's remaining budget \$0\.00/);
});

test('max queue depth counts the requests already placed', () => {
  const telemetry = new Telemetry();
  for (let i = 0; i < 6; i++) telemetry.onPlaced('cheap', 'm', 0);
  const p = decide(index, { name: 'q', kind: 'cheapest', constraints: { maxQueueDepth: 2 } }, { telemetry });
  assert.equal(p.chosen, 'mid');
  assert.match(p.candidates.find((c) => c.site.id === 'cheap')!.rejected!.detail, /3 requests ahead/);
});

test('a prompt larger than the context window is rejected with context', () => {
  const small = simSite('small', {}, { contextWindow: 1200 });
  const p = decide(fleet(small, fast), { name: 'c', kind: 'cheapest' });
  assert.equal(p.chosen, 'fast');
  assert.equal(p.candidates.find((c) => c.site.id === 'small')?.rejected?.reason, 'context');
});

test('without an output cap, a site needs room for an answer, and its worst case is the longest answer it can give', () => {
  const uncapped = { model: 'm', inputTokens: 1000, expectedOutputTokens: 100 };
  // With 500 max tokens a 1200-token window is too small; without a cap, 200 tokens of room will do.
  const small = simSite('small', {}, { contextWindow: 1200 });
  assert.equal(decide(fleet(small, fast), { name: 'c', kind: 'cheapest' }, { request: uncapped }).chosen, 'small');
  const full = decide(fleet(simSite('full', {}, { contextWindow: 1000 }), fast), { name: 'c', kind: 'cheapest' }, { request: uncapped });
  assert.equal(full.chosen, 'fast');
  assert.match(full.candidates.find((c) => c.site.id === 'full')!.rejected!.detail, /a 1000-token prompt leaves no room for an answer in the 1000-token context window/);

  // Worst cases with a 100,000-token window: cheap 1000 x 1.1 x 0.5 + (100,000 - 909) x 0.5 nano-USD/token
  // = 50.1 mUSD; with its catalog maximum of 4000 output tokens, 'capped' at 3 USD/1M is 15.3 mUSD.
  const capped = simSite('capped', {}, { price: { inputPer1M: 3, outputPer1M: 3, readOn: '2026-01-01' }, maxOutputTokens: 4000, ttftMs: 100, outputTokensPerSecond: 500 });
  const within = (nano: number) => decide(fleet(cheap, capped), { name: 'c', kind: 'cheapest' }, { request: uncapped, remainingBudgetNanoUsd: nano });
  assert.equal(within(60_000_000).chosen, 'cheap');
  const tight = within(20_000_000);
  assert.equal(tight.chosen, 'capped');
  assert.match(tight.candidates.find((c) => c.site.id === 'cheap')!.rejected!.detail, /worst case \$0\.0501 exceeds the remaining budget/);
});

test('images go only to real sites whose model sees them; Bedrock only inline', () => {
  const vision = { images: true, price: { inputPer1M: 2, outputPer1M: 2, readOn: '2026-01-01' } };
  const openai = simSite('openai/us/x', { provider: 'openai', simulated: false, endpoint: { kind: 'openai' } }, vision);
  const bedrock = simSite('bedrock/us/x', { provider: 'bedrock', simulated: false, endpoint: { kind: 'bedrock' } }, { ...vision, price: { inputPer1M: 1, outputPer1M: 1, readOn: '2026-01-01' } });
  const textOnly = simSite('groq/eu/x', { provider: 'groq', simulated: false, endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.example/v1' } }, { price: { inputPer1M: 0.1, outputPer1M: 0.1, readOn: '2026-01-01' } });
  const simulated = simSite('sim:openai/us/x', { provider: 'openai' }, { ...vision, price: { inputPer1M: 0.01, outputPer1M: 0.01, readOn: '2026-01-01' } });
  const i = fleet(openai, bedrock, textOnly, simulated);
  const ask = (images: 'inline' | 'url') => decide(i, { name: 'c', kind: 'cheapest' }, { request: { model: 'm', inputTokens: 1000, maxOutputTokens: 500, images }, hasKey: () => true });
  const detail = (p: ReturnType<typeof ask>, id: string) => p.candidates.find((c) => c.site.id === id)!.rejected;

  const inline = ask('inline');
  assert.equal(inline.chosen, 'bedrock/us/x');
  assert.deepEqual(detail(inline, 'groq/eu/x'), { reason: 'capability', detail: 'm-provider here takes text only (the catalog does not set images)' });
  // With a key the twin stands down before its capability is looked at; keyless, it is the one passed over for images.
  assert.equal(detail(inline, 'sim:openai/us/x')?.reason, 'disabled');
  const keyless = decide(fleet(simulated, textOnly), { name: 'c', kind: 'cheapest' }, { request: { model: 'm', inputTokens: 1000, maxOutputTokens: 500, images: 'inline' } });
  assert.equal(keyless.chosen, null);
  assert.match(keyless.why, /simulated, which sees no images/);

  const byUrl = ask('url');
  assert.equal(byUrl.chosen, 'openai/us/x');
  assert.deepEqual(detail(byUrl, 'bedrock/us/x'), { reason: 'capability', detail: 'Bedrock takes images inline only: send them as data: URLs' });
});

test('a real site needs a key; its twin stands down once the key is set', () => {
  const real = simSite('groq/x/lpu', { provider: 'groq', simulated: false, endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.example/v1' } });
  const twin = simSite('sim:groq/x/lpu', { provider: 'groq' });
  const i = fleet(real, twin);
  const noKey = decide(i, { name: 'c', kind: 'cheapest' });
  assert.equal(noKey.chosen, 'sim:groq/x/lpu');
  assert.equal(noKey.candidates.find((c) => c.site.id === 'groq/x/lpu')?.rejected?.reason, 'no key');
  const keyed = decide(i, { name: 'c', kind: 'cheapest' }, { hasKey: (p) => p === 'groq' });
  assert.equal(keyed.chosen, 'groq/x/lpu');
  assert.equal(keyed.candidates.find((c) => c.site.id === 'sim:groq/x/lpu')?.rejected?.reason, 'disabled');
});

test('a real site its endpoint kind cannot reach without a base URL stands aside, key or not, and its twin serves', () => {
  const azure = simSite('azure-openai/x/managed', { provider: 'azure-openai', simulated: false, endpoint: { kind: 'azure-openai' } });
  const twin = simSite('sim:azure-openai/x/managed', { provider: 'azure-openai' });
  const p = decide(fleet(azure, twin), { name: 'c', kind: 'cheapest' }, { hasKey: () => true });
  assert.equal(p.chosen, 'sim:azure-openai/x/managed');
  const rejected = p.candidates.find((c) => c.site.id === 'azure-openai/x/managed')?.rejected;
  assert.equal(rejected?.reason, 'no address');
  assert.match(rejected!.detail, /azure-openai needs endpoint\.baseUrl .*in the catalog file/);
  // Given one, it serves and its twin stands down.
  const addressed = { ...azure, endpoint: { ...azure.endpoint, baseUrl: 'https://r.openai.azure.com/openai' } };
  assert.equal(decide(fleet(addressed, twin), { name: 'c', kind: 'cheapest' }, { hasKey: () => true }).chosen, 'azure-openai/x/managed');
});

test('a request with tools goes only to a site that can call them: a real one; simulated sites are passed over saying why', () => {
  const real = simSite('groq/x/lpu', { provider: 'groq', simulated: false, endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.example/v1' } }, { price: { inputPer1M: 3, outputPer1M: 3, readOn: '2026-01-01' } });
  const i = fleet(real, cheap, mid);
  const tools = { model: 'm', inputTokens: 1000, maxOutputTokens: 500, tools: true };
  const keyed = decide(i, { name: 'c', kind: 'cheapest' }, { request: tools, hasKey: (p) => p === 'groq' });
  assert.equal(keyed.chosen, 'groq/x/lpu', 'the dearest site, the only one that can call tools');
  const rejected = keyed.candidates.find((c) => c.site.id === 'cheap')?.rejected;
  assert.equal(rejected?.reason, 'capability');
  assert.match(rejected!.detail, /cannot call the request's tools/);
  assert.equal(decide(i, { name: 'c', kind: 'cheapest' }, { hasKey: (p) => p === 'groq' }).chosen, 'cheap', 'without tools the cheap simulated site serves');
  const offline = decide(i, { name: 'c', kind: 'cheapest' }, { request: tools });
  assert.equal(offline.chosen, null);
  assert.equal(offline.why, 'no eligible site for m: 1 without an API key, 2 simulated, which cannot call tools');
  // A local server the catalog marks as unable to call tools is passed over too, and serves requests without them.
  const local = simSite('llama-cpp/local/cpu', { provider: 'openai-compatible', simulated: false, endpoint: { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:8080/v1', tools: false } });
  const withLocal = fleet(real, local);
  const both = (p: string) => p === 'groq' || p === 'openai-compatible';
  const placed = decide(withLocal, { name: 'c', kind: 'cheapest' }, { request: tools, hasKey: both });
  assert.equal(placed.chosen, 'groq/x/lpu');
  assert.deepEqual(placed.candidates.find((c) => c.site.id === 'llama-cpp/local/cpu')?.rejected, { reason: 'capability', detail: 'cannot call tools (endpoint.tools is false in the catalog)' });
  assert.equal(decide(withLocal, { name: 'c', kind: 'cheapest' }, { hasKey: both }).chosen, 'llama-cpp/local/cpu');
});

test('an answer in JSON goes only where it can be had: any object where the API has a JSON mode, to a schema on every real wire', () => {
  const real = (id: string, kind: 'openai-compatible' | 'anthropic', provider: 'groq' | 'anthropic', price: number) =>
    simSite(id, { provider, simulated: false, endpoint: { kind, baseUrl: 'https://api.example/v1' } }, { price: { inputPer1M: price, outputPer1M: price, readOn: '2026-01-01' } });
  const i = fleet(real('anthropic/x/y', 'anthropic', 'anthropic', 1), real('groq/x/lpu', 'openai-compatible', 'groq', 2), cheap);
  const keys = { hasKey: () => true };
  const ask = (json: 'object' | 'schema') => decide(i, { name: 'c', kind: 'cheapest' }, { ...keys, request: { model: 'm', inputTokens: 1000, maxOutputTokens: 500, json } });
  const object = ask('object');
  assert.equal(object.chosen, 'groq/x/lpu');
  assert.deepEqual(object.candidates.find((c) => c.site.id === 'anthropic/x/y')?.rejected, { reason: 'capability', detail: 'anthropic answers in JSON only to a schema; ask with one (response_format json_schema)' });
  assert.match(object.candidates.find((c) => c.site.id === 'cheap')!.rejected!.detail, /plain text, not JSON/);
  assert.equal(ask('schema').chosen, 'anthropic/x/y');
});

test('nothing eligible: chosen is null and why counts what each constraint excluded', () => {
  const p = decide(index, { name: 'c', kind: 'cheapest', constraints: { regions: ['eu'], maxTtftMs: 200 } });
  assert.equal(p.chosen, null);
  assert.equal(p.why, 'no eligible site for m: 2 outside allowed regions [eu], 1 over max TTFT 200 ms');
  assert.equal(decide(index, { name: 'c', kind: 'cheapest' }, { request: { model: 'nope', inputTokens: 1, maxOutputTokens: 1 } }).why,
    'unknown model nope: no site in the catalog offers it');
});

test('a placement\'s words are built when read, from the state the decision saw, and serialise as the wire has them', () => {
  const telemetry = new Telemetry();
  const p = decide(index, { name: 'c', kind: 'cheapest' }, { telemetry });
  for (let k = 0; k < 3; k++) telemetry.onPlaced(p.chosen!, 'm', 1_000_000);
  assert.equal(p.candidates.find((c) => c.site.id === p.chosen)?.inFlight, 0);
  const wire = JSON.parse(JSON.stringify(p));
  assert.deepEqual(Object.keys(wire), ['id', 'policy', 'model', 'chosen', 'why', 'decidedAt', 'candidates']);
  assert.deepEqual(wire, { id: 't', policy: 'c', model: 'm', chosen: 'cheap', why: p.why, decidedAt: new Date(1_000_000).toISOString(), candidates: JSON.parse(JSON.stringify(p.candidates)) });
});

test('all breakers open: try the site that failed longest ago', () => {
  const telemetry = new Telemetry({ breaker: { failureThreshold: 1, cooldownMs: 600_000 } });
  const fail: SiteResult = { outcome: 'error', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: null, durationMs: 1, error: { status: 503, message: 'x', retryable: true } };
  for (const [id, at] of [['cheap', 900_000], ['fast', 800_000], ['mid', 950_000]] as const) {
    telemetry.onResult(telemetry.onPlaced(id, 'm', at), fail, at);
  }
  const p = decide(index, { name: 'c', kind: 'cheapest' }, { telemetry, now: 960_000 });
  assert.equal(p.chosen, 'fast');
  assert.match(p.why, /failed longest ago/);
  assert.ok(p.candidates.filter((c) => c.site.id !== 'fast').every((c) => c.rejected?.reason === 'breaker'));
});

/** A 429 asking for a pause of `seconds`. */
const rateLimited = (seconds: number): SiteResult => ({
  outcome: 'error', text: '', usage: null, headers: { 'retry-after': String(seconds) }, bytesReceived: 0, ttftMs: null, durationMs: 1,
  error: { status: 429, message: 'slow down', retryable: true, retryAfterMs: seconds * 1000 },
});

test('a site that answered 429 with Retry-After, or ran out of rate-limit headroom, is left alone until then', () => {
  const telemetry = new Telemetry();
  telemetry.onResult(telemetry.onPlaced('cheap', 'm', 1_000_000), rateLimited(5), 1_000_000);
  const during = decide(index, { name: 'c', kind: 'cheapest' }, { telemetry, now: 1_004_000 });
  assert.notEqual(during.chosen, 'cheap');
  const cheap = during.candidates.find((c) => c.site.id === 'cheap')!;
  assert.deepEqual([cheap.rejected?.reason, /rate limited/.test(cheap.rejected?.detail ?? '')], ['threshold', true]);
  assert.equal(decide(index, { name: 'c', kind: 'cheapest' }, { telemetry, now: 1_005_001 }).chosen, 'cheap', 'tried again once the wait is over');

  // Headers alone: a successful answer saying no requests are left stops sending before the 429.
  const t2 = new Telemetry();
  const exhausted: SiteResult = {
    outcome: 'complete', text: 'ok', usage: null, bytesReceived: 10, ttftMs: 5, durationMs: 10,
    headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-limit-requests': '100' },
  };
  t2.onResult(t2.onPlaced('cheap', 'm', 1_000_000), exhausted, 1_000_000);
  assert.notEqual(decide(index, { name: 'c', kind: 'cheapest' }, { telemetry: t2, now: 1_000_500 }).chosen, 'cheap');
});

test('a failover is not sent back to a site that asked for a pause: Retry-After holds for it as for a new request', () => {
  const telemetry = new Telemetry();
  telemetry.onResult(telemetry.onPlaced('only', 'm', 1_000_000), rateLimited(30), 1_000_000);
  const failover = decide(fleet(simSite('only')), { name: 'c', kind: 'cheapest' }, { telemetry, now: 1_000_100, exclude: new Set(['only']) });
  assert.equal(failover.chosen, null);
  assert.match(failover.candidates[0].rejected?.detail ?? '', /rate limited/);
});

test('with a fallback, a healthy site it finds comes before retrying the policy\'s site that failed', () => {
  // 'quick' alone meets the policy's TTFT limit; its fallback (fastest) may use 'slow'.
  const sites = [simSite('quick', {}, { ttftMs: 100 }), simSite('slow', {}, { ttftMs: 900 })];
  const strict: Policy = { name: 'strict', kind: 'cheapest', constraints: { maxTtftMs: 500 }, fallback: 'fastest' };
  const book = new PolicyBook();
  book.configure({ policies: [strict] });
  const request = { model: 'm', inputTokens: 100, maxOutputTokens: 100 };
  const fail: SiteResult = { outcome: 'error', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: null, durationMs: 5, error: { status: 503, message: 'overloaded', retryable: true } };
  const telemetry = new Telemetry({ breaker: { failureThreshold: 1, cooldownMs: 30_000 } });
  const router = new Router({ index: fleet(...sites) }, telemetry, new VirtualClock(1_000_000), mulberry32(1));
  const first = router.place(request, strict, { hasKey: () => false, fallback: book.fallbackOf(strict) });
  assert.equal(first.placement.chosen, 'quick');
  router.settle(first.ticket!, fail);
  // The failover (the site it failed at passed over), and a new request while quick's breaker is open.
  const failover = router.place(request, strict, { hasKey: () => false, fallback: book.fallbackOf(strict), exclude: new Set(['quick']) }).placement;
  assert.deepEqual([failover.chosen, failover.policy, failover.fallbackOf], ['slow', 'fastest', 'strict']);
  const next = router.preview(request, strict, { hasKey: () => false, fallback: book.fallbackOf(strict) });
  assert.deepEqual([next.chosen, next.policy], ['slow', 'fastest']);
  // With no healthy site under either, the last resort still holds: the site that failed longest ago.
  router.settle(router.place(request, book.get('fastest'), { hasKey: () => false, pinSite: 'slow' }).ticket!, fail);
  const last = router.preview(request, strict, { hasKey: () => false, fallback: book.fallbackOf(strict) });
  assert.deepEqual([last.chosen, last.policy], ['quick', 'strict']);
  assert.match(last.why, /failed longest ago/);
});

test('no herding: 100 placements without completions spread evenly over equal sites', () => {
  const sites = ['a', 'b', 'c', 'd'].map((id) => simSite(id, { concurrency: 1000 }));
  const catalog = { index: fleet(...sites) };
  const router = new Router(catalog, new Telemetry(), new VirtualClock(), mulberry32(3));
  const counts = new Map<string, number>();
  for (let i = 0; i < 100; i++) {
    const { placement } = router.place({ model: 'm', inputTokens: 100, maxOutputTokens: 100 }, { name: 'c', kind: 'cheapest' }, { hasKey: () => false });
    counts.set(placement.chosen!, (counts.get(placement.chosen!) ?? 0) + 1);
  }
  assert.equal(counts.size, 4);
  for (const n of counts.values()) assert.ok(n >= 22 && n <= 28, `uneven spread ${[...counts.values()]}`);
});

test('no herding under a latency policy: placements fill the slots of a site, then move on', () => {
  const sites = ['a', 'b'].map((id) => simSite(id, { concurrency: 2 }));
  const router = new Router({ index: fleet(...sites) }, new Telemetry(), new VirtualClock(), mulberry32(3));
  const chosen = Array.from({ length: 4 }, () =>
    router.place({ model: 'm', inputTokens: 100, maxOutputTokens: 100 }, { name: 'f', kind: 'fastest' }, { hasKey: () => false }).placement.chosen);
  assert.deepEqual([...chosen].sort(), ['a', 'a', 'b', 'b']);
});

test('a fallback places what its policy cannot, says so, and never where its policy may not go', () => {
  const sites = [simSite('slow-cheap', {}, { ttftMs: 900 }), simSite('quick-dear', {}, { ttftMs: 300, price: { inputPer1M: 5, outputPer1M: 9, readOn: '2026-01-01' } })];
  const router = new Router({ index: fleet(...sites) }, new Telemetry(), new VirtualClock(), mulberry32(3));
  const request = { model: 'm', inputTokens: 100, maxOutputTokens: 100 };
  const strict: Policy = { name: 'strict', kind: 'cheapest', constraints: { maxTtftMs: 100 }, fallback: 'fastest' };
  const book = new PolicyBook();
  book.configure({ policies: [strict] });

  assert.equal(router.place(request, strict, { hasKey: () => false }).placement.chosen, null, 'without the fallback passed, nothing is placed');
  const { placement, ticket } = router.place(request, strict, { hasKey: () => false, fallback: book.fallbackOf(strict) });
  assert.ok(ticket);
  assert.equal(placement.chosen, 'quick-dear');
  assert.equal(placement.policy, 'fastest');
  assert.equal(placement.fallbackOf, 'strict');
  assert.match(placement.why, /^no eligible site for m: 2 over max TTFT 100 ms; fell back to fastest: quick-dear at /);
  assert.equal(JSON.parse(JSON.stringify(placement)).fallbackOf, 'strict');
  // Where the fallback finds nothing either, what stopped it is named after what stopped the policy.
  const broke = router.place(request, strict, { hasKey: () => false, fallback: book.fallbackOf(strict), remainingBudgetNanoUsd: 0 }).placement;
  assert.deepEqual([broke.chosen, broke.policy, broke.fallbackOf], [null, 'fastest', 'strict']);
  assert.match(broke.why, /^no eligible site for m: 2 over max TTFT 100 ms; nor by its fallback fastest: 2 over the remaining budget \$0\.00$/);
  assert.ok(broke.candidates.every((c) => c.rejected?.reason === 'budget'));
  assert.equal(book.fallbackOf(book.get('interactive'))?.name, 'fastest');

  // Refused whole, naming the policy and the field; the book keeps what it had.
  const refused = (policies: Policy[], message: RegExp) => assert.throws(() => book.configure({ policies }), (e: Error) => message.test(e.message));
  refused([{ name: 'x', kind: 'cheapest', fallback: 'nope' }], /^policy "x": fallback names unknown policy "nope" \(known: cheapest, fastest, balanced, interactive, eu-only, x\)$/);
  refused([{ name: 'x', kind: 'cheapest', fallback: 'x' }], /^policy "x": fallback names the policy itself$/);
  refused([{ name: 'x', kind: 'cheapest', fallback: 7 as unknown as string }], /^policy "x": fallback must name a policy$/);
  refused([{ name: 'eu-cheap', kind: 'cheapest', constraints: { regions: ['eu'] }, fallback: 'fastest' }],
    /^policy "eu-cheap": fallback "fastest" may place outside constraints\.regions \[eu\] \(its own: any\); give it regions within them$/);
  refused([{ name: 'lpu', kind: 'cheapest', constraints: { hardware: ['groq-lpu'] }, fallback: 'eu-only' }], /^policy "lpu": fallback "eu-only" may place outside constraints\.hardware \[groq-lpu\]/);
  assert.equal(book.get('strict'), strict);
  assert.throws(() => book.get('x'));
  // A fallback within the policy's regions, by group or exactly, is accepted.
  book.configure({ policies: [
    { name: 'eu-cheap', kind: 'cheapest', constraints: { regions: ['eu'] }, fallback: 'eu-only' },
    { name: 'frankfurt', kind: 'fastest', constraints: { regions: ['eu-central-1'] } },
    { name: 'eu-fast', kind: 'cheapest', constraints: { regions: ['eu'] }, fallback: 'frankfurt' },
  ] });
  assert.equal(book.fallbackOf(book.get('eu-fast'))?.name, 'frankfurt');
});

test('residency is never violated (random fleets and constraints)', () => {
  const rng = mulberry32(11);
  const regions = ['eu-central-1', 'europe-west4', 'us-east-1', 'us-central1', 'global', 'swedencentral', 'eastus2', 'asia-east1'];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)];
  for (let round = 0; round < 300; round++) {
    const sites = Array.from({ length: 1 + Math.floor(rng() * 12) }, (_, i) =>
      simSite(`s${i}`, { region: pick(regions), concurrency: 1 + Math.floor(rng() * 4) },
        { price: { inputPer1M: rng() * 5, outputPer1M: rng() * 10, readOn: '2026-01-01' }, ttftMs: rng() * 1000 }));
    const allowed = [pick(['eu', 'us', 'asia', 'eu-central-1', 'global'])];
    const kind = pick(['cheapest', 'fastest', 'balanced'] as const);
    const telemetry = new Telemetry({ breaker: { failureThreshold: 1, cooldownMs: 1e9 } });
    const fail: SiteResult = { outcome: 'error', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: null, durationMs: 1 };
    for (const s of sites) if (rng() < 0.3) telemetry.onResult(telemetry.onPlaced(s.id, 'm', 0), fail, rng() * 1000);
    const p = decide(fleet(...sites), { name: 'r', kind, constraints: { regions: allowed } }, { telemetry, rng });
    if (p.chosen === null) {
      assert.ok(sites.every((s) => !regionAllowed(s.region, allowed)));
      continue;
    }
    const site = sites.find((s) => s.id === p.chosen)!;
    assert.ok(regionAllowed(site.region, allowed), `${site.region} chosen under [${allowed}]`);
  }
});

test('ttftConfidence: a site passes max TTFT only with its logged error against the catalog allowed for', () => {
  // cheap's results come 20% either side of its catalog 900 ms (a spread of ln 1.2 in logs); its moving
  // estimate, which weighs the last samples most, ends away from 900 ms.
  const telemetry = new Telemetry();
  for (let k = 0; k < 30; k++) telemetry.onResult(telemetry.onPlaced('cheap', 'm', k, 0, 4, 900), ok(k % 2 ? 1080 : 750), k);
  const policy = (ttftConfidence?: number) => ({ name: 'i', kind: 'cheapest' as const, constraints: { maxTtftMs: 1000, ttftConfidence } });
  assert.equal(decide(index, policy(), { telemetry, now: 100 }).chosen, 'cheap'); // expected < 1000
  // At 50% confidence the margin is exp(mean) = 1; at 95%, 1.2^1.645 = 1.35: 900 ms becomes 1215 ms.
  assert.equal(decide(index, policy(0.5), { telemetry, now: 100 }).chosen, 'cheap');
  const strict = decide(index, policy(0.95), { telemetry, now: 100 });
  assert.equal(strict.chosen, 'mid');
  const detail = strict.candidates.find((c) => c.site.id === 'cheap')!.rejected!.detail;
  const [, expected, likely] = detail.match(/^expected (\d+) ms to first token \(0 ms queue\), (\d+) ms at 95% confidence, exceeds max 1000 ms$/)!.map(Number);
  const load = telemetry.load('cheap', 'm', 100);
  assert.ok(Math.abs(load.ttftErrorSd - Math.log(1.2)) < 1e-9 && Math.abs(load.ttftErrorMean) < 1e-9);
  assert.notEqual(Math.round(load.ttftBaseMs!), 900);
  assert.equal(expected, Math.round(load.ttftBaseMs!));
  // Judged from the catalog's figure, not the moving estimate.
  assert.equal(likely, Math.round(900 * Math.exp(1.6448536 * Math.log(1.2))));
  // A site with no record yet is judged by its catalog TTFT: it has to be tried to be learned.
  assert.equal(decide(index, policy(0.95), { now: 100 }).chosen, 'cheap');
});

test('Router hands the catalog TTFT to the ticket, whatever the moving estimate says, so the result logs the site against a fixed figure', () => {
  const clock = new VirtualClock();
  const telemetry = new Telemetry();
  for (let k = 0; k < 5; k++) telemetry.onResult(telemetry.onPlaced('cheap', 'm', 0), ok(500), 0);
  const router = new Router({ index }, telemetry, clock, mulberry32(1));
  const { ticket } = router.place({ model: 'm', inputTokens: 1000, maxOutputTokens: 100 }, { name: 'c', kind: 'cheapest' }, { hasKey: () => false });
  assert.equal(ticket!.siteId, 'cheap');
  assert.equal(telemetry.load('cheap', 'm', 0).ttftBaseMs, 500);
  assert.equal(ticket!.expectedTtftMs, 900);
});

test('bench references: the draw-blind oracle is the oracle when nothing is drawn, and judges TTFT at its confidence otherwise', () => {
  const [cheapSite, dearSite] = buildCatalog().sites.filter((s) => s.simulated && !s.disabled && s.models.some((m) => m.canonical === MODEL))
    .sort((a, b) => a.models.find((m) => m.canonical === MODEL)!.price.inputPer1M - b.models.find((m) => m.canonical === MODEL)!.price.inputPer1M)
    .filter((_, i, all) => i === 0 || i === all.length - 1);
  // The cheap site's median first token is 950 ms: inside the SLO on a lucky draw, outside at 95% confidence.
  const withSpeed = (site: typeof cheapSite, ttftBaseMs: number, jitter: number) =>
    ({ ...site, simulation: { ...site.simulation!, servers: 100, ttftBaseMs, ttftPerInputTokenMs: 0, jitter, errorRate: 0, models: undefined } });
  const trace = Array.from({ length: 200 }, (_, i) => ({ at: i * 1000, input: 100, output: 50 }));
  const sites = (jitter: number) => [withSpeed(cheapSite, 950, jitter), withSpeed(dearSite, 100, jitter)];
  assert.deepEqual(drawBlindOracle(trace, 1, sites(0), 7, 0.95), oracle(trace, 1, sites(0), 7));
  const share = (out: { siteId: string }[]) => out.filter((o) => o.siteId === cheapSite.id).length / out.length;
  assert.equal(share(drawBlindOracle(trace, 1, sites(0.15), 7, 0.95)), 0); // 950 x exp(1.645 x 0.15) = 1217 ms
  assert.equal(share(drawBlindOracle(trace, 1, sites(0.15), 7, 0.3)), 1); // 950 x exp(-0.524 x 0.15) = 878 ms
  const seeing = share(oracle(trace, 1, sites(0.15), 7)); // the lucky draws only: P(z < ln(1000/950)/0.15) = 0.63
  assert.ok(seeing > 0.5 && seeing < 0.75, `oracle took the cheap site for ${seeing}`);
});

test('bench replay: a request that meets an error fails over as the daemon does, its first token counted from its arrival', async () => {
  const [cheapSite, dearSite] = buildCatalog().sites.filter((s) => s.simulated && !s.disabled && s.models.some((m) => m.canonical === MODEL))
    .sort((a, b) => a.models.find((m) => m.canonical === MODEL)!.price.inputPer1M - b.models.find((m) => m.canonical === MODEL)!.price.inputPer1M)
    .filter((_, i, all) => i === 0 || i === all.length - 1);
  // The cheap site always fails (halfway to its 200 ms first token); the dear one never does.
  const at = (site: typeof cheapSite, errorRate: number) =>
    ({ ...site, simulation: { ...site.simulation!, servers: 100, ttftBaseMs: 200, ttftPerInputTokenMs: 0, jitter: 0, errorRate, models: undefined } });
  const sites = [at(cheapSite, 1), at(dearSite, 0)];
  const trace = Array.from({ length: 20 }, (_, i) => ({ at: i * 5000, input: 100, output: 50 }));
  const out = await replay(trace, 1, sites, enginePolicy(new PolicyBook().get('cheapest')), 7);
  // The first request learns the cheap site fails; each that goes there again fails over to the dear one.
  assert.ok(out.every((o) => o.ok && o.siteId === dearSite.id), JSON.stringify(out.map((o) => o.siteId)));
  const failedOver = out.filter((o) => o.ttftMs! > 200);
  assert.ok(failedOver.length >= 1);
  // 100 ms to the error, 50-100 ms of backoff, 200 ms to the first token at the dear site.
  for (const o of failedOver) assert.ok(o.ttftMs! >= 350 && o.ttftMs! <= 400, `first token after ${o.ttftMs} ms`);
});

test('the runner-up is the next lowest score, the first in catalog order among equals, before or after the best', () => {
  const at = (id: string, usd: number) => simSite(id, {}, { price: { inputPer1M: usd, outputPer1M: usd, readOn: '2026-01-01' } });
  const nextBest = (policy: Policy, ...sites: Site[]) => decide(fleet(...sites), policy).why.match(/; next best (\S+) at /)?.[1];
  const cheapest: Policy = { name: 'c', kind: 'cheapest' };
  assert.equal(nextBest(cheapest, at('a', 2), at('b', 1), at('c', 2)), 'a');
  assert.equal(nextBest(cheapest, at('a', 1), at('b', 3), at('c', 2), at('d', 2)), 'c');
  assert.equal(nextBest(cheapest, at('a', 2), at('b', 3), at('c', 1)), 'a');
  assert.equal(nextBest({ name: 'ff', kind: 'first-fit', order: ['c', 'a', 'b'] }, at('a', 2), at('b', 3), at('c', 1)), 'a');
});

test('a decision over more sites than one block of its record (1024) reads, ranks and explains each site at its own place', () => {
  const n = 2500;
  const priced = (k: number) => (k === 1000 || k === 2000 ? 0.1 : k === 1500 ? 0.2 : 1 + k / 10_000);
  const sites = Array.from({ length: n }, (_, k) => simSite(`p${k}`, {}, { price: { inputPer1M: priced(k), outputPer1M: priced(k), readOn: '2026-01-01' } }));
  const big = fleet(...sites);
  const telemetry = new Telemetry();
  telemetry.onPlaced('p1000', 'm', 1_000_000);
  for (let k = 0; k < 3; k++) telemetry.onPlaced('p2300', 'm', 1_000_000);

  // p1000 and p2000 tie as the cheapest, in different blocks: the less loaded one wins.
  const tie = decide(big, { name: 'c', kind: 'cheapest' }, { telemetry });
  assert.equal(tie.chosen, 'p2000');
  assert.match(tie.why, /^c \(cheapest\): p2000 at .*; 2 sites within 2% of the best/);
  assert.equal(tie.candidates.length, n);
  assert.deepEqual(tie.candidates.slice(0, 3).map((c) => [c.site.id, c.inFlight]), [['p2000', 0], ['p1000', 1], ['p1500', 0]]);
  assert.equal(tie.candidates.find((c) => c.site.id === 'p2300')?.inFlight, 3);

  // Without the tie, the runner-up is found across blocks too.
  const single = decide(big, { name: 'c', kind: 'cheapest' }, { telemetry, exclude: new Set(['p2000']) });
  assert.equal(single.chosen, 'p1000');
  assert.match(single.why, /; next best p1500 at /);
  // A policy named after its kind (the built-ins) is named once.
  assert.match(decide(big, { name: 'cheapest', kind: 'cheapest' }, { telemetry }).why, /^cheapest: p2000 at /);
  assert.equal(single.candidates.find((c) => c.site.id === 'p2000')?.rejected?.detail, 'already failed for this request');

  // Every breaker open: the site that failed longest ago, wherever it is.
  const broken = new Telemetry({ breaker: { failureThreshold: 1, cooldownMs: 600_000 } });
  const fail: SiteResult = { outcome: 'error', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: null, durationMs: 1, error: { status: 503, message: 'x', retryable: true } };
  for (let k = 0; k < n; k++) {
    const at = k === 1800 ? 500_000 : 900_000 + k;
    broken.onResult(broken.onPlaced(`p${k}`, 'm', at), fail, at);
  }
  const fallback = decide(big, { name: 'c', kind: 'cheapest' }, { telemetry: broken, now: 960_000 });
  assert.equal(fallback.chosen, 'p1800');
  assert.match(fallback.why, /trying p1800, which failed longest ago \(460 s ago\)/);
});

test('a confidence reads as the percentage the policy set, not its floating-point product', () => {
  const p = decide(fleet(simSite('slow', {}, { ttftMs: 900 })), { name: 'i', kind: 'cheapest', constraints: { maxTtftMs: 100, ttftConfidence: 0.57 } });
  assert.equal(p.why, 'no eligible site for m: 1 over max TTFT 100 ms at 57% confidence');
  assert.match(p.candidates[0].rejected!.detail, /, 900 ms at 57% confidence, exceeds max 100 ms$/);
});

test('a price over its limit reads over it: enough digits to see why, never a nonzero price shown as $0', () => {
  const card = (outputPer1M: number) => ({ price: { inputPer1M: 0, outputPer1M, readOn: '2026-01-01' } });
  const limit = (constraints: PolicyConstraints, outputPer1M: number, over: Parameters<typeof decide>[2] = {}) =>
    decide(fleet(simSite('s', {}, card(outputPer1M))), { name: 'c', kind: 'cheapest', constraints }, over);
  // 100 output tokens over 1100 tokens in all at 0.0011 USD/1M: $0.0001 per 1M.
  assert.equal(limit({ maxUsdPer1MTokens: 0.00005 }, 0.0011).candidates[0].rejected?.detail, '$0.0001 per 1M tokens for this request exceeds max $0.00005');
  // Worst case: 500 output tokens. At 2.0008 USD/1M that is $0.0010004, over a limit of $0.001 that three digits would show as equal.
  assert.equal(limit({ maxUsdPerRequest: 0.001 }, 2.0008).candidates[0].rejected?.detail, 'worst case $0.0010004 exceeds max $0.001 per request');
  assert.equal(limit({}, 2.0008, { remainingBudgetNanoUsd: 1_000_000 }).candidates[0].rejected?.detail, 'worst case $0.0010004 exceeds the remaining budget $0.00100');
  // A worst case of exactly the limit passes: 500 tokens at 0.26 USD/1M are 130,000 nano-USD, though 0.00013 x 1e9 < 130,000 in floating point.
  assert.equal(limit({ maxUsdPerRequest: 0.00013 }, 0.26).chosen, 's');
});

test('nothing eligible under a pin that no site offering the model answers: the why says so', () => {
  const i = fleet(simSite('a'), simSite('other', {}, { canonical: 'n' }));
  assert.equal(decide(i, { name: 'p', kind: 'pinned', site: 'gone/x/y' }).why, 'no eligible site for m: 1 not the pinned site; policy "p" pins gone/x/y, which is not in the catalog');
  assert.equal(decide(i, { name: 'p', kind: 'pinned', site: 'other' }).why, 'no eligible site for m: 1 not the pinned site; policy "p" pins other, which does not offer m');
  assert.equal(decide(i, { name: 'c', kind: 'cheapest' }, { pinSite: 'other' }).why, 'no eligible site for m: 1 not the pinned site; the request is pinned to other, which does not offer m');
  assert.equal(decide(i, { name: 'ff', kind: 'first-fit', order: ['other', 'gone/x/y'] }).why, 'no eligible site for m: 1 not in the first-fit order; policy "ff"\'s first-fit order names no site that offers m');
  // A pinned site that offers the model and is passed over for its own reasons needs no note.
  assert.equal(decide(i, { name: 'p', kind: 'pinned', site: 'a', constraints: { maxTtftMs: 1 } }).why, 'no eligible site for m: 1 over max TTFT 1 ms');
});

test('a failover sent back to the one site it failed at says so, not that a breaker is open', () => {
  const telemetry = new Telemetry();
  const fail: SiteResult = { outcome: 'error', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: null, durationMs: 1, error: { status: 503, message: 'x', retryable: true } };
  telemetry.onResult(telemetry.onPlaced('only', 'm', 990_000), fail, 990_000);
  const p = decide(fleet(simSite('only')), { name: 'c', kind: 'cheapest' }, { telemetry, exclude: new Set(['only']) });
  assert.equal(p.chosen, 'only');
  assert.equal(p.candidates[0].breaker, 'closed');
  assert.equal(p.why, 'every eligible site already failed for this request; trying only again, which failed longest ago (10 s ago)');
});

test('a failover with every other breaker open tries one of them, not again the site that could not take the request', () => {
  // `odd` refused the request as unsupported: nothing was sent, so it recorded no failure, and as the
  // site that "failed" longest ago (never) it would be chosen again at every attempt.
  const telemetry = new Telemetry({ breaker: { failureThreshold: 1, cooldownMs: 600_000 } });
  const fail: SiteResult = { outcome: 'error', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: null, durationMs: 1, error: { status: 503, message: 'x', retryable: true } };
  for (const [id, at] of [['b', 900_000], ['c', 800_000]] as const) telemetry.onResult(telemetry.onPlaced(id, 'm', at), fail, at);
  const p = decide(fleet(simSite('odd'), simSite('b'), simSite('c')), { name: 'c', kind: 'cheapest' }, { telemetry, now: 960_000, exclude: new Set(['odd']) });
  assert.equal(p.chosen, 'c');
  assert.match(p.why, /trying c, which failed longest ago/);
});

test('a pin naming a simulated twin itself is served by the twin, key or not: only the real id moves to the real site', () => {
  const real = simSite('groq/x/lpu', { provider: 'groq', simulated: false, endpoint: { kind: 'openai-compatible', baseUrl: 'https://api.example/v1' } });
  const twin = simSite('sim:groq/x/lpu', { provider: 'groq' });
  const i = fleet(real, twin);
  const keyed = { hasKey: (p: string) => p === 'groq' };
  assert.equal(decide(i, { name: 'c', kind: 'cheapest' }, { ...keyed, pinSite: 'sim:groq/x/lpu' }).chosen, 'sim:groq/x/lpu');
  assert.equal(decide(i, { name: 'p', kind: 'pinned', site: 'sim:groq/x/lpu' }, keyed).chosen, 'sim:groq/x/lpu');
  assert.equal(decide(i, { name: 'ff', kind: 'first-fit', order: ['sim:groq/x/lpu'] }, keyed).chosen, 'sim:groq/x/lpu');
  // Named by its real id, the twin still stands down for the keyed real site.
  assert.equal(decide(i, { name: 'p', kind: 'pinned', site: 'groq/x/lpu' }, keyed).chosen, 'groq/x/lpu');
  assert.equal(decide(i, { name: 'ff', kind: 'first-fit', order: ['groq/x/lpu', 'sim:groq/x/lpu'] }, keyed).chosen, 'groq/x/lpu');
});

test('one slow answer does not keep the faster site out for good: once its measurements are 5 minutes old, fastest tries it again', async () => {
  const clock = new VirtualClock(1_000_000);
  const telemetry = new Telemetry();
  const router = new Router({ index: fleet(simSite('a', {}, { ttftMs: 300 }), simSite('b', {}, { ttftMs: 400 })) }, telemetry, clock, mulberry32(1));
  const request = { model: 'm', inputTokens: 100, maxOutputTokens: 100 };
  const fastest: Policy = { name: 'f', kind: 'fastest' };
  const once = async (ttftMs: (site: string) => number) => {
    const { placement, ticket } = router.place(request, fastest, { hasKey: () => false });
    await clock.advanceTo(clock.now() + 100);
    router.settle(ticket!, ok(ttftMs(placement.chosen!)));
    return placement.chosen;
  };
  assert.equal(await once(() => 100_000), 'a');
  assert.equal(await once(() => 400), 'b');
  await clock.advanceTo(clock.now() + 290_000);
  assert.equal(await once(() => 400), 'b', 'kept out while the slow answer is recent');
  await clock.advanceTo(clock.now() + 300_000);
  assert.equal(await once(() => 300), 'a');
});
