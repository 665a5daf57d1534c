// The production anthropic adapter against the fake anthropic upstream: see test/fakes/adapter-suite.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { billAttempt } from '../../daemon/meter/bill';
import { countTextTokens } from '../../daemon/meter/estimate';
import { createAdapter } from '../../daemon/providers/registry';
import { adapterSuite } from '../fakes/adapter-suite';
import { send, testSite } from '../fakes/sites';
import { startFake, type FakeUpstream } from '../fakes/upstream';

adapterSuite('anthropic', 'anthropic-ratelimit-requests-remaining');

describe('anthropic usage: cache writes by lifetime', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('anthropic')));
  after(() => fake.stop());

  for (const stream of [true, false]) {
    test(`${stream ? 'streamed' : 'JSON'}: the 1-hour share of the cache writes is read from cache_creation`, async () => {
      fake.enqueue({ usage: { input: 40, cached: 500, cacheWrite: 3000, cacheWrite1h: 2000, output: 6 } });
      const site = testSite(fake, { endpoint: { stream, idleTimeoutMs: 1500 } });
      const r = await send(createAdapter(site), site, { apiKey: 'sk-ant-test-0123456789abcdef' });
      assert.equal(r.outcome, 'complete');
      assert.deepEqual({ ...r.usage, raw: undefined }, { input: 40, cachedInput: 500, cacheWrite: 3000, cacheWrite1h: 2000, output: 6, reasoning: 0, raw: undefined });
    });
  }
});

describe('anthropic thinking', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('anthropic')));
  after(() => fake.stop());

  test('thinking streamed before the text is kept for the bill, never shown; a stream cut while thinking bills it', async () => {
    const thinking = ['The user wants a greeting. ', 'A short one will do, in English.'];
    const site = testSite(fake, { endpoint: { idleTimeoutMs: 1500 } });
    fake.enqueue({ thinking, pieces: ['Hello', '!'] });
    const whole = await send(createAdapter(site), site);
    assert.deepEqual([whole.outcome, whole.text, whole.reasoningText], ['complete', 'Hello!', thinking.join('')]);

    fake.enqueue({ thinking, pieces: ['Hello', '!'], fault: { kind: 'cut', afterChunks: 0 } });
    const cut = await send(createAdapter(site), site);
    assert.deepEqual([cut.outcome, cut.text, cut.deltas], ['error', '', []]);
    const { tokens } = billAttempt({ inputPer1M: 3, outputPer1M: 15, readOn: '2026-12-08' }, { outcome: cut.outcome, usage: cut.usage, messages: [], text: cut.text, reasoningText: cut.reasoningText, bytesReceived: 0 });
    assert.deepEqual([tokens.output, tokens.reasoning], [1 + countTextTokens(thinking.join('')), countTextTokens(thinking.join(''))]);
  });
});

describe('anthropic: empty turns', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('anthropic')));
  after(() => fake.stop());

  test('an assistant turn that said nothing is left out, not sent as the empty text block Anthropic refuses', async () => {
    const site = testSite(fake, { endpoint: { idleTimeoutMs: 1500 } });
    fake.enqueue({});
    const r = await send(createAdapter(site), site, { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: '' }, { role: 'user', content: 'Still there?' }] });
    assert.equal(r.outcome, 'complete');
    const messages = fake.requests[fake.requests.length - 1].body.messages as { role: string; content: { type: string; text?: string }[] }[];
    assert.deepEqual(messages.map((m) => m.role), ['user'], 'the two user turns, with nothing between them, go as one');
    assert.deepEqual(messages[0].content.map((c) => c.text), ['Hi', 'Still there?']);
  });
});
