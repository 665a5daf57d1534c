// Cancelled and cut streams are billed for what was produced: from reported usage when there is
// some, else counted with the tokenizer and marked estimated. Never zero.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage, PriceCard } from '../../daemon/protocol';
import { billAttempt } from '../../daemon/meter/bill';
import { addTokenFields, addUsage } from '../../daemon/meter/usage';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { countPromptTokens, countTextTokens, createTokenCounter, IMAGE_TOKENS, worstCase } from '../../daemon/meter/estimate';

const card: PriceCard = { inputPer1M: 1, outputPer1M: 2, readOn: '2026-07-24' };
const messages: ChatMessage[] = [{ role: 'user', content: 'Explain group commit in one paragraph.' }];
const text = 'Group commit batches many appends into one write and one fsync, so that';

test('an image in the prompt counts as the most one costs among the providers, its text as text', () => {
  const text = [{ role: 'user' as const, content: 'What is this?' }];
  const withImages = [{ ...text[0], images: [{ url: 'data:image/png;base64,iVBORw0KGgo=' }, { url: 'https://example.com/a.png' }] }];
  assert.equal(countPromptTokens(withImages), countPromptTokens(text) + 2 * IMAGE_TOKENS);
});

test('a completed stream with usage bills the usage as reported', () => {
  const usage = { input: 20, cachedInput: 0, cacheWrite: 0, output: 15, reasoning: 0 };
  const { tokens, cost } = billAttempt(card, { outcome: 'complete', usage, messages, text, bytesReceived: 0 });
  assert.equal(tokens.estimated, false);
  // 20 * 1000 + 15 * 2000
  assert.equal(cost.totalNanoUsd, 50_000);
});

test('a cut stream without usage is counted from prompt and streamed text, marked estimated', () => {
  const { tokens, cost } = billAttempt(card, { outcome: 'cut', usage: null, messages, text, bytesReceived: 4000 });
  assert.equal(tokens.estimated, true);
  assert.equal(tokens.input, countPromptTokens(messages));
  assert.equal(tokens.output, countTextTokens(text));
  assert.ok(tokens.output > 5);
  assert.equal(cost.totalNanoUsd, tokens.input * 1000 + tokens.output * 2000);
});

test('a cancelled stream with only message_start usage bills the text that arrived', () => {
  const usage = { input: 20, cachedInput: 0, cacheWrite: 0, output: 1, reasoning: 0 };
  const { tokens } = billAttempt(card, { outcome: 'cancelled', usage, messages, text, bytesReceived: 0 });
  assert.equal(tokens.input, 20, 'reported input wins');
  assert.equal(tokens.output, countTextTokens(text));
  assert.equal(tokens.estimated, true);
});

test('a cancelled stream whose usage covers the text keeps the provider count', () => {
  const usage = { input: 20, cachedInput: 0, cacheWrite: 0, output: 500, reasoning: 0 };
  const { tokens } = billAttempt(card, { outcome: 'cancelled', usage, messages, text, bytesReceived: 0 });
  assert.deepEqual([tokens.output, tokens.estimated], [500, false]);
});

test('a cut stream whose usage reports reasoning apart: the text that arrived is counted beside the reasoning, not instead of it', () => {
  // Gemini's running usageMetadata as far as the cut: 2 thoughts, and candidates that its tokenizer counts
  // 3 fewer than o200k counts the text that arrived. Output is the thoughts plus the larger text count.
  const arrived = countTextTokens(text);
  const usage = { input: 20, cachedInput: 0, cacheWrite: 0, output: arrived - 3 + 2, reasoning: 2 };
  const { tokens } = billAttempt(card, { outcome: 'cut', usage, messages, text, bytesReceived: 0 });
  assert.deepEqual([tokens.output, tokens.reasoning, tokens.estimated], [arrived + 2, 2, true]);
});

test('a 1-hour cache write the provider reported reaches the receipt\'s tokens and is billed at its rate', () => {
  const claude: PriceCard = { inputPer1M: 3, cacheWritePer1M: 3.75, cacheWrite1hPer1M: 6, outputPer1M: 15, readOn: '2026-07-24' };
  const usage = { input: 20, cachedInput: 0, cacheWrite: 300, cacheWrite1h: 200, output: 500, reasoning: 0 };
  const { tokens, cost } = billAttempt(claude, { outcome: 'complete', usage, messages, text, bytesReceived: 0 });
  assert.deepEqual([tokens.cacheWrite, tokens.cacheWrite1h], [300, 200]);
  // 100 * 3750 + 200 * 6000
  assert.equal(cost.cacheWriteNanoUsd, 1_575_000);
  // Without 1-hour writes the receipt carries no share at all, as receipts written before it existed.
  const plain = billAttempt(claude, { outcome: 'complete', usage: { ...usage, cacheWrite1h: undefined }, messages, text, bytesReceived: 0 });
  assert.equal('cacheWrite1h' in plain.tokens, false);
});

test('sums of usage and of receipt tokens add the 1-hour share, an absent one (an older receipt) counting as none', () => {
  const old = { input: 1, cachedInput: 2, cacheWrite: 30, output: 4, reasoning: 0 };
  const withHour = { ...old, cacheWrite1h: 20 };
  assert.equal(addTokenFields(old, withHour).cacheWrite1h, 20);
  assert.equal(addTokenFields(withHour, withHour).cacheWrite1h, 40);
  assert.equal('cacheWrite1h' in addTokenFields(old, old), false);
  assert.deepEqual([addUsage(withHour, withHour).cacheWrite, addUsage(withHour, withHour).cacheWrite1h], [60, 40]);
});

test('worst case: prompt with margin, every allowed output token, egress for them', () => {
  const egress: PriceCard = { ...card, egressPerGB: 0.09 };
  const w = worstCase(egress, messages, 1000);
  const prompt = Math.ceil(w.promptTokens * 1.1);
  assert.equal(w.cost.inputNanoUsd, prompt * 1000);
  assert.equal(w.cost.outputNanoUsd, 2_000_000);
  // 1000 tokens * 230 B = 230,000 B * 0.09 nano/B = 20,700
  assert.equal(w.cost.dataTransferNanoUsd, 20_700);
});

test('long texts are counted once and then remembered, least recently used first out, within a character budget', () => {
  const seen: string[] = [];
  const count = createTokenCounter((text) => (seen.push(text), text.length), { minChars: 10, maxChars: 30 });
  const a = 'a'.repeat(12);
  const b = 'b'.repeat(12);
  const c = 'c'.repeat(12);
  assert.equal(count('short'), 5);
  assert.equal(count('short'), 5);
  assert.deepEqual(seen, ['short', 'short'], 'short texts are not worth remembering');
  seen.length = 0;
  assert.deepEqual([count(a), count(b), count(a)], [12, 12, 12]);
  assert.deepEqual(seen, [a, b], 'the second count of a is remembered');
  count(c); // 36 characters held > 30: b, the least recently used, goes
  seen.length = 0;
  count(a);
  count(c);
  count(b);
  assert.deepEqual(seen, [b]);
  assert.equal(count('x'.repeat(40)), 40);
  assert.equal(count(''), 0);
  // A prompt typed above a long context: the context is counted once, the prompt each time it changes.
  seen.length = 0;
  const typed = createTokenCounter((text) => (seen.push(text), text.length), { minChars: 10, maxChars: 100 });
  const context = `From a.ts:\n${'z'.repeat(40)}`;
  assert.deepEqual([typed(`why?\n\n${context}`), typed(`and how?\n\n${context}`)], [6 + context.length, 10 + context.length]);
  assert.deepEqual(seen, ['why?\n\n', context, 'and how?\n\n']);
  // The shared counter agrees with the tokenizer on a long text, the first time and from memory.
  const long = 'def add(a, b):\n    return a + b\n'.repeat(100);
  assert.equal(countTextTokens(long), countTextTokens(long));
  assert.ok(countTextTokens(long) > 1000);
  // Counted in two pieces at its first blank line, a long text counts as the tokenizer counts it whole.
  const asked = `Explain this function, please.\n\nFrom add.py (lines 1-200):\n\`\`\`python\n${long}\`\`\``;
  assert.equal(countTextTokens(asked), countTokens(asked));
});

test('a cancel while the model thinks bills the reasoning that streamed, not message_start\'s one token', () => {
  // Anthropic streams thinking before any text; cancelled then, its usage is message_start's.
  const reasoningText = 'The user asks about group commit. I should explain that appends waiting for the same flush share it, '.repeat(4);
  const usage = { input: 20, cachedInput: 0, cacheWrite: 0, output: 1, reasoning: 0 };
  const { tokens, cost } = billAttempt(card, { outcome: 'cancelled', usage, messages, text: '', reasoningText, bytesReceived: 0 });
  const thought = countTextTokens(reasoningText);
  assert.ok(thought > 50);
  assert.deepEqual([tokens.output, tokens.reasoning, tokens.estimated], [1 + thought, thought, true]);
  assert.equal(cost.totalNanoUsd, 20 * 1000 + (1 + thought) * 2000);
});

test('a stream that reported no usage bills its reasoning beside its text', () => {
  const reasoningText = 'First recall what fsync guarantees, then what batching changes.';
  const { tokens } = billAttempt(card, { outcome: 'complete', usage: null, messages, text, reasoningText, bytesReceived: 0 });
  assert.deepEqual([tokens.output, tokens.reasoning, tokens.estimated], [countTextTokens(text) + countTextTokens(reasoningText), countTextTokens(reasoningText), true]);
});

test('an interrupted answer whose usage is final keeps the site\'s own count, whatever its text counts', () => {
  // A simulated site counts the words it made; its label around them is text, not output.
  const usage = { input: 20, cachedInput: 0, cacheWrite: 0, output: 3, reasoning: 0, final: true as const };
  const { tokens } = billAttempt(card, { outcome: 'cancelled', usage, messages, text: `[simulated answer at some site] ${text}`, bytesReceived: 0 });
  assert.deepEqual([tokens.output, tokens.estimated], [3, false]);
});
