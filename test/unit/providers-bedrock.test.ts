// The production Bedrock adapter (Converse / ConverseStream through @ai-sdk/amazon-bedrock) against a fake
// Bedrock runtime that frames events in the AWS event-stream binary format.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Site } from '../../daemon/catalog/types';
import { createAdapter } from '../../daemon/providers/registry';
import { FakeBedrock } from '../fakes/bedrock';
import { send } from '../fakes/sites';

const KEY = 'bedrock-api-key-0123456789abcdef';

describe('bedrock adapter against the fake Bedrock runtime', () => {
  let fake: FakeBedrock;
  before(async () => (fake = await new FakeBedrock().start()));
  after(() => fake.stop());

  const site = (stream = true): Site => ({
    id: 'fake-bedrock/eu-central-1/h100', provider: 'bedrock', region: 'eu-central-1', location: '127.0.0.1', hardware: 'fake', simulated: false,
    endpoint: { kind: 'bedrock', baseUrl: fake.baseUrl, stream, idleTimeoutMs: 2000 },
    models: [{ canonical: 'llama-3.1-8b', providerModel: 'meta.llama3-1-8b-instruct-v1:0', contextWindow: 128_000, price: { inputPer1M: 0.22, outputPer1M: 0.22, readOn: '2026-07-24' }, ttftMs: 100, outputTokensPerSecond: 100 }],
  });
  const last = () => fake.requests[fake.requests.length - 1];

  for (const stream of [true, false]) {
    test(`${stream ? 'ConverseStream' : 'Converse'}: text, usage with raw, bytes, bearer key, model in the path`, async () => {
      fake.enqueue({ usage: { input: 120, output: 4, cacheRead: 30 } });
      const r = await send(createAdapter(site(stream)), site(stream), { apiKey: KEY });
      assert.equal(r.outcome, 'complete');
      assert.equal(r.text, 'Hello from Bedrock.');
      assert.deepEqual({ ...r.usage, raw: undefined }, { input: 120, cachedInput: 30, cacheWrite: 0, output: 4, reasoning: 0, raw: undefined });
      assert.ok(r.usage?.raw);
      assert.equal(r.bytesReceived, last().bytesSent);
      assert.equal(r.headers['x-amzn-requestid'], 'fake-request-id');
      assert.equal(last().path, `/model/${encodeURIComponent('meta.llama3-1-8b-instruct-v1:0')}/${stream ? 'converse-stream' : 'converse'}`);
      assert.equal(last().headers.authorization, `Bearer ${KEY}`);
      assert.equal(last().body.inferenceConfig.maxTokens, 256);
    });
  }

  test('max_tokens ends as length', async () => {
    fake.enqueue({ stopReason: 'max_tokens' });
    const r = await send(createAdapter(site()), site(), { apiKey: KEY });
    assert.equal(r.outcome, 'length');
  });

  test('ThrottlingException 429 is retryable with the provider message; 403 is not', async () => {
    fake.enqueue({ fault: { kind: 'status', status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' } });
    const a = await send(createAdapter(site()), site(), { apiKey: KEY });
    assert.deepEqual([a.outcome, a.error?.status, a.error?.retryable], ['error', 429, true]);
    assert.match(a.error!.message, /Too many requests/);
    fake.enqueue({ fault: { kind: 'status', status: 403, type: 'AccessDeniedException', message: 'You do not have access to the model' } });
    const b = await send(createAdapter(site()), site(), { apiKey: KEY });
    assert.deepEqual([b.outcome, b.error?.status, b.error?.retryable], ['error', 403, false]);
  });

  test('a stream that stops after some text is a cut', async () => {
    fake.enqueue({ fault: { kind: 'cut', afterChunks: 2 } });
    const r = await send(createAdapter(site()), site(), { apiKey: KEY });
    assert.equal(r.outcome, 'cut');
    assert.equal(r.text, 'Hello from');
  });
});
