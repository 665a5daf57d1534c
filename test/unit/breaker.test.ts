import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker } from '../../daemon/engine/breaker';

test('closed -> open after N consecutive failures; a success in between resets the count', () => {
  const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000 });
  b.onFailure(0, false);
  b.onFailure(1, false);
  b.onSuccess();
  b.onFailure(2, false);
  b.onFailure(3, false);
  assert.equal(b.view(4).state, 'closed');
  b.onFailure(5, false);
  assert.deepEqual({ state: b.view(6).state, admits: b.view(6).admits }, { state: 'open', admits: false });
});

test('open -> half-open after the cool-down admits one probe only', () => {
  const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000 });
  b.onFailure(0, false);
  assert.equal(b.view(999).state, 'open');
  assert.equal(b.view(1000).state, 'half-open');
  assert.equal(b.onPlaced(1000), true);
  assert.equal(b.view(1001).admits, false);
  assert.equal(b.onPlaced(1001), false);
});

test('probe success closes; probe failure re-opens for another cool-down', () => {
  const ok = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000 });
  ok.onFailure(0, false);
  ok.onSuccess();
  assert.deepEqual({ state: ok.view(1).state, admits: ok.view(1).admits }, { state: 'closed', admits: true });

  const bad = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 1000 });
  for (let i = 0; i < 5; i++) bad.onFailure(i, false);
  const probe = bad.onPlaced(2000);
  bad.onFailure(2100, probe);
  assert.equal(bad.view(2200).state, 'open');
  assert.equal(bad.view(3100).state, 'half-open');
  assert.equal(bad.view(3100).lastFailureAt, 2100);
});

test('a cancelled probe frees the probe slot without closing', () => {
  const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10 });
  b.onFailure(0, false);
  b.onNeutral(b.onPlaced(20));
  assert.deepEqual({ state: b.view(21).state, admits: b.view(21).admits }, { state: 'half-open', admits: true });
});
