// The production gemini adapter against the fake gemini upstream: see test/fakes/adapter-suite.ts.
// Below it, what only Gemini's usage needs: partial usageMetadata, and long decode's hops.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Site } from '../../daemon/catalog/types';
import { geminiTracker } from '../../daemon/providers/gemini';
import { createAdapter } from '../../daemon/providers/registry';
import { adapterSuite } from '../fakes/adapter-suite';
import { send, testModel, testSite } from '../fakes/sites';
import { startFake } from '../fakes/upstream';

adapterSuite('gemini', 'x-goog-fake');

test('a system message mid-conversation, which Gemini cannot take: nothing is sent, and another site may serve it without blame on this one', async () => {
  const fake = await startFake('gemini');
  try {
    const site = testSite(fake);
    const r = await send(createAdapter(site), site, {
      messages: [{ role: 'user', content: 'Hello.' }, { role: 'assistant', content: 'Hi.' }, { role: 'system', content: 'From now on, answer in French.' }, { role: 'user', content: 'Thanks.' }],
    });
    assert.equal(r.outcome, 'error');
    assert.deepEqual(r.error, { message: 'this site\'s API cannot take the request as sent: system messages are only supported at the beginning of the conversation', retryable: true, unsupported: true });
    assert.equal(fake.requests.length, 0);
  } finally {
    await fake.stop();
  }
});

test('a usageMetadata without a prompt count (Vertex streams some with only cachedContentTokenCount) is no usage report', () => {
  const tracker = geminiTracker();
  tracker.chunk({ candidates: [{ content: { parts: [{ text: 'Hello' }], role: 'model' }, index: 0 }], usageMetadata: { cachedContentTokenCount: 5100, trafficType: 'ON_DEMAND' } });
  // Not a prompt of 0 tokens: a stream cut here has its prompt counted by the meter.
  const sofar = tracker.usage;
  assert.equal(sofar, null);
  tracker.chunk({ candidates: [{ content: { parts: [{ text: '!' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 5105, cachedContentTokenCount: 5100, candidatesTokenCount: 16, totalTokenCount: 5121 } });
  assert.deepEqual({ ...tracker.usage, raw: undefined }, { input: 5, cachedInput: 5100, cacheWrite: 0, output: 16, reasoning: 0, raw: undefined });
});

describe('gemini long decode: every hop the library continues is billed', () => {
  // Hop 1 stops at the per-request cap with CONTINUATION; the library sends the request again with the
  // token, and hop 2 re-reads the prompt and everything generated so far (mostly from the cache).
  const HOPS = [
    { text: 'First half, ', finishReason: 'CONTINUATION', continuationToken: 'hop-1', usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: 60_000, thoughtsTokenCount: 5536, totalTokenCount: 66_536 } },
    { text: 'second half.', finishReason: 'STOP', usageMetadata: { promptTokenCount: 66_536, cachedContentTokenCount: 63_000, candidatesTokenCount: 20_000, totalTokenCount: 86_536 } },
  ];
  const bodies: { continuationToken?: string }[] = [];
  let server: http.Server;
  let baseUrl = '';
  before(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const body = JSON.parse(raw) as { continuationToken?: string };
        bodies.push(body);
        const hop = HOPS[body.continuationToken === 'hop-1' ? 1 : 0];
        const candidate = (text: string, end: boolean) => ({
          content: { parts: [{ text }], role: 'model' }, index: 0,
          ...(end ? { finishReason: hop.finishReason, ...(hop.continuationToken ? { continuationToken: hop.continuationToken } : {}) } : {}),
        });
        if (!req.url?.includes(':streamGenerateContent')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ candidates: [candidate(hop.text, true)], usageMetadata: hop.usageMetadata, modelVersion: 'gemini-4-argon' }));
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const [a, b] = [hop.text.slice(0, 5), hop.text.slice(5)];
        // Each chunk carries its hop's running totals.
        res.write(`data: ${JSON.stringify({ candidates: [candidate(a, false)], usageMetadata: { ...hop.usageMetadata, candidatesTokenCount: 1 } })}\r\n\r\n`);
        res.end(`data: ${JSON.stringify({ candidates: [candidate(b, true)], usageMetadata: hop.usageMetadata })}\r\n\r\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const stream of [true, false]) {
    test(`${stream ? 'streamed' : 'JSON'}: the usage is the sum of the hops, and the answer ends with the last hop`, async () => {
      const site: Site = {
        id: 'fake-gemini/long-decode', provider: 'google', region: 'local', location: '127.0.0.1', hardware: 'fake', simulated: false,
        endpoint: { kind: 'gemini', baseUrl, stream, idleTimeoutMs: 2000 }, models: [{ ...testModel('gemini'), providerModel: 'gemini-4-argon' }],
      };
      bodies.length = 0;
      const r = await send(createAdapter(site), site, { maxTokens: 200_000 });
      assert.equal(r.outcome, 'complete', r.error?.message);
      assert.equal(r.text, 'First half, second half.');
      assert.deepEqual(bodies.map((b) => b.continuationToken), [undefined, 'hop-1']);
      // input (1000 - 0) + (66,536 - 63,000); output (60,000 + 5536) + 20,000, thoughts included.
      assert.deepEqual({ ...r.usage, raw: undefined }, { input: 4536, cachedInput: 63_000, cacheWrite: 0, output: 85_536, reasoning: 5536, raw: undefined });
    });
  }

  test('CONTINUATION ends a hop, not the answer: the stream is not finished there, and the usage so far is the hop\'s', () => {
    const tracker = geminiTracker();
    tracker.chunk({ candidates: [{ content: { parts: [{ text: 'First half, ' }], role: 'model' }, finishReason: 'CONTINUATION', continuationToken: 'hop-1', index: 0 }], usageMetadata: HOPS[0].usageMetadata });
    assert.equal(tracker.finished, false);
    assert.deepEqual([tracker.usage?.input, tracker.usage?.output], [1000, 65_536]);
  });
});

describe('gemini: a prompt the safety filter blocks (promptFeedback.blockReason, no candidates)', () => {
  for (const stream of [true, false]) {
    test(`${stream ? 'streamed' : 'JSON'}: complete with no text, marked filtered, the prompt's usage kept; not a site failure to fail over from`, async () => {
      const fake = await startFake('gemini');
      try {
        fake.enqueue({ promptBlocked: 'SAFETY', usage: { input: 42 } });
        const site = testSite(fake, { endpoint: { stream, idleTimeoutMs: 1500 } });
        const r = await send(createAdapter(site), site);
        assert.deepEqual([r.outcome, r.filtered, r.text, r.error], ['complete', true, '', undefined], r.error?.message);
        assert.deepEqual([r.usage?.input, r.usage?.output], [42, 0]);
      } finally {
        await fake.stop();
      }
    });
  }
});
