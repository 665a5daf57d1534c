// The same checks for every wire format: the production adapter (registry.createAdapter) against the
// fake upstream that speaks that format. Each providers-<format>.test.ts runs this suite.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAdapter } from '../../daemon/providers/registry';
import { send, testSite } from './sites';
import { DEFAULT_PIECES, startFake, type FakeUpstream, type WireFormat } from './upstream';
import type { ChatMessage, ToolDefinition } from '../../daemon/protocol';

const KEY = 'sk-test-0123456789abcdefghij';
const TEXT = DEFAULT_PIECES.join('');

export function adapterSuite(format: WireFormat, rateHeader: string): void {
  describe(`${format} adapter against the fake upstream`, () => {
    let fake: FakeUpstream;
    before(async () => (fake = await startFake(format)));
    after(() => fake.stop());

    const site = (extra: Parameters<typeof testSite>[1] = {}) => testSite(fake, { endpoint: { idleTimeoutMs: 1500, ...extra.endpoint }, ...extra });
    const last = () => fake.requests[fake.requests.length - 1];

    for (const stream of [true, false]) {
      test(`${stream ? 'streamed' : 'JSON'}: text, usage with raw, headers, bytes, time to first token`, async () => {
        fake.enqueue({ usage: { input: 1200, cached: 800, output: 6 } });
        const s = site({ endpoint: { stream } });
        const r = await send(createAdapter(s), s, { apiKey: KEY });
        assert.equal(r.outcome, 'complete');
        assert.equal(r.text, TEXT);
        assert.equal(r.deltas.join(''), TEXT);
        assert.equal(r.deltas.length, stream ? DEFAULT_PIECES.length : 1);
        assert.deepEqual({ ...r.usage, raw: undefined }, { input: 1200, cachedInput: 800, cacheWrite: 0, output: 6, reasoning: 0, raw: undefined });
        assert.ok(r.usage?.raw && typeof r.usage.raw === 'object', 'the provider usage object is kept');
        assert.ok(r.headers[rateHeader] !== undefined, `header ${rateHeader} in ${Object.keys(r.headers).join(',')}`);
        assert.equal(r.bytesReceived, last().bytesSent);
        assert.ok(r.bytesReceived > 100);
        assert.ok(r.ttftMs !== null && r.ttftMs >= 0 && r.ttftMs <= r.durationMs);
        assert.equal(r.error, undefined);
        assert.equal(last().stream, stream);
        if (format === 'openai' && stream) assert.deepEqual(last().body.stream_options, { include_usage: true });
        if (format === 'openai') assert.equal(last().headers.authorization, `Bearer ${KEY}`);
        if (format === 'anthropic') assert.equal(last().headers['x-api-key'], KEY);
        if (format === 'gemini') assert.equal(last().headers['x-goog-api-key'], KEY);
      });

      test(`${stream ? 'streamed' : 'JSON'}: the output limit ends as length`, async () => {
        fake.enqueue({ length: true });
        const s = site({ endpoint: { stream } });
        const r = await send(createAdapter(s), s, { maxTokens: 6 });
        assert.equal(r.outcome, 'length');
        assert.equal(r.text, TEXT);
      });

      test(`${stream ? 'streamed' : 'JSON'}: an answer the provider's content filter ended is complete and says so`, async () => {
        fake.enqueue({ filtered: true });
        const s = site({ endpoint: { stream } });
        const r = await send(createAdapter(s), s);
        assert.equal(r.outcome, 'complete');
        assert.equal(r.filtered, true);
        assert.equal(r.text, TEXT);
        fake.enqueue({});
        assert.equal((await send(createAdapter(s), s)).filtered, undefined);
      });

      test(`${stream ? 'streamed' : 'JSON'}: the result says whether the answer was streamed (a whole one shows no output speed)`, async () => {
        const s = site({ endpoint: { stream } });
        const r = await send(createAdapter(s), s);
        assert.equal(r.outcome, 'complete', r.error?.message);
        assert.equal(r.streamed, stream ? undefined : false);
      });
    }

    // Asked for identity or not, some servers and proxies compress; the answer must still stream as it comes.
    for (const [coding, stream] of [['gzip', true], ['deflate', true], ['br', true], ['gzip', false]] as const) {
      test(`${stream ? 'streamed' : 'JSON'} answer in ${coding}: decoded, pieces as they come`, async () => {
        fake.enqueue({ encoding: coding, delayMs: stream ? 5 : 0 });
        const s = site({ endpoint: { stream } });
        const r = await send(createAdapter(s), s);
        assert.equal(r.outcome, 'complete', r.error?.message);
        assert.equal(r.text, TEXT);
        assert.equal(r.deltas.length, stream ? DEFAULT_PIECES.length : 1);
        // Every family asks for identity. The OpenAI client reads the socket itself and counts wire bytes even
        // when a server compresses anyway; fetch hands the libraries decoded bytes then.
        assert.equal(last().headers['accept-encoding'], 'identity');
        if (format === 'openai') assert.equal(r.bytesReceived, last().bytesSent);
      });
    }

    // A weather agent's second turn: it called get_weather for Oslo, has the result, and is asked about Helsinki.
    const TOOLS: ToolDefinition[] = [
      { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
    ];
    const CONVERSATION: ChatMessage[] = [
      { role: 'system', content: 'Use the tools.' },
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_0', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
      { role: 'tool', toolCallId: 'call_0', content: '{"celsius":3}' },
      { role: 'user', content: 'And in Helsinki, and what time is it there?' },
    ];
    const CALLS = [
      { id: 'call_1', name: 'get_weather', arguments: '{"city":"Helsinki"}' },
      { id: 'call_2', name: 'get_time', arguments: '{"zone":"Europe/Helsinki"}' },
    ];

    for (const stream of [true, false]) {
      test(`${stream ? 'streamed' : 'JSON'}: tools, tool choice and earlier calls and results reach the provider in its own shapes; the calls come back whole`, async () => {
        fake.enqueue({ pieces: ['Checking.'], toolCalls: CALLS });
        const s = site({ endpoint: { stream } });
        const r = await send(createAdapter(s), s, { messages: CONVERSATION, tools: TOOLS, toolChoice: 'auto' });
        assert.equal(r.outcome, 'complete', r.error?.message);
        assert.equal(r.text, 'Checking.');
        // Gemini's calls carry no ids; the library makes them up.
        assert.deepEqual(r.toolCalls?.map((c) => ({ ...c, id: format === 'gemini' ? typeof c.id : c.id })), CALLS.map((c) => ({ ...c, id: format === 'gemini' ? 'string' : c.id })));
        assert.ok(r.toolCalls!.every((c) => c.id !== ''));
        // The pieces as they came add up to the calls; streamed OpenAI and Anthropic send the arguments in pieces.
        const pieces = r.toolCallDeltas.filter((d) => d.index === 0).map((d) => d.arguments ?? '').join('');
        assert.equal(pieces, CALLS[0].arguments);
        if (stream && format !== 'gemini') assert.ok(r.toolCallDeltas.length > CALLS.length, `pieces: ${JSON.stringify(r.toolCallDeltas)}`);
        const body = last().body;
        if (format === 'openai') {
          assert.deepEqual(body.tools.map((t: { type: string; function: { name: string } }) => [t.type, t.function.name]), [['function', 'get_weather'], ['function', 'get_time']]);
          assert.deepEqual(body.tools[0].function.parameters, TOOLS[0].parameters);
          assert.equal(body.tool_choice, 'auto');
          assert.deepEqual(body.messages[2], { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] });
          assert.deepEqual(body.messages[3], { role: 'tool', tool_call_id: 'call_0', content: '{"celsius":3}' });
        }
        if (format === 'anthropic') {
          assert.deepEqual(body.tools.map((t: { name: string }) => t.name), ['get_weather', 'get_time']);
          assert.deepEqual(body.tools[0].input_schema.properties, TOOLS[0].parameters!.properties);
          assert.equal(body.tool_choice.type, 'auto');
          assert.deepEqual(body.messages[1].content.find((p: { type: string }) => p.type === 'tool_use'), { type: 'tool_use', id: 'call_0', name: 'get_weather', input: { city: 'Oslo' } });
          const result = body.messages[2].content.find((p: { type: string }) => p.type === 'tool_result');
          assert.equal(result.tool_use_id, 'call_0');
          assert.match(JSON.stringify(result.content), /celsius/);
        }
        if (format === 'gemini') {
          assert.deepEqual(body.tools[0].functionDeclarations.map((f: { name: string }) => f.name), ['get_weather', 'get_time']);
          assert.equal(body.toolConfig.functionCallingConfig.mode, 'AUTO');
          const parts = body.contents.flatMap((c: { parts: unknown[] }) => c.parts);
          const call = parts.find((p: { functionCall?: unknown }) => p.functionCall).functionCall;
          assert.deepEqual([call.name, call.args], ['get_weather', { city: 'Oslo' }]);
          const response = parts.find((p: { functionResponse?: unknown }) => p.functionResponse).functionResponse;
          assert.equal(response.name, 'get_weather');
          assert.match(JSON.stringify(response.response), /celsius/);
        }
      });
    }

    test('the results of parallel calls go back together where the wire wants one turn for them', async () => {
      fake.enqueue({ pieces: ['Mild, and late.'] });
      const s = site({});
      const messages: ChatMessage[] = [
        { role: 'user', content: 'Weather and time in Helsinki?' },
        { role: 'assistant', content: '', toolCalls: CALLS },
        { role: 'tool', toolCallId: 'call_1', content: '{"celsius":1}' },
        { role: 'tool', toolCallId: 'call_2', content: '{"time":"23:10"}' },
      ];
      const r = await send(createAdapter(s), s, { messages, tools: TOOLS });
      assert.equal(r.outcome, 'complete', r.error?.message);
      const body = last().body;
      if (format === 'openai') assert.deepEqual(body.messages.slice(2).map((m: { role: string; tool_call_id: string }) => [m.role, m.tool_call_id]), [['tool', 'call_1'], ['tool', 'call_2']]);
      if (format === 'anthropic') {
        assert.deepEqual(body.messages[2].content.map((p: { type: string; tool_use_id: string }) => [p.type, p.tool_use_id]), [['tool_result', 'call_1'], ['tool_result', 'call_2']]);
      }
      if (format === 'gemini') {
        // Gemini refuses a turn whose function responses are fewer than its calls (400 INVALID_ARGUMENT).
        const [, model, answers, ...rest] = body.contents as { role: string; parts: { functionCall?: unknown; functionResponse?: { name: string } }[] }[];
        assert.deepEqual(model.parts.filter((p) => p.functionCall).length, 2);
        assert.deepEqual(answers.parts.map((p) => p.functionResponse?.name), ['get_weather', 'get_time']);
        assert.equal(rest.length, 0);
      }
    });

    test('parallel_tool_calls false reaches the providers that have the switch', async () => {
      fake.enqueue({ pieces: [], toolCalls: [CALLS[0]] });
      const s = site();
      const r = await send(createAdapter(s), s, { messages: CONVERSATION, tools: TOOLS, parallelToolCalls: false });
      assert.equal(r.outcome, 'complete', r.error?.message);
      const body = last().body;
      if (format === 'openai') assert.equal(body.parallel_tool_calls, false);
      if (format === 'anthropic') assert.equal(body.tool_choice?.disable_parallel_tool_use, true, JSON.stringify(body.tool_choice));
      // Gemini has no such switch: the request goes without it.
      if (format === 'gemini') assert.equal(JSON.stringify(body).includes('arallel'), false);
    });

    test('a tool choice naming one tool reaches the provider as a forced call', async () => {
      fake.enqueue({ pieces: [], toolCalls: [CALLS[1]] });
      const s = site();
      const r = await send(createAdapter(s), s, { messages: CONVERSATION, tools: TOOLS, toolChoice: { name: 'get_time' } });
      assert.equal(r.outcome, 'complete', r.error?.message);
      assert.equal(r.toolCalls?.[0].name, 'get_time');
      const body = last().body;
      const forced = { openai: body.tool_choice?.function?.name, anthropic: body.tool_choice?.name, gemini: body.toolConfig?.functionCallingConfig?.allowedFunctionNames?.[0] }[format];
      assert.equal(forced, 'get_time', JSON.stringify(body.tool_choice ?? body.toolConfig));
    });

    const SCHEMA = { type: 'object', properties: { celsius: { type: 'number' } }, required: ['celsius'], additionalProperties: false };
    const ANSWER = '{"celsius":3}';

    for (const stream of [true, false]) {
      test(`${stream ? 'streamed' : 'JSON'}: an answer to a schema is asked for in the provider's own way and comes back as text`, async () => {
        // Anthropic has no JSON mode: the library forces a tool named "json" and reads its input back as the text.
        fake.enqueue(format === 'anthropic' ? { pieces: [], toolCalls: [{ id: 'toolu_json', name: 'json', arguments: ANSWER }] } : { pieces: [ANSWER] });
        const s = site({ endpoint: { stream } });
        const r = await send(createAdapter(s), s, { responseFormat: { type: 'json', name: 'weather', schema: SCHEMA, strict: true } });
        assert.equal(r.outcome, 'complete', r.error?.message);
        assert.equal(r.text, ANSWER);
        assert.equal(r.toolCalls, undefined);
        const body = last().body;
        if (format === 'openai') assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'weather', schema: SCHEMA, strict: true } });
        if (format === 'anthropic') {
          const tool = body.tools?.find((t: { name: string }) => t.name === 'json');
          assert.deepEqual(tool?.input_schema?.properties, SCHEMA.properties, JSON.stringify(body.tools));
        }
        if (format === 'gemini') {
          assert.equal(body.generationConfig.responseMimeType, 'application/json');
          assert.deepEqual(Object.keys(body.generationConfig.responseSchema.properties), ['celsius']);
        }
      });
    }

    if (format !== 'anthropic') {
      test('any JSON object: the provider\'s JSON mode', async () => {
        fake.enqueue({ pieces: [ANSWER] });
        const s = site();
        const r = await send(createAdapter(s), s, { responseFormat: { type: 'json' } });
        assert.equal(r.text, ANSWER);
        const body = last().body;
        if (format === 'openai') assert.deepEqual(body.response_format, { type: 'json_object' });
        if (format === 'gemini') assert.equal(body.generationConfig.responseMimeType, 'application/json');
      });
    }

    test('reasoning effort reaches the OpenAI wire as reasoning_effort; the other wires go without it', async () => {
      const s = site();
      const r = await send(createAdapter(s), s, { reasoningEffort: 'high' });
      assert.equal(r.outcome, 'complete', r.error?.message);
      const body = last().body;
      if (format === 'openai') assert.equal(body.reasoning_effort, 'high');
      else assert.equal(JSON.stringify(body).includes('high'), false, JSON.stringify(body));
    });

    test('images shown with a user message reach the provider in its own shape, after the text', async () => {
      const png = 'iVBORw0KGgo=';
      const s = site();
      const r = await send(createAdapter(s), s, {
        messages: [{ role: 'user', content: 'What is in these?', images: [{ url: `data:image/png;base64,${png}`, detail: 'low' }, { url: 'https://example.com/cat.jpg' }] }],
      });
      assert.equal(r.outcome, 'complete', r.error?.message);
      const body = last().body;
      const sent = { openai: body.messages?.[0]?.content, anthropic: body.messages?.[0]?.content, gemini: body.contents?.[0]?.parts }[format];
      const expected = {
        openai: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${png}`, detail: 'low' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
        anthropic: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
        gemini: [
          { text: 'What is in these?' },
          { inlineData: { mimeType: 'image/png', data: png } },
          { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg' } },
        ],
      }[format];
      assert.deepEqual(sent, expected, JSON.stringify(body));
    });

    test('sampling reaches the provider in its own names', async () => {
      const s = site();
      const r = await send(createAdapter(s), s, { sampling: { temperature: 0.3, topP: 0.8, seed: 11 } });
      assert.equal(r.outcome, 'complete');
      const body = last().body;
      const sent = format === 'gemini' ? body.generationConfig : body;
      const expected: Record<WireFormat, Record<string, number>> = {
        openai: { temperature: 0.3, top_p: 0.8, seed: 11 },
        // Anthropic takes temperature or top_p, not both; the SDK keeps temperature.
        anthropic: { temperature: 0.3 },
        gemini: { temperature: 0.3, topP: 0.8, seed: 11 },
      };
      for (const [key, value] of Object.entries(expected[format])) assert.equal(sent[key], value, `${key} in ${JSON.stringify(body)}`);
    });

    test('stop sequences reach the provider in its own names', async () => {
      const s = site();
      // Ones every provider takes (test/unit/stop-sequences.test.ts has what each takes of a longer list).
      await send(createAdapter(s), s, { stop: ['###', 'END'] });
      const body = last().body;
      const sent = { openai: body.stop, anthropic: body.stop_sequences, gemini: body.generationConfig?.stopSequences }[format];
      assert.deepEqual(sent, ['###', 'END'], JSON.stringify(body));
    });

    test('time to first token counts the wait for the first piece', async () => {
      fake.enqueue({ firstDelayMs: 150, delayMs: 20 });
      const s = site();
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'complete');
      assert.ok(r.ttftMs! >= 140, `ttft ${r.ttftMs}`);
      assert.ok(r.durationMs >= r.ttftMs! + 80);
    });

    test('429 with Retry-After: retryable, status, the provider message, retryAfterMs, rate-limit headers', async () => {
      fake.enqueue({ fault: { kind: 'status', status: 429, retryAfter: '2', message: 'Rate limit reached for requests' } });
      const s = site();
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'error');
      assert.equal(r.error?.status, 429);
      assert.equal(r.error?.retryable, true);
      assert.equal(r.error?.retryAfterMs, 2000);
      assert.match(r.error!.message, /Rate limit reached/);
      assert.equal(r.headers['retry-after'], '2');
      assert.equal(r.ttftMs, null);
      assert.ok(r.bytesReceived > 0);
    });

    test('retry-after-ms wins over retry-after', async () => {
      fake.enqueue({ fault: { kind: 'status', status: 503, retryAfter: '5', retryAfterMs: 1500 } });
      const s = site();
      const r = await send(createAdapter(s), s);
      assert.equal(r.error?.status, 503);
      assert.equal(r.error?.retryable, true);
      assert.equal(r.error?.retryAfterMs, 1500);
    });

    test('500 is retryable', async () => {
      fake.enqueue({ fault: { kind: 'status', status: 500 } });
      const s = site();
      const r = await send(createAdapter(s), s);
      assert.deepEqual([r.outcome, r.error?.status, r.error?.retryable], ['error', 500, true]);
    });

    test('401 is not retryable, and a key the provider echoes is scrubbed', async () => {
      fake.enqueue({ fault: { kind: 'status', status: 401, message: `Incorrect API key provided: ${KEY}. Also sk-abcdefghijklmnopqrstuvwx.` } });
      const s = site();
      const r = await send(createAdapter(s), s, { apiKey: KEY });
      assert.deepEqual([r.outcome, r.error?.status, r.error?.retryable], ['error', 401, false]);
      assert.match(r.error!.message, /Incorrect API key provided/);
      const all = JSON.stringify(r);
      assert.ok(!all.includes(KEY), all);
      assert.ok(!all.includes(KEY.slice(0, 12)), all);
      assert.ok(!all.includes('sk-abcdefghijklmnopqrstuvwx'), all);
    });

    test('400 context too long is not retryable', async () => {
      fake.enqueue({ fault: { kind: 'status', status: 400, message: 'prompt is too long: 250000 tokens > 200000 maximum' } });
      const s = site();
      const r = await send(createAdapter(s), s);
      assert.deepEqual([r.outcome, r.error?.status, r.error?.retryable], ['error', 400, false]);
      assert.match(r.error!.message, /too long/);
    });

    test('a stall before any byte times out, retryable, and closes the upstream socket', async () => {
      fake.enqueue({ fault: { kind: 'stall', afterChunks: -1 } });
      const s = site({ endpoint: { idleTimeoutMs: 200 } });
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'error');
      assert.equal(r.error?.retryable, true);
      assert.match(r.error!.message, /timeout/);
      assert.equal(await last().closed, true);
    });

    test('a stall after the first pieces is a cut with the partial text', async () => {
      fake.enqueue({ fault: { kind: 'stall', afterChunks: 2 } });
      const s = site({ endpoint: { idleTimeoutMs: 200 } });
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'cut');
      assert.equal(r.text, DEFAULT_PIECES.slice(0, 2).join(''));
      assert.ok(r.ttftMs !== null);
      assert.equal(await last().closed, true);
    });

    test('a stream that ends without a finish after text is a cut', async () => {
      fake.enqueue({ fault: { kind: 'cut', afterChunks: 3 } });
      const s = site();
      const r = await send(createAdapter(s), s);
      assert.equal(r.outcome, 'cut');
      assert.equal(r.text, DEFAULT_PIECES.slice(0, 3).join(''));
      assert.equal(r.bytesReceived, last().bytesSent);
    });

    test('a stream that ends before any text is a retryable error', async () => {
      fake.enqueue({ fault: { kind: 'cut', afterChunks: 0 } });
      const s = site();
      const r = await send(createAdapter(s), s);
      assert.deepEqual([r.outcome, r.error?.retryable], ['error', true]);
    });

    for (const [kind, what] of [['reset', 'a connection reset'], ['malformed', 'a malformed event']] as const) {
      test(`${what} before the first token is a retryable error; after it, a cut`, async () => {
        fake.enqueue({ fault: { kind, afterChunks: 0 } }, { fault: { kind, afterChunks: 2 } });
        const s = site();
        const a = await send(createAdapter(s), s);
        assert.deepEqual([a.outcome, a.error?.retryable], ['error', true]);
        const b = await send(createAdapter(s), s);
        assert.equal(b.outcome, 'cut');
        assert.equal(b.text, DEFAULT_PIECES.slice(0, 2).join(''));
      });

      test(`${what} in a JSON answer is a retryable error`, async () => {
        fake.enqueue({ fault: { kind, afterChunks: 0 } });
        const s = site({ endpoint: { stream: false } });
        const r = await send(createAdapter(s), s);
        assert.deepEqual([r.outcome, r.error?.retryable], ['error', true]);
      });
    }

    test('an error sent inside the stream: retryable error before text, cut after', async () => {
      fake.enqueue({ fault: { kind: 'error-event', afterChunks: 0, type: 'overloaded_error', message: 'Overloaded' } }, { fault: { kind: 'error-event', afterChunks: 2 } });
      const s = site();
      const a = await send(createAdapter(s), s);
      assert.equal(a.outcome, 'error');
      assert.equal(a.error?.retryable, true);
      assert.match(a.error!.message, /Overloaded/);
      const b = await send(createAdapter(s), s);
      assert.equal(b.outcome, 'cut');
    });

    test('abort after the first token: cancelled, partial text kept, the upstream sees its socket close at once', async () => {
      fake.enqueue({ delayMs: 300, pieces: ['one', ' two', ' three', ' four'] });
      const s = site({ endpoint: { idleTimeoutMs: 5000 } });
      const controller = new AbortController();
      const started = Date.now();
      const r = await send(createAdapter(s), s, { signal: controller.signal, onDelta: () => controller.abort() });
      assert.equal(r.outcome, 'cancelled');
      assert.equal(r.text, 'one');
      assert.equal(r.error, undefined);
      assert.ok(r.ttftMs !== null);
      assert.equal(await last().closed, true);
      assert.ok(Date.now() - started < 1000, 'aborted without waiting for the stream');
    });

    test('abort before the answer starts: cancelled, no text', async () => {
      fake.enqueue({ firstDelayMs: 2000 });
      const s = site({ endpoint: { idleTimeoutMs: 5000 } });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const r = await send(createAdapter(s), s, { signal: controller.signal });
      assert.equal(r.outcome, 'cancelled');
      assert.equal(r.ttftMs, null);
      assert.equal(await last().closed, true);
    });

    test('no key: the provider answers 401 and the site is not retried', async () => {
      fake.enqueue({ fault: { kind: 'status', status: 401 } });
      const s = site();
      const r = await send(createAdapter(s), s, { apiKey: undefined });
      assert.equal(r.outcome, 'error');
      assert.equal(r.error?.retryable, false);
    });
  });
}
