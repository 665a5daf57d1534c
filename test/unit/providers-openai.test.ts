// The production openai adapter against the fake openai upstream: see test/fakes/adapter-suite.ts.
// Below it, what only this client decides: it reads the socket itself, so it decodes content codings itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAdapter } from '../../daemon/providers/registry';
import { adapterSuite } from '../fakes/adapter-suite';
import { send, testSite } from '../fakes/sites';
import { startFake, type FakeUpstream } from '../fakes/upstream';

adapterSuite('openai', 'x-ratelimit-remaining-requests');

describe('openai adapter: content codings it cannot read', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('openai')));
  after(() => fake.stop());

  for (const stream of [true, false]) {
    test(`${stream ? 'streamed' : 'JSON'}: a coding it does not know is a retryable error that names it`, async () => {
      fake.enqueue({ encoding: 'zstd' });
      const s = testSite(fake, { endpoint: { stream } });
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'error');
      assert.equal(r.error?.retryable, true);
      assert.match(r.error!.message, /content coding .*zstd/);
      assert.equal(r.text, '');
    });

    test(`${stream ? 'streamed' : 'JSON'}: a body that is not in the coding its header names is a retryable error`, async () => {
      fake.enqueue({ headers: { 'content-encoding': 'gzip' } });
      const s = testSite(fake, { endpoint: { stream } });
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'error');
      assert.equal(r.error?.retryable, true);
      assert.match(r.error!.message, /could not be decoded \(gzip\)/);
    });
  }
});

describe('openai adapter: streamed calls numbered otherwise than OpenAI numbers them', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('openai')));
  after(() => fake.stop());
  const CALLS = [
    { id: 'call_a', name: 'get_weather', arguments: '{"city":"Helsinki"}' },
    { id: 'call_b', name: 'get_time', arguments: '{"zone":"Europe/Helsinki"}' },
  ];

  // Gemini's OpenAI compatibility and some proxies leave index out, or number every call 0; a new id still starts each call.
  for (const toolIndex of ['omitted', 'zero'] as const) {
    test(`index ${toolIndex}: each id starts a call of its own, its argument pieces follow it`, async () => {
      fake.enqueue({ pieces: [], toolCalls: CALLS, toolIndex });
      const s = testSite(fake);
      const r = await send(createAdapter(s), s, { tools: [{ name: 'get_weather' }, { name: 'get_time' }] });
      assert.equal(r.outcome, 'complete', r.error?.message);
      assert.deepEqual(r.toolCalls, CALLS);
      // The pieces the caller saw add up to the same calls.
      const byIndex = new Map<number, string>();
      for (const d of r.toolCallDeltas) byIndex.set(d.index, (byIndex.get(d.index) ?? '') + (d.arguments ?? ''));
      assert.deepEqual([...byIndex.values()], CALLS.map((c) => c.arguments));
    });
  }
});

describe('openai adapter: finish reasons beyond OpenAI\'s own (Mistral: error, model_length)', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('openai')));
  after(() => fake.stop());

  for (const stream of [true, false]) {
    test(`${stream ? 'streamed' : 'JSON'}: finish_reason "error" is the provider failing the answer: a cut after text, not complete`, async () => {
      fake.enqueue({ finishReason: 'error' });
      const s = testSite(fake, { provider: 'openai-compatible', kind: 'openai-compatible', endpoint: { stream } });
      const r = await send(createAdapter(s), s);
      assert.deepEqual([r.outcome, r.error?.retryable], ['cut', true], JSON.stringify(r.error));
      assert.match(r.error!.message, /finish_reason "error"/);
      assert.ok(r.usage, 'the usage that came is kept for the bill');
    });

    test(`${stream ? 'streamed' : 'JSON'}: finish_reason "error" before any text is a retryable error`, async () => {
      fake.enqueue({ finishReason: 'error', pieces: [] });
      const s = testSite(fake, { provider: 'openai-compatible', kind: 'openai-compatible', endpoint: { stream } });
      const r = await send(createAdapter(s), s);
      assert.deepEqual([r.outcome, r.error?.retryable], ['error', true], JSON.stringify(r.error));
    });

    test(`${stream ? 'streamed' : 'JSON'}: finish_reason "model_length" (the model's context filled up) ends as length`, async () => {
      fake.enqueue({ finishReason: 'model_length' });
      const s = testSite(fake, { provider: 'openai-compatible', kind: 'openai-compatible', endpoint: { stream } });
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'length', r.error?.message);
    });
  }
});

describe('openai adapter: reasoning streamed apart from the answer', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('openai')));
  after(() => fake.stop());

  test('reasoning_content is kept for the bill, never shown, and does not count as the first token', async () => {
    const thinking = ['Greeting requested; ', 'keep it short.'];
    const site = testSite(fake, { endpoint: { idleTimeoutMs: 1500 } });
    fake.enqueue({ thinking, pieces: ['Hi', '.'] });
    const r = await send(createAdapter(site), site);
    assert.deepEqual([r.outcome, r.text, r.deltas.join(''), r.reasoningText], ['complete', 'Hi.', 'Hi.', thinking.join('')]);

    fake.enqueue({ thinking, pieces: ['Hi', '.'], fault: { kind: 'cut', afterChunks: 0 } });
    const cut = await send(createAdapter(site), site);
    assert.deepEqual([cut.outcome, cut.ttftMs, cut.reasoningText], ['error', null, thinking.join('')]);
  });
});
