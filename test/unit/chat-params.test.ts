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

test('switchyard/chat: a sampling field out of range is refused, naming it', () => {
  assert.throws(() => validateChat({ ...base, sampling: { temperature: 2.5 } }), (e: Error) => e instanceof InvalidParams && /params\.sampling\.temperature must be a number from 0 to 2, got 2\.5/.test(e.message));
  assert.throws(() => validateChat({ ...base, sampling: { seed: 1.5 } }), /params\.sampling\.seed must be an integer, got 1\.5/);
  assert.throws(() => validateChat({ ...base, sampling: { topP: '1' } }), /params\.sampling\.topP must be a number from 0 to 1, got "1"/);
  assert.throws(() => validateChat({ ...base, sampling: [] }), /params\.sampling must be an object/);
});

test('stop sequences: a string or up to 4 non-empty strings, for both APIs; otherwise refused naming the field', () => {
  assert.deepEqual(validateChat({ ...base, stop: ['\n\n', '###'] }).stop, ['\n\n', '###']);
  assert.equal(validateChat(base).stop, undefined);
  assert.throws(() => validateChat({ ...base, stop: ['a', 'b', 'c', 'd', 'e'] }), /params\.stop must be a non-empty string or an array of at most 4/);
  assert.throws(() => validateChat({ ...base, stop: [''] }), /params\.stop/);
  assert.deepEqual(parseCompletionRequest({ ...base, stop: 'END' }, {}).params.stop, ['END']);
  assert.equal(parseCompletionRequest({ ...base, stop: null }, {}).params.stop, undefined);
  assert.throws(() => parseCompletionRequest({ ...base, stop: 42 }, {}), (e: Error) => e instanceof RequestError && e.param === 'stop');
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
