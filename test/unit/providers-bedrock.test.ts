// The production Bedrock adapter (Converse / ConverseStream through @ai-sdk/amazon-bedrock) against a fake
// Bedrock runtime that frames events in the AWS event-stream binary format.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Site } from '../../daemon/catalog/types';
import { createAdapter } from '../../daemon/providers/registry';
import { FakeBedrock, type BedrockRecorded } from '../fakes/bedrock';
import { send } from '../fakes/sites';

const KEY = 'bedrock-api-key-0123456789abcdef';
const AWS = { AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE7EXA', AWS_SECRET_ACCESS_KEY: 'fakeSecretKey/K7MDENG/bPxRfiCYFAKEFAKEKEY', AWS_SESSION_TOKEN: 'fake-session-token' };

const sha256 = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => crypto.createHmac('sha256', key).update(data).digest();
/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The SigV4 signature Bedrock would compute for this request, from AWS's specification, independently of
 * the library that signed it: canonical request (each path segment encoded again, as for every service
 * but S3), string to sign, and the HMAC chain of date, region, service and "aws4_request".
 */
function expectedSignature(r: BedrockRecorded, secret: string): { signature: string; credential: string; signedHeaders: string } {
  const auth = String(r.headers.authorization);
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  assert.ok(m, `a SigV4 Authorization header: ${auth}`);
  const [, credential, signedHeaders] = m;
  const [, date, region, service, terminator] = credential.split('/');
  assert.equal(terminator, 'aws4_request');
  const [pathname, query = ''] = r.path.split('?');
  const canonicalUri = pathname.split('/').map(rfc3986).join('/');
  const canonicalQuery = query.split('&').filter(Boolean).sort().join('&');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${String(r.headers[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = String(r.headers['x-amz-content-sha256'] ?? sha256(r.raw));
  const canonical = ['POST', canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const amzDate = String(r.headers['x-amz-date']);
  const toSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/${service}/aws4_request`, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return { signature: crypto.createHmac('sha256', key).update(toSign).digest('hex'), credential, signedHeaders };
}

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

    test(`${stream ? 'ConverseStream' : 'Converse'}: an answer a content filter or a guardrail ended is complete and says so`, async () => {
      for (const stopReason of ['content_filtered', 'guardrail_intervened']) {
        fake.enqueue({ stopReason });
        const r = await send(createAdapter(site(stream)), site(stream), { apiKey: KEY });
        assert.deepEqual([r.outcome, r.filtered], ['complete', true], stopReason);
      }
    });

    test(`${stream ? 'ConverseStream' : 'Converse'}: cache writes with their 1-hour share from cacheDetails`, async () => {
      fake.enqueue({ usage: { input: 120, output: 4, cacheRead: 30, cacheWrite: 1500, cacheWrite1h: 1000 } });
      const r = await send(createAdapter(site(stream)), site(stream), { apiKey: KEY });
      assert.equal(r.outcome, 'complete', r.error?.message);
      assert.deepEqual({ ...r.usage, raw: undefined }, { input: 120, cachedInput: 30, cacheWrite: 1500, cacheWrite1h: 1000, output: 4, reasoning: 0, raw: undefined });
      // Only 5-minute writes: no share.
      fake.enqueue({ usage: { input: 120, output: 4, cacheWrite: 700 } });
      const plain = await send(createAdapter(site(stream)), site(stream), { apiKey: KEY });
      assert.deepEqual([plain.usage?.cacheWrite, plain.usage?.cacheWrite1h], [700, undefined]);
    });

    test(`${stream ? 'ConverseStream' : 'Converse'}: the result says whether the answer was streamed (a whole one shows no output speed)`, async () => {
      const r = await send(createAdapter(site(stream)), site(stream), { apiKey: KEY });
      assert.equal(r.outcome, 'complete', r.error?.message);
      assert.equal(r.streamed, stream ? undefined : false);
    });
  }

  test('without a Bedrock API key: signed with SigV4 from the AWS credentials in the environment, in the site region', async () => {
    const saved = Object.fromEntries(['AWS_BEARER_TOKEN_BEDROCK', ...Object.keys(AWS)].map((k) => [k, process.env[k]]));
    delete process.env.AWS_BEARER_TOKEN_BEDROCK;
    Object.assign(process.env, AWS);
    try {
      for (const stream of [true, false]) {
        const r = await send(createAdapter(site(stream)), site(stream), { apiKey: undefined });
        assert.equal(r.outcome, 'complete', r.error?.message);
        const sent = last();
        const { signature, credential, signedHeaders } = expectedSignature(sent, AWS.AWS_SECRET_ACCESS_KEY);
        assert.match(credential, new RegExp(`^${AWS.AWS_ACCESS_KEY_ID}/\\d{8}/eu-central-1/bedrock/aws4_request$`));
        for (const h of ['host', 'x-amz-date']) assert.ok(signedHeaders.split(';').includes(h), `${h} is signed: ${signedHeaders}`);
        assert.equal(sent.headers['x-amz-security-token'], AWS.AWS_SESSION_TOKEN);
        assert.equal(String(sent.headers.authorization).slice(-64), signature, 'the signature verifies against the secret');
      }
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  for (const stream of [true, false]) {
    test(`${stream ? 'ConverseStream' : 'Converse'}: tools and an earlier call and its result go as toolConfig, toolUse and toolResult; the calls come back whole`, async () => {
      const calls = [{ id: 'tooluse_1', name: 'get_weather', input: '{"city":"Helsinki"}' }];
      fake.enqueue({ pieces: ['Checking.'], toolUses: calls });
      const r = await send(createAdapter(site(stream)), site(stream), {
        apiKey: KEY,
        tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'tooluse_0', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
          { role: 'tool', toolCallId: 'tooluse_0', content: '{"celsius":3}' },
          { role: 'user', content: 'And Helsinki?' },
        ],
      });
      assert.equal(r.outcome, 'complete', r.error?.message);
      assert.equal(r.text, 'Checking.');
      assert.deepEqual(r.toolCalls, [{ id: 'tooluse_1', name: 'get_weather', arguments: '{"city":"Helsinki"}' }]);
      const body = last().body;
      assert.equal(body.toolConfig.tools[0].toolSpec.name, 'get_weather');
      assert.deepEqual(body.toolConfig.tools[0].toolSpec.inputSchema.json.properties, { city: { type: 'string' } });
      const parts = body.messages.flatMap((m: { content: unknown[] }) => m.content);
      assert.deepEqual(parts.find((p: { toolUse?: unknown }) => p.toolUse).toolUse, { toolUseId: 'tooluse_0', name: 'get_weather', input: { city: 'Oslo' } });
      const result = parts.find((p: { toolResult?: unknown }) => p.toolResult).toolResult;
      assert.equal(result.toolUseId, 'tooluse_0');
      assert.match(JSON.stringify(result.content), /celsius/);
    });
  }

  for (const stream of [true, false]) {
    test(`${stream ? 'ConverseStream' : 'Converse'}: an answer to a schema goes as a forced json tool and comes back as text`, async () => {
      const schema = { type: 'object', properties: { celsius: { type: 'number' } }, required: ['celsius'] };
      fake.enqueue({ pieces: [], toolUses: [{ id: 'tooluse_json', name: 'json', input: '{"celsius":3}' }] });
      const r = await send(createAdapter(site(stream)), site(stream), { apiKey: KEY, responseFormat: { type: 'json', schema } });
      assert.equal(r.outcome, 'complete', r.error?.message);
      assert.equal(r.text, '{"celsius":3}');
      assert.equal(r.toolCalls, undefined);
      const spec = last().body.toolConfig.tools.find((t: { toolSpec: { name: string } }) => t.toolSpec.name === 'json').toolSpec;
      assert.deepEqual(spec.inputSchema.json.properties, schema.properties);
    });
  }

  test('an inline image reaches Converse as an image block with its bytes', async () => {
    const png = 'iVBORw0KGgo=';
    const r = await send(createAdapter(site()), site(), { messages: [{ role: 'user', content: 'What is this?', images: [{ url: `data:image/png;base64,${png}` }] }] });
    assert.equal(r.outcome, 'complete', r.error?.message);
    assert.deepEqual(last().body.messages[0].content, [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: png } } }]);
  });

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

describe('bedrock: an exception inside ConverseStream keeps the status it stands for', () => {
  let fake: FakeBedrock;
  before(async () => (fake = await new FakeBedrock().start()));
  after(() => fake.stop());
  const site = (): Site => ({
    id: 'fake-bedrock/us-east-1/exceptions', provider: 'bedrock', region: 'us-east-1', location: '127.0.0.1', hardware: 'fake', simulated: false,
    endpoint: { kind: 'bedrock', baseUrl: fake.baseUrl, idleTimeoutMs: 2000 },
    models: [{ canonical: 'llama-3.1-8b', providerModel: 'meta.llama3-1-8b-instruct-v1:0', contextWindow: 128_000, price: { inputPer1M: 0.22, outputPer1M: 0.22, readOn: '2026-07-24' }, ttftMs: 100, outputTokensPerSecond: 100 }],
  });

  test('throttlingException before any text: a retryable 429 (so the site is paused as rate-limited), with the provider message', async () => {
    fake.enqueue({ fault: { kind: 'exception', afterChunks: 0, type: 'throttlingException', message: 'Too many tokens, please wait before trying again.' } });
    const r = await send(createAdapter(site()), site(), { apiKey: KEY });
    assert.deepEqual([r.outcome, r.error?.status, r.error?.retryable], ['error', 429, true], JSON.stringify(r.error));
    assert.match(r.error!.message, /throttlingException: Too many tokens/);
  });

  test('validationException before any text: a 400, not retried elsewhere', async () => {
    fake.enqueue({ fault: { kind: 'exception', afterChunks: 0, type: 'validationException', message: 'The model returned an invalid response.' } });
    const r = await send(createAdapter(site()), site(), { apiKey: KEY });
    assert.deepEqual([r.outcome, r.error?.status, r.error?.retryable], ['error', 400, false], JSON.stringify(r.error));
  });

  test('modelStreamErrorException and serviceUnavailableException are retryable', async () => {
    for (const [type, status] of [['modelStreamErrorException', 424], ['serviceUnavailableException', 503], ['internalServerException', 500]] as const) {
      fake.enqueue({ fault: { kind: 'exception', afterChunks: 0, type, message: 'try again' } });
      const r = await send(createAdapter(site()), site(), { apiKey: KEY });
      assert.deepEqual([r.outcome, r.error?.status, r.error?.retryable], ['error', status, true], `${type}: ${JSON.stringify(r.error)}`);
    }
  });

  test('throttlingException after text: a cut with the text so far', async () => {
    fake.enqueue({ fault: { kind: 'exception', afterChunks: 2, type: 'throttlingException', message: 'Too many tokens' } });
    const r = await send(createAdapter(site()), site(), { apiKey: KEY });
    assert.deepEqual([r.outcome, r.text, r.error?.retryable], ['cut', 'Hello from', true]);
    assert.match(r.error!.message, /throttlingException/);
  });
});
