import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Site } from '../../daemon/catalog/types';
import { billAttempt } from '../../daemon/meter/bill';
import { countTextTokens } from '../../daemon/meter/estimate';
import { AdapterPool } from '../../daemon/providers/pool';
import { createSimulatedAdapter } from '../../daemon/providers/simulated/adapter';
import { RealClock, VirtualClock } from '../../daemon/providers/simulated/clock';
import { mulberry32 } from '../../daemon/providers/simulated/rng';
import type { SiteResult } from '../../daemon/providers/types';
import { simSite } from './engine-fixtures';

function site(servers: number, over: Partial<NonNullable<Site['simulation']>> = {}): Site {
  return simSite('sim:groq/eu-helsinki/lpu', {
    provider: 'groq', location: 'Helsinki',
    simulation: { servers, ttftBaseMs: 100, ttftPerInputTokenMs: 0.1, jitter: 0.2, outputTokensPerSecond: 100, errorRate: 0, ...over },
  });
}

function send(adapter: ReturnType<typeof createSimulatedAdapter>, s: Site, content: string, maxTokens = 50, signal = new AbortController().signal, onDelta = (_: string) => {}) {
  return adapter.send({ site: s, model: s.models[0], messages: [{ role: 'user', content }], maxTokens, signal, onDelta });
}

test('Little\'s law holds on a long virtual-time run (L = lambda W within 3%)', async () => {
  const clock = new VirtualClock();
  const s = site(3);
  const adapter = createSimulatedAdapter(s, clock, 1, { replyTokens: () => 40, chunkMs: 1e9 });
  const rng = mulberry32(5);
  const results: Promise<SiteResult>[] = [];
  let t = 0;
  for (let i = 0; i < 4000; i++) {
    t += -Math.log(1 - rng()) * 220; // Poisson arrivals, ~0.91 utilisation at ~0.6 s service over 3 servers
    await clock.advanceTo(t);
    results.push(send(adapter, s, `req ${i} ${'x'.repeat(400)}`));
  }
  await clock.runUntilIdle();
  const done = await Promise.all(results);
  const stats = adapter.queue.stats();
  const meanW = done.reduce((sum, r) => sum + r.durationMs, 0) / done.length;
  const lambdaW = stats.arrivalRatePerMs * meanW;
  assert.ok(Math.abs(stats.meanInSystem - lambdaW) / lambdaW < 0.03, `L=${stats.meanInSystem} lambdaW=${lambdaW}`);
  assert.ok(done.some((r) => r.ttftMs! > 500), 'load made some requests queue');
});

test('TTFT grows with prompt length, waits in FIFO when all servers are busy, and queue depth is observable', async () => {
  const clock = new VirtualClock();
  const s = site(1, { jitter: 0 });
  const adapter = createSimulatedAdapter(s, clock, 1, { replyTokens: () => 10, chunkMs: 1e9 });
  const a = send(adapter, s, 'x'.repeat(4000), 10);
  const b = send(adapter, s, 'y'.repeat(40), 10);
  await clock.advanceTo(1);
  assert.equal(adapter.queue.depth, 1);
  await clock.runUntilIdle();
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.ttftMs, 100 + 0.1 * 1004); // 1000 tokens of text + 4 of framing
  assert.equal(ra.durationMs, ra.ttftMs! + 100); // 10 tokens at 100/s
  assert.equal(rb.ttftMs, ra.durationMs + 100 + 0.1 * 14);
  assert.equal(ra.usage?.input, 1004);
  assert.equal(ra.usage?.output, 10);
  assert.match(ra.text, /^\[simulated m at groq · Helsinki\] /);
});

test('deterministic under a seed; another seed differs', async () => {
  async function run(seed: number) {
    const clock = new VirtualClock();
    const s = site(2, { errorRate: 0.2 });
    const adapter = createSimulatedAdapter(s, clock, seed, { chunkMs: 1e9 });
    const out = Array.from({ length: 30 }, (_, i) => send(adapter, s, `prompt ${i}`, 500));
    await clock.runUntilIdle();
    return (await Promise.all(out)).map((r) => `${r.outcome}:${r.ttftMs}:${r.durationMs}:${r.usage?.output}`);
  }
  assert.deepEqual(await run(42), await run(42));
  assert.notDeepEqual(await run(42), await run(43));
});

test('cancel mid-stream gives outcome cancelled with the partial text', async () => {
  const clock = new VirtualClock();
  const s = site(1, { jitter: 0 });
  const adapter = createSimulatedAdapter(s, clock, 1, { replyTokens: () => 100 });
  const controller = new AbortController();
  let streamed = '';
  const pending = send(adapter, s, 'hello', 100, controller.signal, (d) => (streamed += d));
  await clock.advanceTo(100 + 2 + 300); // first token at ~102 ms, then 300 ms at 100 tokens/s
  controller.abort();
  await clock.runUntilIdle();
  const r = await pending;
  assert.equal(r.outcome, 'cancelled');
  assert.equal(r.text, streamed);
  assert.ok(r.usage!.output >= 25 && r.usage!.output <= 31, `output ${r.usage!.output}`);
  assert.equal(adapter.queue.inService, 0);
  // Billed as the site counted, one token per word: the label around the words is no output, and the
  // tokenizer's count of the text (label included) must not stand in for it.
  const { tokens } = billAttempt(s.models[0].price, { outcome: r.outcome, usage: r.usage, messages: [], text: r.text, bytesReceived: r.bytesReceived });
  assert.ok(countTextTokens(r.text) > r.usage!.output, 'the text counts more than the words');
  assert.deepEqual([tokens.output, tokens.estimated], [r.usage!.output, false]);
});

test('an outage fails requests with a retryable 503 and cuts a stream that runs into it', async () => {
  const clock = new VirtualClock();
  const s = site(2, { jitter: 0, outages: [{ startMs: 500, endMs: 2000 }] });
  const adapter = createSimulatedAdapter(s, clock, 1, { replyTokens: () => 100, chunkMs: 1e9 });
  const cut = send(adapter, s, 'a', 100);
  await clock.advanceTo(600);
  const refused = send(adapter, s, 'b', 100);
  await clock.runUntilIdle();
  assert.equal((await cut).outcome, 'cut');
  const r = await refused;
  assert.deepEqual([r.outcome, r.error?.status, r.error?.retryable], ['error', 503, true]);
});

test('a real clock with a speed multiplier streams a whole chat in well under a second', async () => {
  const s = site(1);
  const adapter = createSimulatedAdapter(s, new RealClock(200), 1, { replyTokens: () => 200 });
  let deltas = 0;
  const started = Date.now();
  const r = await send(adapter, s, 'hi there', 200, new AbortController().signal, () => deltas++);
  assert.equal(r.outcome, 'complete');
  assert.equal(r.usage?.output, 200);
  // Piece count and wall time depend on how busy the machine is; that the stream came in pieces and
  // ran faster than its own simulated duration does not.
  assert.ok(deltas > 1, 'streamed in pieces');
  assert.ok(Date.now() - started < r.durationMs, 'the clock ran faster than wall time');
});

test('a stop sequence ends the simulated answer where it would appear, complete, billed for the words before it', async () => {
  const clock = new VirtualClock();
  const s = site(1, { jitter: 0 });
  const adapter = createSimulatedAdapter(s, clock, 1, { replyTokens: () => 40 });
  let streamed = '';
  const pending = adapter.send({ site: s, model: s.models[0], messages: [{ role: 'user', content: 'hi' }], maxTokens: 100, stop: ['magna', 'never'], signal: new AbortController().signal, onDelta: (d) => (streamed += d) });
  await clock.runUntilIdle();
  const r = await pending;
  assert.equal(r.outcome, 'complete');
  assert.equal(r.text, streamed);
  assert.ok(r.text.endsWith('dolore '), r.text);
  assert.ok(!r.text.includes('magna'));
  // "magna" is the 18th word of the lorem text: 17 words were produced before it.
  assert.equal(r.usage!.output, 17);
});

test('a cancel while the request is heading for a simulated error is cancelled, not a retryable 500', async () => {
  const clock = new VirtualClock();
  const s = site(1, { ttftBaseMs: 1000, ttftPerInputTokenMs: 0, jitter: 0, errorRate: 1 });
  const adapter = createSimulatedAdapter(s, clock, 1);
  const controller = new AbortController();
  const pending = send(adapter, s, 'hi', 10, controller.signal);
  await clock.advanceTo(100); // the error would come at 500 ms
  controller.abort();
  await clock.runUntilIdle();
  const r = await pending;
  assert.deepEqual([r.outcome, r.error], ['cancelled', undefined]);
  assert.equal(adapter.queue.inService, 0);
});

test('a request cancelled before it reaches a full site\'s queue is cancelled at once, without waiting for a server', async () => {
  const clock = new VirtualClock();
  const s = site(1, { jitter: 0 });
  const adapter = createSimulatedAdapter(s, clock, 1, { replyTokens: () => 10, chunkMs: 1e9 });
  const busy = send(adapter, s, 'x', 10);
  await clock.advanceTo(1);
  const abort = new AbortController();
  abort.abort();
  const late = adapter.send({ site: s, model: s.models[0], messages: [{ role: 'user', content: 'y' }], maxTokens: 10, signal: abort.signal, onDelta: () => {} });
  await clock.advanceTo(2);
  const settled = await Promise.race([late.then((r) => r.outcome), new Promise((resolve) => setImmediate(() => resolve('still waiting')))]);
  assert.equal(settled, 'cancelled');
  assert.equal(adapter.queue.depth, 0, 'it never joined the queue');
  await clock.runUntilIdle();
  await busy;
});

test('a catalog reload keeps a twin\'s queue and its outage clock: requests in service keep their servers, outages count from the start', async () => {
  const clock = new VirtualClock();
  const pool = new AdapterPool(clock, 1, () => { throw new Error('no real sites here'); });
  const before = site(1, { jitter: 0, outages: [{ startMs: 5000, endMs: 6000 }] });
  const first = send(pool.get(before) as ReturnType<typeof createSimulatedAdapter>, before, 'first', 100);
  await clock.advanceTo(150);
  // The reload makes every site anew, the same in substance.
  const after = { ...before, simulation: { ...before.simulation! } };
  const reloaded = pool.get(after) as ReturnType<typeof createSimulatedAdapter>;
  const second = send(reloaded, after, 'second', 10);
  await clock.advanceTo(200);
  assert.deepEqual([reloaded.queue.inService, reloaded.queue.depth], [1, 1], 'the one server is still busy with the first request');
  await clock.runUntilIdle();
  assert.deepEqual([(await first).error, (await second).error], [undefined, undefined]);

  await clock.advanceTo(5500);
  const late = { ...after, simulation: { ...after.simulation! } };
  const r = await send(pool.get(late) as ReturnType<typeof createSimulatedAdapter>, late, 'third');
  assert.deepEqual([r.outcome, r.error?.status], ['error', 503], 'inside the outage window, counted from when the simulation began');
});
