// The placement benchmark's baselines behave as the routers they are named after, and its replay
// serves a request as the daemon does.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MODEL, replay } from '../../bench/placement/replay';
import { enginePolicy, litellmLatency, roundRobin, type Decision, type StrategyFactory } from '../../bench/placement/strategies';
import { loadTrace } from '../../bench/placement/trace';
import { buildCatalog } from '../../daemon/catalog/merge';
import type { Site } from '../../daemon/catalog/types';
import { PolicyBook } from '../../daemon/engine/policyBook';
import type { SiteResult } from '../../daemon/providers/types';
import { simSite } from './engine-fixtures';

const sites: Site[] = ['a', 'b', 'c', 'd'].map((id) => simSite(id));
const request = { model: 'm', inputTokens: 100, maxOutputTokens: 4096 };
/** A success that took `secondsPerToken` per completion token (LiteLLM's latency sample). */
const took = (secondsPerToken: number): SiteResult => ({
  outcome: 'complete', text: '', headers: {}, bytesReceived: 0, ttftMs: 100, durationMs: secondsPerToken * 100 * 1000,
  usage: { input: 100, cachedInput: 0, cacheWrite: 0, output: 100, reasoning: 0, raw: {}, final: true },
});

function router() {
  let now = 0;
  const strategy = litellmLatency(sites, { now: () => now, sleep: async () => {} }, 7);
  return { strategy, at: (ms: number) => (now = ms), pick: () => strategy.choose(request, new Set()) };
}

/** Decides until `id` is chosen (LiteLLM picks among equals at random), at most 200 times. */
function until(pick: () => Decision, id: string): Decision {
  for (let k = 0; k < 200; k++) {
    const d = pick();
    if (d.siteId === id) return d;
  }
  assert.fail(`${id} never chosen`);
}

const spread = (pick: () => { siteId: string }, n = 400) => {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = pick().siteId;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
};

test('litellm-latency: untried deployments read 0 and LiteLLM picks among equals at random, not the first', () => {
  const { pick } = router();
  const counts = spread(pick);
  assert.equal(counts.size, sites.length, JSON.stringify([...counts]));
  for (const n of counts.values()) assert.ok(n > 50, JSON.stringify([...counts]));
});

test('litellm-latency: the 0 written for an untried deployment stays among its samples until ten later ones push it out', () => {
  const { pick } = router();
  until(pick, 'a').done(took(1)); // LiteLLM's map is made: a reads 1
  const second = until(pick, 'b'); // b, c and d are written into it with a sample of 0
  // c and d: tried once, slow, so they lose to a and b from here on.
  for (const id of ['c', 'd']) until(pick, id).done(took(50));
  second.done(took(1)); // b's samples: 0 and 1, mean 0.5
  assert.deepEqual([...spread(pick, 20).keys()], ['b']);
  // Eight more of 1 s/token: b has ten samples, the 0 among them (mean 0.9).
  for (let k = 0; k < 8; k++) pick().done(took(1));
  assert.deepEqual([...spread(pick, 20).keys()], ['b']);
  // The tenth since the 0 pushes it out: a and b both read 1, and LiteLLM picks either.
  pick().done(took(1));
  assert.deepEqual([...spread(pick, 200).keys()].sort(), ['a', 'b']);
});

test('litellm-latency: the map is gone an hour after its first write, later writes do not renew it', () => {
  const { pick, at } = router();
  for (const id of ['a', 'b', 'c', 'd']) until(pick, id).done(took(id === 'a' ? 1 : 50));
  at(3_000_000);
  pick().done(took(1)); // a again, within the hour
  assert.deepEqual([...spread(pick, 20).keys()], ['a']);
  at(3_600_001);
  // No map: every deployment reads 0 again.
  assert.equal(spread(pick).size, sites.length);
});

test('bench replay: after a failure the engine places the next attempt at once, as the daemon does, and sends it after the backoff', async () => {
  const [cheapSite, dearSite] = buildCatalog().sites.filter((s) => s.simulated && !s.disabled && s.models.some((m) => m.canonical === MODEL))
    .sort((a, b) => a.models.find((m) => m.canonical === MODEL)!.price.inputPer1M - b.models.find((m) => m.canonical === MODEL)!.price.inputPer1M)
    .filter((_, i, all) => i === 0 || i === all.length - 1);
  // The cheap site always fails, halfway to its 200 ms first token; the dear one never does.
  const at = (site: Site, errorRate: number) =>
    ({ ...site, simulation: { ...site.simulation!, servers: 100, ttftBaseMs: 200, ttftPerInputTokenMs: 0, jitter: 0, errorRate, models: undefined } });
  const fleet = [at(cheapSite, 1), at(dearSite, 0)];
  const timed = (factory: StrategyFactory, times: number[]): StrategyFactory => (s, clock, seed) => {
    const inner = factory(s, clock, seed);
    return { ...inner, choose: (req, failed) => (times.push(clock.now()), inner.choose(req, failed)) };
  };
  const engine: number[] = [];
  const [served] = await replay([{ at: 0, input: 100, output: 50 }], 1, fleet, timed(enginePolicy(new PolicyBook().get('cheapest')), engine), 7);
  assert.deepEqual(engine, [0, 100]);
  assert.equal(served.siteId, dearSite.id);
  // 100 ms to the error, 50-100 ms of backoff, 200 ms to the first token at the dear site.
  assert.ok(served.ttftMs! >= 350 && served.ttftMs! <= 400, `first token after ${served.ttftMs} ms`);
  // A baseline's router chooses again when it retries, after its pause.
  const baseline: number[] = [];
  await replay([{ at: 0, input: 100, output: 50 }], 1, fleet, timed(roundRobin, baseline), 7);
  assert.equal(baseline.length, 2);
  assert.ok(baseline[1] >= 150 && baseline[1] <= 200, `chose again at ${baseline[1]} ms`);
});

test('bench traces: arrivals count from the earliest request wherever it is listed, and a row misread is refused by its line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-trace-'));
  try {
    const file = (name: string, ...rows: string[]) => {
      writeFileSync(path.join(dir, name), ['TIMESTAMP,ContextTokens,GeneratedTokens', ...rows].join('\n') + '\n');
      return path.join(dir, name);
    };
    assert.deepEqual(loadTrace(file('unsorted.csv', '2023-11-16 18:15:50.0000000,100,50', '2023-11-16 18:15:46.5000000,200,60')), [
      { at: 0, input: 200, output: 60 },
      { at: 3500, input: 100, output: 50 },
    ]);
    const bad = file('bad.csv', '2023-11-16 18:15:50.0000000,100,50', '2023-11-16 18:15:51.0000000,1oo,50');
    assert.throws(() => loadTrace(bad), (e: Error) => e.message.includes('bad.csv, line 3') && e.message.includes('1oo'));
    assert.throws(() => loadTrace(file('empty.csv')), /no requests/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
