// The endpoint over a scripted ChatService, on loopback: what a client sees when the request moves,
// fails before its first token, or is dropped by its client while it is still being placed. Then what
// the request mapping makes of bodies real clients send, and how a refusal names the field.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ChatService, ChatSink } from '../../daemon/chat/service';
import { validateChat } from '../../daemon/chat/validate';
import { createOpenAIEndpoint } from '../../daemon/openai/endpoint';
import { toOpenAIError } from '../../daemon/openai/errors';
import { parseCompletionRequest, type RequestError } from '../../daemon/openai/request';
import type { Metrics } from '../../daemon/metrics';
import { MAX_MESSAGE_BYTES, type Placement, type Receipt } from '../../daemon/protocol';

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
  for (const extra of [{ modalities: ['text'] }, { function_call: 'none' }, { function_call: 'auto' }, { top_logprobs: 0 }, { logprobs: false }, { safety_identifier: 'u1' }, { prompt_cache_key: 'k' }, { prompt_cache_retention: '24h' }, { verbosity: 'medium' }, { web_search_options: null }]) {
    assert.doesNotThrow(() => parse(extra), JSON.stringify(extra));
  }
  assert.throws(() => parse({ modalities: ['text', 'audio'] }), /modalities: only text output/);
  assert.throws(() => parse({ top_logprobs: 2 }), /top_logprobs: logprobs are not supported/);
  assert.throws(() => parse({ function_call: { name: 'f' } }), /function_call: the deprecated functions API/);
  // Options that change the answer are refused with the reason, not as unknown.
  assert.throws(() => parse({ verbosity: 'low' }), (e: RequestError) => e.param === 'verbosity' && /verbosity is not supported/.test(e.message));
  assert.throws(() => parse({ web_search_options: {} }), (e: RequestError) => e.param === 'web_search_options' && /web search is not supported/.test(e.message));
});

const parse = (extra: Record<string, unknown>) => parseCompletionRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra }, {});

test('an assistant turn read back as the SDKs type it: a refusal, as a part or instead of content, is what the assistant said', () => {
  const { params } = parse({
    messages: [
      { role: 'user', content: 'Two things, please.' },
      { role: 'assistant', content: [{ type: 'text', text: 'The first: yes. ' }, { type: 'refusal', refusal: 'The second: no.' }] },
      { role: 'user', content: 'And this?' },
      // An answer that was a refusal, appended to the conversation as it came back.
      { role: 'assistant', content: null, refusal: 'I cannot help with that.', tool_calls: null },
      { role: 'user', content: 'Fine.' },
    ],
  });
  assert.deepEqual(validateChat(params).messages.filter((m) => m.role === 'assistant').map((m) => m.content), ['The first: yes. The second: no.', 'I cannot help with that.']);
  assert.throws(() => parse({ messages: [{ role: 'user', content: [{ type: 'refusal', refusal: 'x' }] }] }), /messages\[0\]\.content\[0\]: text and image_url parts are supported, got "refusal"/);
});

test('strict: null on a tool or a json_schema, as OpenAI types it, is the default', () => {
  const schema = { type: 'object', properties: { city: { type: 'string' } } };
  const { params } = parse({
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: schema, strict: null } }],
    response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: null } },
  });
  assert.deepEqual(validateChat(params).tools, [{ name: 'get_weather', parameters: schema }]);
  assert.deepEqual(params.responseFormat, { type: 'json', name: 'weather', schema });
  assert.throws(() => parse({ tools: [{ type: 'function', function: { name: 'f', strict: 'yes' } }] }), /tools\[0\]\.function\.strict must be a boolean/);
});

test('a refused request names the field as the client sent it, in the message and in param', () => {
  const refusal = (extra: Record<string, unknown>) => {
    try {
      // What ChatService.start does with the mapped params, then the endpoint with its refusal.
      validateChat(parse(extra).params);
    } catch (error) {
      const { status, body } = toOpenAIError(error);
      return [status, body.error.param, body.error.message];
    }
    return null;
  };
  assert.deepEqual(refusal({ max_completion_tokens: -1 }), [400, 'max_completion_tokens', 'max_completion_tokens must be an integer from 1 to 200000, got -1']);
  assert.deepEqual(refusal({ max_tokens: 1_000_000 }), [400, 'max_tokens', 'max_tokens must be an integer from 1 to 200000, got 1000000']);
  assert.equal(refusal({ max_completion_tokens: null, max_tokens: 'many' })?.[1], 'max_tokens');

  const call = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } };
  const tools = [{ type: 'function', function: { name: 'get_weather' } }];
  const asked = { role: 'user', content: 'Weather?' };
  const turn = (calls: unknown[], answer?: object) => ({ tools, messages: [asked, { role: 'assistant', content: null, tool_calls: calls }, ...(answer ? [answer] : [])] });
  assert.deepEqual(refusal(turn([call], { role: 'tool', content: '3' })), [400, 'messages[2].tool_call_id', 'messages[2].tool_call_id must name the tool call this message answers']);
  assert.deepEqual(refusal({ messages: [{ role: 'tool', tool_call_id: 'call_x', content: '3' }] })?.slice(0, 2), [400, 'messages[0].tool_call_id']);
  assert.deepEqual(refusal(turn([{ ...call, function: { name: 'get weather', arguments: '{}' } }])), [400, 'messages[1].tool_calls[0].function.name', 'messages[1].tool_calls[0].function.name must be 1-64 letters, digits, _ or -, got "get weather"']);
  assert.deepEqual(refusal(turn([{ ...call, function: { name: 'get_weather', arguments: {} } }]))?.[1], 'messages[1].tool_calls[0].function.arguments');
  assert.deepEqual(refusal(turn([{ ...call, id: '' }]))?.[1], 'messages[1].tool_calls[0].id');
  assert.deepEqual(refusal(turn([])), [400, 'messages[1].tool_calls', 'messages[1].tool_calls must be a non-empty array']);
  assert.match(String(refusal({ tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools } } })?.[2]), /^tool_choice must be "auto", "none", "required" or \{"type": "function", "function": \{"name": <a tool>\}\}, got/);
});

const WEATHER_TOOL = { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const CALLED = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oulu"}' } };

test('requests as Continue, Cline, aider (through LiteLLM) and the OpenAI SDKs send them by default are taken', () => {
  // Continue (provider openai): its stop list is not cut to 4 for a local apiBase; a prediction for
  // gpt-4o-like names; parallel_tool_calls false whenever it sends tools; " " for empty content.
  const continueAgent = parse({
    model: 'gpt-4o', max_tokens: 4096, stream: true,
    stop: ['</COMPLETION>', '\n\n', '\r\n\r\n', '/src/', '#- coding: utf-8', '```'],
    prediction: { type: 'content', content: 'const x = 1;' },
    tools: [WEATHER_TOOL], parallel_tool_calls: false,
    messages: [
      { role: 'system', content: 'You are a coding agent.' },
      { role: 'user', content: 'Weather in Oulu?' },
      { role: 'assistant', content: ' ', tool_calls: [CALLED] },
      { role: 'tool', content: '{"celsius":-12}', tool_call_id: 'call_1' },
    ],
  });
  assert.equal(validateChat(continueAgent.params).stop?.length, 6);
  assert.equal(continueAgent.params.parallelToolCalls, false);
  // Cline (OpenAI compatible): developer role for reasoning models, usage in the stream, tool_choice auto.
  const cline = parse({
    model: 'o4-mini', temperature: 0, reasoning_effort: 'medium', stream: true, stream_options: { include_usage: true },
    tools: [WEATHER_TOOL], tool_choice: 'auto', parallel_tool_calls: false,
    messages: [{ role: 'developer', content: 'You are Cline.' }, { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }],
  });
  assert.equal(cline.includeUsage, true);
  assert.deepEqual([cline.params.toolChoice, cline.params.reasoningEffort, cline.params.messages[0].role], ['auto', 'medium', 'system']);
  // aider through LiteLLM: temperature 0, and for its function edit formats one tool forced by name.
  const aider = parse({ temperature: 0, stream: true, tools: [WEATHER_TOOL], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
  assert.deepEqual(aider.params.toolChoice, { name: 'get_weather' });
  // The OpenAI SDKs' defaults and bookkeeping fields: none changes the answer or its bill.
  assert.doesNotThrow(() => validateChat(parse({
    n: 1, store: false, metadata: { ticket: 'T-1' }, user: 'u-1', service_tier: 'auto', logprobs: false, top_logprobs: null,
    max_completion_tokens: 256, stream_options: { include_usage: false, include_obfuscation: false }, logit_bias: {}, top_k: null, min_p: 0, repetition_penalty: 1,
  }).params));
  assert.doesNotThrow(() => parse({ service_tier: 'default' }));
});

/** How parse refuses these extra fields: the status, the param named and the message; null when it does not. */
function refusalOf(extra: Record<string, unknown>): [number, string | null | undefined, string] | null {
  try {
    parse(extra);
  } catch (error) {
    const { status, body } = toOpenAIError(error);
    return [status, body.error.param, body.error.message];
  }
  return null;
}

test('options that would change the answer or its bill when dropped are refused, naming the field; their defaults pass', () => {
  // Another tier is another price (flex is half, priority more): the meter prices the default tier only.
  assert.deepEqual(refusalOf({ service_tier: 'flex' })?.slice(0, 2), [400, 'service_tier']);
  assert.match(String(refusalOf({ service_tier: 'priority' })?.[2]), /^service_tier: only the default tier/);
  // Token ids mean nothing across the models a request may be placed on.
  assert.deepEqual(refusalOf({ logit_bias: { 50256: -100 } })?.slice(0, 2), [400, 'logit_bias']);
  for (const [key, value] of Object.entries({ top_k: 40, min_p: 0.05, repetition_penalty: 1.1 })) {
    const [status, param, message] = refusalOf({ [key]: value }) ?? [];
    assert.deepEqual([status, param], [400, key]);
    assert.match(String(message), new RegExp(`^${key}: `));
  }
});

test('a policy named beyond ASCII (a user\'s own, in any script) is named in the header percent-encoded, JSON and streamed', async () => {
  const thrown: unknown[] = [];
  const chat = {
    async start(_params: unknown, _client: string, sinkFor: (id: string) => ChatSink) {
      const sink = sinkFor('q1');
      setImmediate(() => {
        try {
          sink.delta('hi');
          sink.complete!({ ...receipt('complete', 'site/a'), policy: '快速' });
        } catch (error) {
          // Thrown into ChatService.run, this would be an uncaught rejection that stops the daemon.
          thrown.push(error);
        }
      });
      return { requestId: 'q1', placement: { id: 'p1', policy: '快速', chosen: 'site/a' } as Placement };
    },
    cancel: () => true,
  } as unknown as ChatService;
  const server = await serve(chat);
  try {
    for (const stream of [false, true]) {
      const res = await fetch(server.url, {
        method: 'POST', signal: AbortSignal.timeout(3000), headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream }),
      });
      assert.equal(res.status, 200, `stream: ${stream}`);
      assert.equal(res.headers.get('x-switchyard-policy'), encodeURIComponent('快速'));
      assert.equal(decodeURIComponent(res.headers.get('x-switchyard-policy')!), '快速');
      assert.match(await res.text(), /"content":"hi"/);
    }
    assert.deepEqual(thrown, []);
  } finally {
    server.close();
  }
});

test('a body that is not JSON, or too large, is counted in the metrics as a refused invalid request, like a bad parameter', async () => {
  const refused: string[] = [];
  const metrics = { refused: (reason: string) => void refused.push(reason) } as unknown as Metrics;
  const endpoint = createOpenAIEndpoint({ chat: {} as ChatService, catalog: {} as never, log: quiet as never, metrics });
  const server = http.createServer((req, res) => endpoint.chatCompletions(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  try {
    const send = (body: string) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal((await send('{nope')).status, 400);
    assert.equal((await send('[]')).status, 400);
    const huge = await new Promise<number>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { 'content-length': MAX_MESSAGE_BYTES + 1 } }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.end('{}'.padEnd(1024));
    });
    assert.equal(huge, 413);
    assert.deepEqual(refused, ['invalid_request', 'invalid_request', 'invalid_request']);
  } finally {
    server.close();
  }
});

test('a refusal quotes the value as the client sent it: a tool_choice in the Responses API\'s form, a text part without text', () => {
  const [status, param, message] = refusalOf({ tools: [WEATHER_TOOL], tool_choice: { type: 'function', name: 'get_weather' } }) ?? [];
  assert.deepEqual([status, param], [400, 'tool_choice']);
  assert.match(String(message), /, got \{"type":"function","name":"get_weather"\}$/);
  assert.deepEqual(refusalOf({ messages: [{ role: 'user', content: [{ type: 'text', text: null }] }] }), [400, 'messages[0].content[0].text', 'messages[0].content[0].text must be a string, got null']);
});
