// Sampling on the way in: switchyard/chat params and OpenAI request bodies share one validator, each
// naming a bad field the way its own API spells it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParams, validateChat } from '../../daemon/chat/validate';
import { parseCompletionRequest, RequestError } from '../../daemon/openai/request';

const base = { model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] };

test('switchyard/chat: sampling within range passes as given; absent fields stay absent', () => {
  assert.deepEqual(validateChat({ ...base, sampling: { temperature: 0.2, topP: 1, seed: 7, frequencyPenalty: -2 } }).sampling, { temperature: 0.2, topP: 1, seed: 7, frequencyPenalty: -2 });
  assert.equal(validateChat(base).sampling, undefined);
  assert.equal(validateChat({ ...base, sampling: {} }).sampling, undefined);
});

test('an output cap is taken as given; without one none is made up (the site\'s limit applies); a bad one is refused', () => {
  assert.equal(validateChat({ ...base, maxTokens: 77 }).maxTokens, 77);
  assert.ok(!('maxTokens' in validateChat(base)));
  assert.ok(!('maxTokens' in validateChat({ ...base, maxTokens: null })));
  assert.throws(() => validateChat({ ...base, maxTokens: 0 }), /params\.maxTokens must be an integer 1-200000, got 0/);
  assert.equal(parseCompletionRequest({ ...base, max_tokens: 5 }, {}).params.maxTokens, 5);
  assert.equal(parseCompletionRequest(base, {}).params.maxTokens, undefined);
});

test('images: OpenAI image_url parts become the user message\'s images, after its text; a bad one is refused naming the field', () => {
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: [{ type: 'text', text: 'Look: ' }, { type: 'image_url', image_url: { url: png, detail: 'high' } }, { type: 'text', text: 'what is it?' }] }] };
  const { params } = parseCompletionRequest(body, {});
  assert.deepEqual(params.messages, [{ role: 'user', content: 'Look: what is it?', images: [{ url: png, detail: 'high' }] }]);
  assert.deepEqual(validateChat(params).messages, params.messages);
  const bare = parseCompletionRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: png }] }] }, {});
  assert.deepEqual(bare.params.messages, [{ role: 'user', content: '', images: [{ url: png }] }]);

  const refused = (content: unknown[], role = 'user'): [string | null, string] | null => {
    try {
      parseCompletionRequest({ model: 'gpt-4o', messages: [{ role, content }] }, {});
    } catch (error) {
      return [(error as RequestError).param, (error as Error).message];
    }
    return null;
  };
  assert.deepEqual(refused([{ type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz4=' } }]), ['messages[0].content[0].image_url.url', 'messages[0].content[0].image_url.url must be data:image/(png|jpeg|gif|webp);base64,<data>']);
  assert.deepEqual(refused([{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }])?.[0], 'messages[0].content[0].image_url.url');
  assert.deepEqual(refused([{ type: 'image_url', image_url: { url: png, detail: 'max' } }])?.[0], 'messages[0].content[0].image_url.detail');
  assert.match(refused([{ type: 'image_url', image_url: { url: png } }], 'assistant')![1], /only text parts are supported here, got "image_url"/);
  assert.match(refused([{ type: 'input_audio', input_audio: {} }])![1], /text and image_url parts are supported, got "input_audio"/);
  assert.match(refused(Array.from({ length: 21 }, () => ({ type: 'image_url', image_url: { url: png } })))![1], /at most 20 images/);

  assert.throws(() => validateChat({ ...base, messages: [{ role: 'assistant', content: 'x', images: [{ url: png }] }] }), /params\.messages\[0\]\.images: only a user message shows images/);
  assert.throws(() => validateChat({ ...base, messages: [{ role: 'user', content: 'x', images: [] }] }), /params\.messages\[0\]\.images must be an array of 1-20 images/);
  assert.throws(() => validateChat({ ...base, messages: [{ role: 'user', content: 'x', images: [{ url: 'nope' }] }] }), /params\.messages\[0\]\.images\[0\]\.url must be a data: URL or an http\(s\) URL/);
});

test('switchyard/chat: a sampling field out of range is refused, naming it', () => {
  assert.throws(() => validateChat({ ...base, sampling: { temperature: 2.5 } }), (e: Error) => e instanceof InvalidParams && /params\.sampling\.temperature must be a number from 0 to 2, got 2\.5/.test(e.message));
  assert.throws(() => validateChat({ ...base, sampling: { seed: 1.5 } }), /params\.sampling\.seed must be an integer, got 1\.5/);
  assert.throws(() => validateChat({ ...base, sampling: { topP: '1' } }), /params\.sampling\.topP must be a number from 0 to 1, got "1"/);
  assert.throws(() => validateChat({ ...base, sampling: [] }), /params\.sampling must be an object/);
});

test('stop sequences: a string or a list of up to 64 non-empty strings, for both APIs (Continue sends more than OpenAI\'s 4); otherwise refused naming the field', () => {
  assert.deepEqual(validateChat({ ...base, stop: ['\n\n', '###'] }).stop, ['\n\n', '###']);
  assert.equal(validateChat(base).stop, undefined);
  // Continue's autocomplete: a template's stop tokens, its own, the language's.
  const continues = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>', '<|im_start|>', '<|im_end|>', '\n\n', '\r\n\r\n', '/src/', '#- coding: utf-8', '```'];
  assert.deepEqual(validateChat({ ...base, stop: continues }).stop, continues);
  assert.deepEqual(parseCompletionRequest({ ...base, stop: continues }, {}).params.stop, continues);
  const many = Array.from({ length: 64 }, (_, i) => `S${i}`);
  assert.equal(validateChat({ ...base, stop: many }).stop?.length, 64);
  assert.throws(() => validateChat({ ...base, stop: [...many, 'one more'] }), /params\.stop has 65 strings; at most 64 are taken$/);
  assert.throws(() => parseCompletionRequest({ ...base, stop: [...many, 'x'] }, {}), (e: Error) => e instanceof RequestError && e.param === 'stop' && /^stop has 65 strings; at most 64/.test(e.message));
  assert.throws(() => validateChat({ ...base, stop: ['a', ''] }), /params\.stop\[1\] must be a non-empty string of at most 1000 characters, got ""/);
  assert.throws(() => validateChat({ ...base, stop: ['x'.repeat(1001)] }), /params\.stop\[0\] must be a non-empty string of at most 1000 characters/);
  assert.deepEqual(parseCompletionRequest({ ...base, stop: 'END' }, {}).params.stop, ['END']);
  assert.equal(parseCompletionRequest({ ...base, stop: null }, {}).params.stop, undefined);
  assert.throws(() => parseCompletionRequest({ ...base, stop: 42 }, {}), (e: Error) => e instanceof RequestError && e.param === 'stop' && /^stop must be a string or an array of strings, got 42$/.test(e.message));
  assert.throws(() => parseCompletionRequest({ ...base, stop: ['ok', 7] }, {}), (e: Error) => e instanceof RequestError && e.param === 'stop' && /^stop\[1\] must be a non-empty string/.test(e.message));
});

test('OpenAI body: temperature, top_p, penalties and seed become sampling; null means the site default', () => {
  const { params } = parseCompletionRequest({ ...base, temperature: 0, top_p: 0.9, presence_penalty: 0.5, frequency_penalty: null, seed: 42, user: 'ignored' }, {});
  assert.deepEqual(params.sampling, { temperature: 0, topP: 0.9, presencePenalty: 0.5, seed: 42 });
  assert.equal(parseCompletionRequest(base, {}).params.sampling, undefined);
});

test('OpenAI body: a bad sampling value is a 400 whose param is the field as OpenAI names it', () => {
  assert.throws(() => parseCompletionRequest({ ...base, top_p: 3 }, {}), (e: Error) => e instanceof RequestError && e.param === 'top_p' && /^top_p must be a number from 0 to 1, got 3$/.test(e.message));
  assert.throws(() => parseCompletionRequest({ ...base, presence_penalty: -3 }, {}), (e: Error) => e instanceof RequestError && e.param === 'presence_penalty');
});

const weather = { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
const called = [
  { role: 'user', content: 'Weather in Oslo?' },
  { role: 'assistant', content: '', toolCalls: [{ id: 'call_0', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
  { role: 'tool', toolCallId: 'call_0', content: '{"celsius":3}' },
];

test('switchyard/chat: tools, tool choice and a conversation with calls and results pass as given', () => {
  const p = validateChat({ ...base, messages: called, tools: [weather], toolChoice: { name: 'get_weather' }, parallelToolCalls: false });
  assert.deepEqual(p.tools, [weather]);
  assert.deepEqual(p.toolChoice, { name: 'get_weather' });
  assert.equal(p.parallelToolCalls, false);
  assert.deepEqual(p.messages, called);
  assert.equal(validateChat(base).tools, undefined);
  assert.equal(validateChat({ ...base, tools: [] }).tools, undefined);
});

test('switchyard/chat: bad tools and tool messages are refused, naming the field', () => {
  const refuses = (params: object, pattern: RegExp) => assert.throws(() => validateChat({ ...base, ...params }), (e: Error) => e instanceof InvalidParams && pattern.test(e.message), JSON.stringify(params));
  refuses({ tools: [{ name: 'get weather' }] }, /params\.tools\[0\]\.name must be 1-64 letters, digits, _ or -, got "get weather"/);
  refuses({ tools: [weather, weather] }, /params\.tools\[1\]\.name: "get_weather" is defined twice/);
  refuses({ tools: [{ name: 'x', parameters: [] }] }, /params\.tools\[0\]\.parameters must be a JSON Schema object/);
  refuses({ tools: [weather], toolChoice: { name: 'get_time' } }, /params\.toolChoice names "get_time", which is not among the tools/);
  refuses({ toolChoice: 'required' }, /params\.toolChoice: "required" needs tools/);
  refuses({ tools: [weather], toolChoice: 'always' }, /params\.toolChoice must be "auto", "none", "required" or \{"name": <a tool>\}/);
  refuses({ messages: [{ role: 'tool', toolCallId: 'call_9', content: '1' }] }, /params\.messages\[0\]\.toolCallId "call_9" answers no tool call of an earlier assistant message/);
  refuses({ messages: [{ role: 'tool', content: '1' }] }, /params\.messages\[0\]\.toolCallId must name the tool call/);
  refuses({ messages: [{ role: 'user', content: 'x', toolCalls: [] }] }, /params\.messages\[0\]\.toolCalls: only an assistant message carries tool calls/);
  refuses({ messages: [{ role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'f', arguments: {} }] }] }, /params\.messages\[0\]\.toolCalls\[0\]\.arguments must be the JSON text/);
  refuses({ parallelToolCalls: 'no' }, /params\.parallelToolCalls must be a boolean/);
});

test('OpenAI body: tools, tool_choice, parallel_tool_calls, tool_calls and tool messages become the contract\'s', () => {
  const { params } = parseCompletionRequest({
    ...base,
    messages: [
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_0', content: '{"celsius":3}' },
    ],
    tools: [{ type: 'function', function: weather }],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false,
  }, {});
  assert.deepEqual(validateChat(params).messages, called);
  assert.deepEqual(params.tools, [weather]);
  assert.deepEqual(params.toolChoice, { name: 'get_weather' });
  assert.equal(params.parallelToolCalls, false);
  assert.equal(parseCompletionRequest({ ...base, tool_choice: 'none' }, {}).params.toolChoice, 'none');
});

test('OpenAI body: a bad tool is a 400 whose param is the field as OpenAI names it; the functions API is refused with what to send instead', () => {
  const refuses = (body: object, param: string, pattern: RegExp) =>
    assert.throws(() => parseCompletionRequest({ ...base, ...body }, {}), (e: Error) => e instanceof RequestError && e.param === param && pattern.test(e.message), JSON.stringify(body));
  refuses({ tools: [{ type: 'function', function: { name: 'a b' } }] }, 'tools[0].function.name', /^tools\[0\]\.function\.name must be 1-64 letters/);
  refuses({ tools: [{ type: 'code_interpreter' }] }, 'tools[0]', /only \{"type": "function"/);
  refuses({ tools: [{ type: 'function', function: weather }], tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice', /names "nope", which is not among the tools/);
  refuses({ functions: [weather] }, 'functions', /deprecated functions API .* send tools instead/);
  refuses({ messages: [{ role: 'function', name: 'f', content: '1' }] }, 'messages[0].role', /answer a tool call with role "tool"/);
  refuses({ parallel_tool_calls: 1 }, 'parallel_tool_calls', /must be a boolean/);
});

test('response format: the contract\'s {type: json} and OpenAI\'s json_object and json_schema; anything else refused naming the field', () => {
  const schema = { type: 'object', properties: { celsius: { type: 'number' } } };
  assert.deepEqual(validateChat({ ...base, responseFormat: { type: 'json', name: 'weather', schema, strict: true } }).responseFormat, { type: 'json', name: 'weather', schema, strict: true });
  assert.throws(() => validateChat({ ...base, responseFormat: { type: 'xml' } }), /params\.responseFormat must be \{"type": "json"\}/);
  assert.throws(() => validateChat({ ...base, responseFormat: { type: 'json', schema: 'object' } }), /params\.responseFormat\.schema must be a JSON Schema object/);
  assert.throws(() => validateChat({ ...base, responseFormat: { type: 'json', name: 'a b' } }), /params\.responseFormat\.name must be 1-64 letters/);

  const openai = (response_format: unknown) => parseCompletionRequest({ ...base, response_format }, {}).params.responseFormat;
  assert.equal(openai({ type: 'text' }), undefined);
  assert.deepEqual(openai({ type: 'json_object' }), { type: 'json' });
  assert.deepEqual(openai({ type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } }), { type: 'json', name: 'weather', schema, strict: true });
  assert.throws(() => openai({ type: 'json_schema', json_schema: { name: 'weather', schema: [] } }), (e: Error) => e instanceof RequestError && e.param === 'response_format' && /response_format\.json_schema\.schema must be a JSON Schema object/.test(e.message));
  assert.throws(() => openai({ type: 'yaml' }), (e: Error) => e instanceof RequestError && e.param === 'response_format' && /json_object/.test(e.message));
});

test('reasoning effort: one of OpenAI\'s, in both APIs; anything else refused naming the field', () => {
  assert.equal(validateChat({ ...base, reasoningEffort: 'low' }).reasoningEffort, 'low');
  assert.throws(() => validateChat({ ...base, reasoningEffort: 'max' }), /params\.reasoningEffort must be one of "none", "minimal", "low", "medium", "high", "xhigh", got "max"/);
  // GPT-5.1's "none" and the codex models' "xhigh" go to the site as written.
  for (const effort of ['none', 'xhigh']) assert.equal(parseCompletionRequest({ ...base, reasoning_effort: effort }, {}).params.reasoningEffort, effort);
  assert.equal(parseCompletionRequest({ ...base, reasoning_effort: 'high' }, {}).params.reasoningEffort, 'high');
  assert.equal(parseCompletionRequest({ ...base, reasoning_effort: null }, {}).params.reasoningEffort, undefined);
  assert.throws(() => parseCompletionRequest({ ...base, reasoning_effort: 3 }, {}), (e: Error) => e instanceof RequestError && e.param === 'reasoning_effort');
});

test('a chat request\'s unknown field is refused by name, not ignored: a misspelt temprature would change the answer unseen', () => {
  const ok = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  assert.throws(() => validateChat({ ...ok, temprature: 0.2 }), /^Error: params\.temprature is not a field of a chat request \(known: model, messages, /);
  assert.throws(() => validateChat({ ...ok, sampling: { temprature: 0.2 } }), /params\.sampling\.temprature is not a sampling setting/);
  assert.equal(validateChat({ ...ok, sampling: { temperature: 0.2 } }).sampling?.temperature, 0.2);
});

