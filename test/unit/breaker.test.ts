import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker } from '../../daemon/engine/breaker';

test('closed -> open after N consecutive failures; a success in between resets the count', () => {
  const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000 });
  b.onFailure(0, 0);
  b.onFailure(1, 0);
  b.onSuccess();
  b.onFailure(2, 0);
  b.onFailure(3, 0);
  assert.equal(b.view(4).state, 'closed');
  b.onFailure(5, 0);
  assert.deepEqual({ state: b.view(6).state, admits: b.view(6).admits }, { state: 'open', admits: false });
});

test('open -> half-open after the cool-down admits one probe only', () => {
  const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000 });
  b.onFailure(0, 0);
  assert.equal(b.view(999).state, 'open');
  assert.equal(b.view(1000).state, 'half-open');
  assert.equal(b.onPlaced(1000), 1);
  assert.equal(b.view(1001).admits, false);
  assert.equal(b.onPlaced(1001), 0);
});

test('probe success closes; probe failure re-opens for another cool-down', () => {
  const ok = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000 });
  ok.onFailure(0, 0);
  ok.onSuccess();
  assert.deepEqual({ state: ok.view(1).state, admits: ok.view(1).admits }, { state: 'closed', admits: true });

  const bad = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 1000 });
  for (let i = 0; i < 5; i++) bad.onFailure(i, 0);
  const probe = bad.onPlaced(2000);
  bad.onFailure(2100, probe);
  assert.equal(bad.view(2200).state, 'open');
  assert.equal(bad.view(3100).state, 'half-open');
  assert.equal(bad.view(3100).lastFailureAt, 2100);
});

test('a cancelled probe frees the probe slot without closing', () => {
  const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10 });
  b.onFailure(0, 0);
  b.onNeutral(b.onPlaced(20));
  assert.deepEqual({ state: b.view(21).state, admits: b.view(21).admits }, { state: 'half-open', admits: true });
});

test('a probe overtaken by another success settles as an ordinary request: one failure does not re-open, a cancel frees no slot', () => {
  const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000 });
  for (let i = 0; i < 3; i++) b.onFailure(i, 0);
  const stale = b.onPlaced(1002);
  b.onSuccess(); // an older request, or a teammate, saw the site answer while the probe was out
  b.onFailure(1010, stale);
  assert.deepEqual({ state: b.view(1011).state, failures: b.view(1011).consecutiveFailures }, { state: 'closed', failures: 1 });

  const c = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000 });
  c.onFailure(0, 0);
  const overtaken = c.onPlaced(1000);
  c.onSuccess();
  c.onFailure(1001, 0);
  const current = c.onPlaced(2001);
  assert.ok(current > 0);
  c.onNeutral(overtaken);
  assert.equal(c.view(2002).admits, false, 'the current probe still holds the slot');
  c.onFailure(2003, current);
  assert.deepEqual({ state: c.view(2004).state, admits: c.view(2004).admits }, { state: 'open', admits: false });
});
