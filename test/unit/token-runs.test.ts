// The tokenizer's merge step is quadratic in the length of a run without whitespace: one long run (a
// base64 blob, minified code, a page of CJK text) in a prompt or a countTokens request held the daemon,
// and every window it serves, for minutes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countTextTokens, warmTokenizer } from '../../daemon/meter/estimate';

const cjk = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 20000))).join('');

test('long runs without whitespace are counted in bounded time, within a fraction of a percent of the exact count', () => {
  warmTokenizer();
  const started = performance.now();
  // About 10 s each before: 100,000 of one letter, 30,000 CJK characters.
  const letters = countTextTokens('a'.repeat(100_000));
  const han = countTextTokens(cjk(30_000));
  const ms = performance.now() - started;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  assert.equal(letters, 12_500, 'eight letters a token, as the exact count has it');
  assert.ok(han > 50_000, `${han} tokens`);
  // Ordinary text is counted exactly as before; a long run loses at most a token per slice.
  assert.equal(countTextTokens('The quick brown fox jumps over the lazy dog. '.repeat(1000)), 10_001);
  const blob = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + (i >> 3)) & 255)).toString('base64');
  const exact = 2_745;
  assert.ok(Math.abs(countTextTokens(blob) - exact) / exact < 0.01, `${countTextTokens(blob)} vs ${exact}`);
});
