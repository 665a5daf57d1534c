import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LOG_ERROR, Ewma, LogError } from '../../daemon/engine/ewma';
import { Telemetry } from '../../daemon/engine/telemetry';
import type { SiteResult } from '../../daemon/providers/types';

const ok = (ttftMs: number, durationMs: number, extra: Partial<SiteResult> = {}): SiteResult =>
  ({ outcome: 'complete', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs, durationMs, ...extra });

test('EWMA: the first samples are averaged; then frequent samples move it by the floor weight', () => {
  const e = new Ewma({ tauMs: 60_000, minAlpha: 0.1 });
  e.add(100, 0);
  assert.equal(e.value, 100);
  e.add(200, 10);
  assert.ok(Math.abs(e.value! - 150) < 1e-9);
  for (let k = 3; k <= 10; k++) e.add(150, 10 * k);
  assert.ok(Math.abs(e.value! - 150) < 1e-9); // the mean of ten samples
  e.add(250, 110);
  assert.ok(Math.abs(e.value! - 160) < 1e-9); // the eleventh moves it by the floor's tenth
});

test('log error: no margin until minSamples, then the mean and spread of the samples; forgotten when stale', () => {
  const e = new LogError({ minSamples: 4, staleMs: 1000, minAlpha: 0.02 });
  for (const [x, at] of [[0.1, 0], [-0.1, 1], [0.3, 2]]) e.add(x, at);
  assert.equal(e.mean(3), 0);
  assert.equal(e.sd(3), 0);
  e.add(0.1, 3);
  assert.ok(Math.abs(e.mean(4) - 0.1) < 1e-12);
  assert.ok(Math.abs(e.sd(4) - Math.sqrt(0.02)) < 1e-12); // population sd of 0.1, -0.1, 0.3, 0.1
  assert.equal(e.mean(1003), 0); // a record a staleMs old says nothing
  e.add(0.5, 1003);
  assert.equal(e.samples, 1); // and the count starts again
  assert.equal(e.sd(1003), 0);
});

test('EWMA: a sample after a long silence nearly replaces the value', () => {
  const e = new Ewma({ tauMs: 60_000, minAlpha: 0.1 });
  e.add(100, 0);
  e.add(200, 600_000);
  assert.ok(e.value! > 199.99);
});

test('in flight counts from placement and is released exactly once per ticket', () => {
  const t = new Telemetry();
  const a = t.onPlaced('s', 'm', 0);
  t.onPlaced('s', 'm', 0);
  assert.equal(t.load('s', 'm', 0).inFlight, 2);
  t.onResult(a, ok(100, 200), 200);
  t.onResult(a, ok(100, 200), 200);
  assert.equal(t.load('s', 'm', 200).inFlight, 1);
});

test('samples from requests that queued behind our own do not teach the site speed', () => {
  const t = new Telemetry();
  const first = t.onPlaced('s', 'm', 0, 0, 1);
  const queued = t.onPlaced('s', 'm', 0, 0, 1);
  t.onResult(first, ok(100, 300), 300, 20);
  t.onResult(queued, ok(400, 600), 600, 20);
  assert.equal(t.load('s', 'm', 600).ttftBaseMs, 100);
});

test('error rate, queue depth and rate-limit headroom come from results; a 400 does not trip the breaker', () => {
  const t = new Telemetry({ breaker: { failureThreshold: 1, cooldownMs: 1000 } });
  t.onResult(t.onPlaced('s', 'm', 0), { ...ok(0, 1), outcome: 'error', ttftMs: null, error: { status: 400, message: 'bad', retryable: false } }, 1);
  assert.equal(t.snapshot('s', 2).breaker, 'closed');
  t.onResult(t.onPlaced('s', 'm', 0), ok(50, 100, { queueDepth: 3, headers: { 'x-ratelimit-remaining-requests': '25', 'x-ratelimit-limit-requests': '100' } }), 3);
  t.onResult(t.onPlaced('s', 'm', 0), { ...ok(0, 1), outcome: 'error', ttftMs: null, error: { status: 503, message: 'down', retryable: true } }, 4);
  const snap = t.snapshot('s', 5);
  assert.equal(snap.queueDepth, 3);
  assert.equal(snap.headroom, 0.25);
  assert.equal(snap.breaker, 'open');
  assert.ok(snap.errorRate > 0 && snap.errorRate < 1);
});

test('a request the site\'s wire cannot express teaches nothing: in flight released, no error sample, breaker and probe untouched, nothing shared', () => {
  const t = new Telemetry({ breaker: { failureThreshold: 1, cooldownMs: 1000 } });
  const unsupported = { ...ok(0, 1), outcome: 'error' as const, ttftMs: null, error: { message: 'system messages are only supported at the beginning of the conversation', retryable: true, unsupported: true as const } };
  assert.equal(t.onResult(t.onPlaced('s', 'm', 0), unsupported, 1), null);
  const snap = t.snapshot('s', 2);
  assert.equal(snap.breaker, 'closed');
  assert.equal(snap.errorRate, 0);
  assert.equal(snap.inFlight, 0);
});

test('TTFT errors are logged against the figure placement hands over, from the first result, unqueued requests only', () => {
  const t = new Telemetry();
  // Alternately 20% late and 20% early against an expected 100 ms.
  for (let k = 0; k < DEFAULT_LOG_ERROR.minSamples; k++) {
    t.onResult(t.onPlaced('s', 'm', 100 + k, 0, 4, 100), ok(k % 2 ? 120 : 100 / 1.2, 300), 100 + k);
  }
  const load = t.load('s', 'm', 200);
  assert.ok(Math.abs(load.ttftErrorMean) < 1e-9);
  assert.ok(Math.abs(load.ttftErrorSd - Math.log(1.2)) < 1e-9);
  // A request placed behind our own teaches nothing, and neither does one with no expectation.
  const busy = new Telemetry();
  for (let k = 0; k < 30; k++) busy.onResult(busy.onPlaced('s', 'm', k, 0, 1, 100), ok(100, 200), k);
  const first = busy.onPlaced('s', 'm', 40, 0, 1, 100);
  for (let k = 0; k < 20; k++) busy.onResult(busy.onPlaced('s', 'm', 40, 0, 1, 100), ok(900, 1000), 50);
  for (let k = 0; k < 20; k++) busy.onResult(busy.onPlaced('s', 'm', 60), ok(900, 1000), 60);
  busy.onResult(first, ok(100, 200), 60);
  assert.equal(busy.load('s', 'm', 60).ttftErrorMean, 0);
});

test('a teammate\'s observation teaches speed, errors, the breaker and rate limits, and leaves this daemon\'s in-flight count alone', () => {
  const local = new Telemetry();
  const ticket = local.onPlaced('s', 'm', 0, 0, 4, 300);
  const learned = local.onResult(ticket, ok(300, 1300, { usage: { input: 5, cachedInput: 0, cacheWrite: 0, output: 50, reasoning: 0, raw: {} } }), 10)!;
  assert.deepEqual(learned, { siteId: 's', model: 'm', queued: false, prefillMs: 0, expectedTtftMs: 300, outcome: 'complete', ttftMs: 300, durationMs: 1300, outputTokens: 50, headroom: null });
  assert.equal(local.onResult(ticket, ok(1, 1), 11), null, 'a second settle teaches nothing to share');

  const teammate = new Telemetry();
  teammate.onPlaced('s', 'm', 0); // one of its own, in flight
  teammate.observe(learned, 20);
  let seen = teammate.snapshot('s', 20);
  assert.equal(seen.inFlight, 1);
  assert.equal(seen.ttftMs, 300);
  assert.equal(seen.outputTokensPerSecond, 50);

  const failed = { ...learned, outcome: 'error' as const, ttftMs: null, error: { status: 500, retryable: true } };
  for (let k = 0; k < 5; k++) teammate.observe(failed, 30 + k);
  seen = teammate.snapshot('s', 40);
  assert.equal(seen.breaker, 'open');
  assert.equal(seen.inFlight, 1);

  const limited = new Telemetry();
  limited.observe({ ...failed, error: { status: 429, retryable: true, retryAfterMs: 2000 } }, 1000);
  assert.equal(limited.load('s', 'm', 2999).admits, false, 'left alone while the site asked to wait');
  assert.equal(limited.snapshot('s', 1500).rateLimitedMs, 1500, 'the Sites view says so, and for how long');
  assert.equal(limited.load('s', 'm', 3001).admits, true);
  assert.equal(limited.snapshot('s', 3001).rateLimitedMs, 0);

  // A Retry-After of years is honoured for a day at most.
  limited.observe({ ...failed, error: { status: 429, retryable: true, retryAfterMs: 1e12 } }, 10_000);
  assert.equal(limited.snapshot('s', 10_000).rateLimitedMs, 86_400_000);
  assert.equal(limited.load('s', 'm', 10_000 + 86_400_001).admits, true);
});

test('a whole (unstreamed) answer teaches the service time, errors and the breaker, but no time to first token or output speed', () => {
  const t = new Telemetry({ breaker: { failureThreshold: 1, cooldownMs: 1000 } });
  t.onResult(t.onPlaced('s', 'm', 0), { ...ok(0, 1), outcome: 'error', ttftMs: null, error: { status: 503, message: 'down', retryable: true } }, 0);
  // The probe's JSON answer: the whole text at 2000 ms, its "first token" a few microseconds before its last.
  const whole = ok(2000, 2000.01, { streamed: false, usage: { input: 10, cachedInput: 0, cacheWrite: 0, output: 500, reasoning: 0 } });
  const learned = t.onResult(t.onPlaced('s', 'm', 1000, 0, 4, 300), whole, 3000)!;
  assert.equal(learned.ttftMs, null, 'shared with the team as not measured');
  const load = t.load('s', 'm', 3001);
  assert.deepEqual([load.ttftBaseMs, load.outputTokensPerSecond, load.serviceMs, load.ttftErrorMean], [null, null, 2000.01, 0]);
  assert.equal(load.breaker, 'closed');
  assert.equal(t.snapshot('s', 3001).errorRate, 0.5, 'the failure, then the success');
});

test('a probe overtaken by another success settles as an ordinary request', () => {
  const t = new Telemetry({ breaker: { failureThreshold: 5, cooldownMs: 30_000 } });
  const old = t.onPlaced('s', 'm', 0);
  for (let i = 1; i <= 5; i++) t.onResult(t.onPlaced('s', 'm', i), { ...ok(0, 5), outcome: 'error', ttftMs: null, error: { status: 503, message: 'x', retryable: true } }, i);
  const probe = t.onPlaced('s', 'm', 30_005);
  assert.ok(probe.probe);
  t.onResult(old, ok(50, 100), 30_010); // closes the breaker while the probe is out
  t.onResult(probe, { ...ok(0, 5), outcome: 'error', ttftMs: null, error: { status: 503, message: 'x', retryable: true } }, 30_020);
  assert.deepEqual([t.load('s', 'm', 30_021).breaker, t.load('s', 'm', 30_021).consecutiveFailures], ['closed', 1]);
});

test('a sample whose derived figure is not finite is skipped: the averages stay numbers, and valid samples still teach', () => {
  const t = new Telemetry();
  const ordinary = { siteId: 's', model: 'm', queued: false, prefillMs: 0, expectedTtftMs: 100, outcome: 'complete' as const, ttftMs: 100, durationMs: 1100, outputTokens: 100, headroom: null };
  // Finite figures each, from a teammate: 9e15 tokens streamed in 1e-300 ms, against an expected TTFT of 5e-324 ms.
  t.observe({ ...ordinary, ttftMs: 0, durationMs: 1e-300, outputTokens: 9e15, expectedTtftMs: 5e-324 }, 0);
  for (let k = 1; k <= DEFAULT_LOG_ERROR.minSamples; k++) t.observe(ordinary, k);
  const load = t.load('s', 'm', 10);
  assert.equal(load.outputTokensPerSecond, 100);
  assert.ok(Number.isFinite(load.ttftErrorMean) && Number.isFinite(load.ttftErrorSd), `${load.ttftErrorMean} ± ${load.ttftErrorSd}`);
  assert.equal(load.ttftErrorMean, 0);
  assert.ok(Number.isFinite(load.ttftBaseMs!) && Number.isFinite(load.serviceMs!));
});

test('measured speeds do not outlive their samples: 5 minutes after the last, a site reads as unmeasured, so one slow answer cannot keep it out for good', () => {
  const t = new Telemetry();
  for (let k = 0; k < 20; k++) t.onResult(t.onPlaced('s', 'm', k * 100), ok(300, 1300, { usage: { input: 5, cachedInput: 0, cacheWrite: 0, output: 100, reasoning: 0 } }), k * 100);
  // One first token after 100 s (within the 120 s idle timeout): a tenth of it is 10 s on the estimate,
  // under which `fastest` never sends the site the request that would correct it.
  t.onResult(t.onPlaced('s', 'm', 2000), ok(100_000, 101_000, { usage: { input: 5, cachedInput: 0, cacheWrite: 0, output: 100, reasoning: 0 } }), 102_000);
  const slow = t.load('s', 'm', 102_000).ttftBaseMs!;
  assert.ok(slow > 10_000);
  assert.ok(t.load('s', 'm', 102_000 + 299_999).ttftBaseMs! > 10_000, 'still the estimate within the 5 minutes');
  const later = t.load('s', 'm', 102_000 + 300_000);
  assert.deepEqual([later.ttftBaseMs, later.outputTokensPerSecond, later.serviceMs], [null, null, null]);
  const snap = t.snapshot('s', 102_000 + 300_000);
  assert.deepEqual([snap.ttftMs, snap.outputTokensPerSecond], [null, null], 'the sites view shows what placement uses');
  // Another model's fresh figure is shown rather than nothing, though it has fewer samples.
  t.onResult(t.onPlaced('s', 'n', 400_000), ok(250, 1250), 400_000);
  assert.equal(t.snapshot('s', 402_000).ttftMs, 250);
  // The next answer all but replaces it, at the weight of a sample after 5 minutes' silence.
  t.onResult(t.onPlaced('s', 'm', 402_000), ok(310, 1310), 402_000);
  assert.ok(Math.abs(t.load('s', 'm', 402_000).ttftBaseMs! - (slow + (1 - Math.exp(-5)) * (310 - slow))) < 1e-6);
});
