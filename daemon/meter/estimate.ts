// Token counts from text, for the two cases where the provider's own count is not available:
// before dispatch (worst-case cost for placement and the budget reservation) and after a stream
// that ended without usage. o200k_base is OpenAI's current encoding; other providers' tokenizers
// differ by some percent, which is why pre-dispatch prompts get a margin and receipts counted this
// way are marked estimated.

import type * as O200k from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatMessage, ChatParams, CostBreakdown, PriceCard, ToolCall } from '../protocol';

/** What a request sends besides its messages that the model reads as prompt. */
export type PromptDefinitions = Pick<ChatParams, 'tools' | 'responseFormat'>;
import { priceUsage } from './pricing';

/** Chat framing per message (role and separators) and to prime the reply, as OpenAI counts them. */
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;
/** Other tokenizers (Llama, Claude, Gemini) can count more than o200k; reserve for that. */
const PROMPT_MARGIN = 1.1;
/**
 * An image in the prompt, without its size (a URL's is unknown until the provider fetches it): about the
 * most one costs among the providers. OpenAI, high detail: 85 + 170 per 512 px tile, 1105 for a 768 x 2048
 * image; Anthropic: width x height / 750, ~1600 at its 1.15 megapixel limit; Gemini: 258 per 768 px tile.
 */
export const IMAGE_TOKENS = 1600;
/** Bytes on the wire per streamed output token (SSE framing included; fleet-reference estimate). */
export const BYTES_PER_STREAMED_TOKEN = 230;

/**
 * A token counter that remembers the counts of long texts, least recently used first out, up to a
 * total number of characters. Counting is the costly part of a request's start (about 1 ms per 4 KB
 * on a slow machine), and a conversation resends every earlier message with each new turn.
 *
 * A long text's first paragraph and the rest are counted apart, each remembered on its own: the prompt
 * panel puts the prompt being typed above the selection or file it asks about, and previews where it
 * would go at every pause in typing, so only the prompt is counted again. The pieces part after a
 * blank line, where the tokenizer parts anyway, so the sum is the whole's count but for an odd token.
 */
export function createTokenCounter(count: (text: string) => number, options: { minChars?: number; maxChars?: number } = {}): (text: string) => number {
  const minChars = options.minChars ?? 1024;
  const maxChars = options.maxChars ?? 8 * 1024 * 1024;
  const counts = new Map<string, number>();
  let held = 0;
  const remembered = (text: string): number => {
    if (text.length < minChars) return count(text);
    const known = counts.get(text);
    if (known !== undefined) {
      // Re-inserted so that the map's order is the order of last use.
      counts.delete(text);
      counts.set(text, known);
      return known;
    }
    const n = count(text);
    if (text.length > maxChars) return n;
    counts.set(text, n);
    held += text.length;
    for (const oldest of counts.keys()) {
      if (held <= maxChars) break;
      counts.delete(oldest);
      held -= oldest.length;
    }
    return n;
  };
  return (text) => {
    if (!text) return 0;
    if (text.length < minChars) return count(text);
    // After the blank line's newlines: the tokenizer joins them to what precedes (".\n\n" is one token).
    const blank = /\n\n+/.exec(text);
    const rest = blank ? blank.index + blank[0].length : 0;
    return rest > 0 && rest < text.length ? remembered(text.slice(0, rest)) + remembered(text.slice(rest)) : remembered(text);
  };
}

// Building o200k's tables takes about half a second, a third of the daemon's start: they are built at
// the first count, or by warmTokenizer once the daemon is listening, not before it can answer.
let o200k: typeof O200k | undefined;

/**
 * Runs without whitespace longer than this are counted a slice at a time. The tokenizer's merge step is
 * quadratic in a run's length: 100,000 characters of one run (a base64 blob, minified code, CJK text)
 * took ten seconds, all of it with the daemon unable to answer any window. Each slice's edge may cost a
 * token of accuracy, well within PROMPT_MARGIN; text with ordinary words is counted exactly as before.
 */
const MAX_RUN = 256;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1},}`, 'g');

function countTokens(text: string): number {
  o200k ??= require('gpt-tokenizer/encoding/o200k_base') as typeof O200k;
  const count = o200k.countTokens;
  let total = 0;
  let from = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    total += count(text.slice(from, run.index));
    for (let at = 0; at < run[0].length; at += MAX_RUN) total += count(run[0].slice(at, at + MAX_RUN));
    from = run.index + run[0].length;
  }
  return total + count(text.slice(from));
}

/** Builds the tokenizer's tables now, so that the first request does not wait for them. */
export function warmTokenizer(): void {
  countTokens('warm');
}

export const countTextTokens = createTokenCounter(countTokens);

/** Tool calls as the model writes them: each call's name and argument text. */
export function countToolCallTokens(calls: readonly ToolCall[] | undefined): number {
  let total = 0;
  for (const c of calls ?? []) total += countTextTokens(c.name) + countTextTokens(c.arguments);
  return total;
}

/** The prompt: every message with its framing, the calls and results of tools in it, tool definitions and a response schema. */
export function countPromptTokens(messages: readonly ChatMessage[], definitions?: PromptDefinitions): number {
  let total = TOKENS_PER_REPLY;
  for (const m of messages) total += TOKENS_PER_MESSAGE + countTextTokens(m.content) + countToolCallTokens(m.toolCalls) + IMAGE_TOKENS * (m.images?.length ?? 0);
  // Providers render definitions into the prompt in their own ways; their JSON is a fair measure.
  if (definitions?.tools?.length) total += countTextTokens(JSON.stringify(definitions.tools));
  if (definitions?.responseFormat?.schema) total += countTextTokens(JSON.stringify(definitions.responseFormat.schema));
  return total;
}

/** The prompt size a worst case is priced on: the count with the margin for other tokenizers. */
export function worstCasePromptTokens(promptTokens: number): number {
  return Math.ceil(promptTokens * PROMPT_MARGIN);
}

/**
 * The request's own cap held to the model's catalog maximum: a provider refuses a max_tokens above what
 * its model gives (a 400, not a shorter answer), and the answer cannot be longer anyway.
 */
export function heldToModel(model: { maxOutputTokens?: number }, maxTokens: number): number {
  return model.maxOutputTokens !== undefined ? Math.min(maxTokens, model.maxOutputTokens) : maxTokens;
}

/**
 * The most output a request can get at a site: its own cap (held to the model's maximum), or without
 * one the model's: its catalog maximum, else the context window left after the prompt. The prompt is
 * taken at the smallest another tokenizer could count it (the margin's other side), so the room is
 * never smaller than the provider's.
 */
export function outputCap(model: { contextWindow: number; maxOutputTokens?: number }, promptTokens: number, maxTokens: number | undefined): number {
  if (maxTokens !== undefined) return heldToModel(model, maxTokens);
  const room = Math.max(0, model.contextWindow - Math.floor(promptTokens / PROMPT_MARGIN));
  return model.maxOutputTokens !== undefined ? Math.min(model.maxOutputTokens, room) : room;
}

export interface WorstCase {
  /** Prompt tokens as counted, before the margin. */
  promptTokens: number;
  /** Every prompt token uncached (plus margin), every allowed output token produced and streamed. */
  cost: CostBreakdown;
}

export function worstCase(card: PriceCard, messages: readonly ChatMessage[], maxTokens: number, definitions?: PromptDefinitions): WorstCase {
  return worstCaseOf(card, countPromptTokens(messages, definitions), maxTokens);
}

/** The same, for a prompt already counted with countPromptTokens (counting is the costly part). */
export function worstCaseOf(card: PriceCard, promptTokens: number, maxTokens: number): WorstCase {
  const output = Math.max(0, Math.ceil(maxTokens));
  const cost = priceUsage(
    card,
    { input: worstCasePromptTokens(promptTokens), cachedInput: 0, cacheWrite: 0, output, reasoning: 0 },
    output * BYTES_PER_STREAMED_TOKEN,
  );
  return { promptTokens, cost };
}
