// Credentials, Retry-After parsing, key scrubbing and the registry's other OpenAI-shaped kinds
// (OpenAI-compatible servers, Azure OpenAI) against the fake OpenAI upstream.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Telemetry } from '../../daemon/engine/telemetry';
import { Credentials } from '../../daemon/providers/keys';
import { openAIEndpoint } from '../../daemon/providers/openai';
import { createAdapter } from '../../daemon/providers/registry';
import type { EndpointKind } from '../../daemon/protocol';
import { retryAfterMs, scrub } from '../../daemon/providers/wire';
import { send, testSite } from '../fakes/sites';
import { startFake, type FakeUpstream } from '../fakes/upstream';

describe('Credentials', () => {
  test('env: first variable per provider; AWS access keys make Bedrock usable', () => {
    const c = Credentials.fromEnv({ OPENAI_API_KEY: 'sk-one', GOOGLE_API_KEY: 'g-two', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's', GROQ_API_KEY: '  ' });
    assert.equal(c.get('openai'), 'sk-one');
    assert.equal(c.get('google'), 'g-two');
    assert.equal(c.has('groq'), false);
    assert.equal(c.has('bedrock'), true);
    assert.equal(c.get('bedrock'), undefined);
    assert.deepEqual(c.providers(), ['bedrock', 'google', 'openai']);
  });

  test('set, replace, remove; listeners see each key come and go', () => {
    const c = new Credentials();
    const seen: string[] = [];
    c.onChange((key, added) => seen.push(`${added ? '+' : '-'}${key}`));
    c.set('anthropic', 'key-a');
    c.set('anthropic', 'key-b');
    assert.equal(c.get('anthropic'), 'key-b');
    c.remove('anthropic');
    assert.equal(c.has('anthropic'), false);
    assert.deepEqual(seen, ['+key-a', '-key-a', '+key-b', '-key-b']);
    c.set('openai', '   ');
    assert.equal(c.has('openai'), false);
  });

  test('an OpenAI-compatible endpoint the user named needs no key', () => {
    assert.equal(new Credentials().has('openai-compatible'), true);
  });
});

describe('error details', () => {
  test('Retry-After in seconds, as a date, and retry-after-ms', () => {
    assert.equal(retryAfterMs({ 'retry-after': '3' }), 3000);
    assert.equal(retryAfterMs({ 'retry-after': '0.5' }), 500);
    assert.equal(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '3' }), 250);
    assert.equal(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4_000), 6000);
    assert.equal(retryAfterMs({ 'retry-after': 'soon' }), undefined);
    assert.equal(retryAfterMs({}), undefined);
  });

  test('scrub masks the key, pieces of it, and anything key-shaped', () => {
    const key = 'gsk_ABCDEFGHIJKLMNOPQRSTUVWX';
    const out = scrub({ message: `bad key ${key}; partial ${key.slice(0, 12)}...; other sk-proj-abcdefghijklmnopqrst`, retryable: false }, key);
    assert.ok(!out.message.includes(key));
    assert.ok(!out.message.includes(key.slice(0, 12)));
    assert.ok(!out.message.includes('sk-proj-abcdefghijklmnopqrst'));
    assert.match(out.message, /^bad key/);
  });

  test('scrub masks every 8-character run of the key, wherever it starts (a quoted tail, a run off the 4-character grid)', () => {
    // 51 characters, as OpenAI's older keys: its last 8 do not start on a multiple of 4.
    const key = 'sk-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL';
    for (const run of [key.slice(-8), key.slice(-10), key.slice(5, 13), key.slice(1, 11)]) {
      const out = scrub({ message: `Invalid API key ending in ${run}.`, retryable: false }, key);
      assert.ok(!out.message.includes(run), `${run}: ${out.message}`);
    }
  });
});

describe('registry: OpenAI-shaped kinds', () => {
  let fake: FakeUpstream;
  before(async () => (fake = await startFake('openai')));
  after(() => fake.stop());
  const last = () => fake.requests[fake.requests.length - 1];

  test('openai-compatible (Groq, vLLM, ...): asks for usage, sends the key as a bearer token', async () => {
    const site = testSite(fake, { provider: 'groq', kind: 'openai-compatible' });
    const r = await send(createAdapter(site), site, { apiKey: 'gsk_test_0123456789abcdef' });
    assert.equal(r.outcome, 'complete');
    assert.equal(r.usage?.output, 6);
    assert.equal(last().path, '/v1/chat/completions');
    assert.deepEqual(last().body.stream_options, { include_usage: true });
    assert.equal(last().headers.authorization, 'Bearer gsk_test_0123456789abcdef');
    assert.equal(last().headers['accept-encoding'], 'identity', 'the answer is read as it comes, uncompressed');
  });

  test('a local OpenAI-compatible server without a key gets no Authorization header', async () => {
    const site = testSite(fake, { provider: 'openai-compatible', kind: 'openai-compatible' });
    const r = await send(createAdapter(site), site, { apiKey: undefined });
    assert.equal(r.outcome, 'complete');
    assert.equal(last().headers.authorization, undefined);
  });

  test('a compatible server that sends no usage: usage null (the meter estimates)', async () => {
    const site = testSite(fake, { provider: 'mistral', kind: 'openai-compatible' });
    const r = await send(createAdapter(site), site);
    assert.equal(r.outcome, 'complete');
    assert.equal(last().body.stream_options, undefined);
    assert.equal(r.usage, null);
  });

  test('Azure OpenAI: deployment in the body, api-key header (a non-Azure host, e.g. a proxy, is used as given)', async () => {
    const site = testSite(fake, { provider: 'azure-openai', kind: 'azure-openai', endpoint: { baseUrl: `http://127.0.0.1:${fake.port}/openai` } });
    const r = await send(createAdapter(site), site, { apiKey: 'azure-key-0123456789' });
    assert.equal(r.outcome, 'complete');
    assert.equal(last().path, '/openai/chat/completions');
    assert.equal(last().body.model, 'gpt-4o-mini');
    assert.equal(last().headers['api-key'], 'azure-key-0123456789');
  });

  test('addresses and key headers as the official SDKs use them', () => {
    const at = (kind: EndpointKind, baseUrl?: string) => {
      const endpoint = openAIEndpoint(testSite(fake, { kind, endpoint: { baseUrl } }));
      return [endpoint.url.href, endpoint.auth('k')[0], endpoint.maxTokensField];
    };
    assert.deepEqual(at('openai', undefined), ['https://api.openai.com/v1/chat/completions', 'authorization', 'max_completion_tokens']);
    assert.deepEqual(at('azure-openai', 'https://res.openai.azure.com/openai/'), ['https://res.openai.azure.com/openai/v1/chat/completions?api-version=v1', 'api-key', 'max_completion_tokens']);
    assert.deepEqual(at('azure-openai', 'https://res.openai.azure.com/openai/v1'), ['https://res.openai.azure.com/openai/v1/chat/completions', 'api-key', 'max_completion_tokens']);
    assert.deepEqual(at('openai-compatible', 'http://localhost:11434/v1'), ['http://localhost:11434/v1/chat/completions', 'authorization', 'max_tokens']);
    assert.throws(() => at('azure-openai', undefined), /azure-openai needs endpoint\.baseUrl/);
  });

  test('the output limit goes as max_tokens to compatible servers and max_completion_tokens to OpenAI', async () => {
    const compatible = testSite(fake, { provider: 'groq', kind: 'openai-compatible' });
    await send(createAdapter(compatible), compatible, { maxTokens: 77 });
    assert.deepEqual([last().body.max_tokens, last().body.max_completion_tokens], [77, undefined]);
    const openai = testSite(fake, { kind: 'openai' });
    await send(createAdapter(openai), openai, { maxTokens: 78 });
    assert.deepEqual([last().body.max_tokens, last().body.max_completion_tokens], [undefined, 78]);
  });

  test('an openai-compatible site without baseUrl fails clearly, not retryable', async () => {
    const site = testSite(fake, { provider: 'replicate', kind: 'openai-compatible', endpoint: { baseUrl: undefined } });
    const r = await send(createAdapter(site), site);
    assert.equal(r.outcome, 'error');
    assert.match(r.error!.message, /baseUrl/);
  });
});

describe('headers reach the engine', () => {
  for (const format of ['openai', 'anthropic'] as const) {
    test(`${format}: rate-limit headers set the site's headroom in telemetry`, async () => {
      const fake = await startFake(format);
      try {
        const site = testSite(fake);
        const r = await send(createAdapter(site), site);
        const telemetry = new Telemetry();
        telemetry.onResult(telemetry.onPlaced(site.id, site.models[0].canonical, 0), r, 1);
        assert.equal(telemetry.snapshot(site.id, 1).headroom, format === 'openai' ? 499 / 500 : 49 / 50);
        fake.enqueue({ fault: { kind: 'status', status: 429, retryAfter: '1' } });
        const limited = await send(createAdapter(site), site);
        telemetry.onResult(telemetry.onPlaced(site.id, site.models[0].canonical, 2), limited, 3);
        assert.equal(telemetry.snapshot(site.id, 3).headroom, 0);
      } finally {
        await fake.stop();
      }
    });
  }
});

describe('OpenAI wire: kept-alive sockets', () => {
  /** An OpenAI-shaped server that resets chosen requests without answering, as a server closing an idle socket does. */
  async function server(resetWhen: (nth: { onSocket: number }) => boolean) {
    const seen = { requests: 0, sockets: 0 };
    const body = JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } });
    const s = http.createServer((req, res) => {
      const socket = req.socket as typeof req.socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      seen.requests++;
      req.resume();
      if (resetWhen({ onSocket: socket.served })) return void socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    s.on('connection', () => seen.sockets++);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const site = testSite({ format: 'openai', port: (s.address() as AddressInfo).port, baseUrl: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1` } as FakeUpstream, { kind: 'openai-compatible', provider: 'openai-compatible', endpoint: { stream: false } });
    return { seen, site, close: () => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve()))) };
  }

  test('a reset on a reused socket before any answer is sent again on a new connection', async () => {
    const { seen, site, close } = await server(({ onSocket }) => onSocket === 2);
    try {
      const adapter = createAdapter(site);
      assert.equal((await send(adapter, site)).outcome, 'complete');
      // Idle, as a socket is when its server's timeout races ours.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await send(adapter, site);
      assert.equal(second.outcome, 'complete');
      assert.equal(second.text, 'ok');
      assert.deepEqual(seen, { requests: 3, sockets: 2 });
    } finally {
      await close();
    }
  });

  test('a reset on a new connection is not retried: the site failed', async () => {
    const { seen, site, close } = await server(() => true);
    try {
      const r = await send(createAdapter(site), site);
      assert.deepEqual([r.outcome, r.error?.retryable], ['error', true]);
      assert.equal(seen.requests, 1);
    } finally {
      await close();
    }
  });
});
