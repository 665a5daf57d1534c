// The endpoint over a scripted ChatService, on loopback: what a client sees when the request moves,
// fails before its first token, or is dropped by its client while it is still being placed.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ChatService, ChatSink } from '../../daemon/chat/service';
import { createOpenAIEndpoint } from '../../daemon/openai/endpoint';
import { parseCompletionRequest } from '../../daemon/openai/request';
import type { Placement, Receipt } from '../../daemon/protocol';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function receipt(outcome: Receipt['outcome'], siteId: string): Receipt {
  return {
    id: 'r1', requestId: 'q1', placementId: 'p1', site: { id: siteId, provider: 'openai-compatible', region: 'local', location: 'here', hardware: 'none' },
    model: 'm', providerModel: 'm', policy: 'cheapest', workspace: null, client: 'test', outcome,
    error: outcome === 'error' ? `${siteId}: boom` : undefined,
    attempts: [{ siteId, outcome, ttftMs: null, durationMs: 1, message: outcome === 'error' ? `${siteId}: boom` : undefined }],
    tokens: { input: 3, cachedInput: 0, cacheWrite: 0, output: outcome === 'error' ? 0 : 2, reasoning: 0 }, ttftMs: 1, totalMs: 2, tokensPerSecond: 1000, bytesReceived: 10,
    cost: { inputNanoUsd: 3, cachedInputNanoUsd: 0, cacheWriteNanoUsd: 0, outputNanoUsd: 4, requestFeeNanoUsd: 0, dataTransferNanoUsd: 0, totalNanoUsd: 7 },
    createdAt: '2026-12-07T00:00:00.000Z',
  } as Receipt;
}

/**
 * A ChatService whose start() runs `script` with the request's sink (after `placeMs`, as a team hold
 * would take); `placing` resolves when a request has reached start().
 */
function scripted(script: (sink: ChatSink) => void, placeMs = 0) {
  const cancelled: string[] = [];
  let reached!: () => void;
  const placing = new Promise<void>((resolve) => (reached = resolve));
  const chat = {
    async start(_params: unknown, _client: string, sinkFor: (id: string) => ChatSink) {
      reached();
      await new Promise((resolve) => setTimeout(resolve, placeMs));
      setImmediate(() => script(sinkFor('q1')));
      return { requestId: 'q1', placement: { id: 'p1', policy: 'cheapest', chosen: 'site/a' } as Placement };
    },
    cancel(id: string) {
      cancelled.push(id);
      return true;
    },
  };
  return { chat: chat as unknown as ChatService, cancelled, placing };
}

async function serve(chat: ChatService): Promise<{ url: string; close(): void }> {
  const endpoint = createOpenAIEndpoint({ chat, catalog: {} as never, log: quiet as never });
  const server = http.createServer((req, res) => endpoint.chatCompletions(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`, close: () => server.close() };
}

const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
const post = (url: string, signal?: AbortSignal) => fetch(url, { method: 'POST', body, signal, headers: { 'content-type': 'application/json' } });

test('a stream that fails over before its first token names, in its headers, the site that answered', async () => {
  const { chat } = scripted((sink) => {
    sink.attempt({ attempt: { siteId: 'site/a', outcome: 'error', message: 'site/a: 500', ttftMs: null, durationMs: 1 }, next: { id: 'site/b' } as never, continuation: false });
    sink.delta('hello');
    sink.complete!(receipt('complete', 'site/b'));
  });
  const server = await serve(chat);
  try {
    const res = await post(server.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-switchyard-site'), 'site/b');
    const text = await res.text();
    assert.match(text, /^: switchyard: site\/a: 500; retrying on site\/b/m);
    assert.match(text, /"content":"hello"/);
  } finally {
    server.close();
  }
});

test('a stream that fails before anything was sent, failovers included, is an HTTP error with a JSON body, as OpenAI answers', async () => {
  const { chat } = scripted((sink) => {
    sink.attempt({ attempt: { siteId: 'site/b', outcome: 'error', message: 'site/b: 500', ttftMs: null, durationMs: 1 }, next: { id: 'site/a' } as never, continuation: false });
    setTimeout(() => sink.complete!(receipt('error', 'site/a')), 20);
  });
  const server = await serve(chat);
  try {
    const res = await post(server.url);
    assert.equal(res.status, 502);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const error = (await res.json() as { error: { code: string; message: string; switchyard: { receipt: Receipt } } }).error;
    assert.equal(error.code, 'upstream_failed');
    assert.match(error.message, /site\/a: boom/);
    assert.equal(error.switchyard.receipt.site.id, 'site/a');
  } finally {
    server.close();
  }
});

test('a client that goes away while its request is still being placed has it cancelled once placed', async () => {
  const { chat, cancelled, placing } = scripted((sink) => setTimeout(() => sink.complete!(receipt('cancelled', 'site/a')), 100), 500);
  const server = await serve(chat);
  try {
    const abort = new AbortController();
    // Gone while the request is being placed.
    void placing.then(() => abort.abort());
    await assert.rejects(post(server.url, abort.signal));
    for (let waited = 0; cancelled.length === 0 && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(cancelled, ['q1']);
  } finally {
    server.close();
  }
});

test('values of refused options that ask for nothing beyond the default pass, as some clients always send them', () => {
  const parse = (extra: Record<string, unknown>) => parseCompletionRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra }, {});
  for (const extra of [{ modalities: ['text'] }, { function_call: 'none' }, { function_call: 'auto' }, { top_logprobs: 0 }, { logprobs: false }, { safety_identifier: 'u1' }, { prompt_cache_key: 'k' }]) {
    assert.doesNotThrow(() => parse(extra), JSON.stringify(extra));
  }
  assert.throws(() => parse({ modalities: ['text', 'audio'] }), /modalities: only text output/);
  assert.throws(() => parse({ top_logprobs: 2 }), /top_logprobs: logprobs are not supported/);
  assert.throws(() => parse({ function_call: { name: 'f' } }), /function_call: the deprecated functions API/);
});
