// Token counts from text, for the two cases where the provider's own count is not available:
// before dispatch (worst-case cost for placement and the budget reservation) and after a stream
// that ended without usage. o200k_base is OpenAI's current encoding; other providers' tokenizers
// differ by some percent, which is why pre-dispatch prompts get a margin and receipts counted this
// way are marked estimated.

import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatMessage, CostBreakdown, PriceCard } from '../protocol';
import { priceUsage } from './pricing';

/** Chat framing per message (role and separators) and to prime the reply, as OpenAI counts them. */
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;
/** Other tokenizers (Llama, Claude, Gemini) can count more than o200k; reserve for that. */
const PROMPT_MARGIN = 1.1;
/** Bytes on the wire per streamed output token (SSE framing included; fleet-reference estimate). */
export const BYTES_PER_STREAMED_TOKEN = 230;

export function countTextTokens(text: string): number {
  return text ? countTokens(text) : 0;
}

export function countPromptTokens(messages: readonly ChatMessage[]): number {
  let total = TOKENS_PER_REPLY;
  for (const m of messages) total += TOKENS_PER_MESSAGE + countTextTokens(m.content);
  return total;
}

export interface WorstCase {
  /** Prompt tokens as counted, before the margin. */
  promptTokens: number;
  /** Every prompt token uncached (plus margin), every allowed output token produced and streamed. */
  cost: CostBreakdown;
}

export function worstCase(card: PriceCard, messages: readonly ChatMessage[], maxTokens: number): WorstCase {
  return worstCaseOf(card, countPromptTokens(messages), maxTokens);
}

/** The same, for a prompt already counted with countPromptTokens (counting is the costly part). */
export function worstCaseOf(card: PriceCard, promptTokens: number, maxTokens: number): WorstCase {
  const output = Math.max(0, Math.ceil(maxTokens));
  const cost = priceUsage(
    card,
    { input: Math.ceil(promptTokens * PROMPT_MARGIN), cachedInput: 0, cacheWrite: 0, output, reasoning: 0 },
    output * BYTES_PER_STREAMED_TOKEN,
  );
  return { promptTokens, cost };
}
