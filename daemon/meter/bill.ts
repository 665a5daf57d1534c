// The tokens and cost of one finished attempt. The provider's reported usage wins; without it (a
// stream cut before the usage chunk, a provider that sends none) the prompt and the text that did
// arrive are counted with the tokenizer and the receipt says so. A cancelled or cut stream is billed
// for what was produced: the provider charges for it, so it is never zero.

import type { ChatMessage, CostBreakdown, Outcome, PriceCard, TokenCounts, ToolCall } from '../protocol';
import type { ReportedUsage } from '../providers/types';
import { countPromptTokens, countTextTokens, countToolCallTokens, type PromptDefinitions } from './estimate';
import { priceUsage } from './pricing';
import { oneHourShare } from './usage';

export interface AttemptUsage {
  outcome: Outcome;
  usage: ReportedUsage | null;
  messages: readonly ChatMessage[];
  definitions?: PromptDefinitions;
  /** The text the attempt streamed (all of it, for a cut stream the part that arrived). */
  text: string;
  /** The tool calls it made, likewise. */
  toolCalls?: readonly ToolCall[];
  /** The reasoning it streamed apart from the text, likewise. */
  reasoningText?: string;
  bytesReceived: number;
}

export function countAttempt(a: AttemptUsage): TokenCounts {
  const produced = () => countTextTokens(a.text) + countToolCallTokens(a.toolCalls);
  const thought = () => (a.reasoningText ? countTextTokens(a.reasoningText) : 0);
  if (!a.usage) {
    const reasoning = thought();
    return { input: countPromptTokens(a.messages, a.definitions), cachedInput: 0, cacheWrite: 0, output: produced() + reasoning, reasoning, estimated: true };
  }
  const { input, cachedInput, cacheWrite, cacheWrite1h, output, reasoning } = a.usage;
  const tokens = { input, cachedInput, cacheWrite, ...oneHourShare(cacheWrite1h, cacheWrite), output, reasoning, estimated: false };
  // An interrupted stream (cancelled, cut, or failed after thinking) can carry usage from its start only (Anthropic's message_start reports
  // one output token); where what arrived counts more, bill that and say it is estimated. The answer
  // and the reasoning are weighed apart (Gemini reports thoughts apart; Anthropic's thinking comes
  // before any text, so a cancel while it thinks has only reasoning to show).
  if (a.outcome !== 'complete' && a.outcome !== 'length' && !a.usage.final) {
    const answer = Math.max(output - reasoning, produced());
    const thinking = Math.max(reasoning, thought());
    if (answer + thinking > output) return { ...tokens, output: answer + thinking, reasoning: thinking, estimated: true };
  }
  return tokens;
}

export function billAttempt(card: PriceCard, a: AttemptUsage): { tokens: TokenCounts; cost: CostBreakdown } {
  const tokens = countAttempt(a);
  return { tokens, cost: priceUsage(card, tokens, a.bytesReceived) };
}
