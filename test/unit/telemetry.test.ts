import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ewma } from '../../daemon/engine/ewma';
import { Telemetry } from '../../daemon/engine/telemetry';
import type { SiteResult } from '../../daemon/providers/types';

const ok = (ttftMs: number, durationMs: number, extra: Partial<SiteResult> = {}): SiteResult =>
  ({ outcome: 'complete', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs, durationMs, ...extra });

test('EWMA: first sample is the value; frequent samples move it by the floor weight', () => {
  const e = new Ewma({ tauMs: 60_000, minAlpha: 0.1 });
  e.add(100, 0);
  assert.equal(e.value, 100);
  e.add(200, 10);
  assert.ok(Math.abs(e.value! - 110) < 1e-9);
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
