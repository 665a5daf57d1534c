// Provider usage objects -> the meter's BillableUsage (see pricing.ts for what each count means).
// Pure functions: the provider adapters call them on the usage they received, and the meter never
// needs to know which wire format a site speaks.

import type { ReportedUsage } from '../providers/types';

const count = (n: unknown): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

/**
 * The 1-hour share of `cacheWrite` as usage and receipts carry it: present only when some write was a
 * 1-hour one (so usage without any, and every receipt made before the share existed, look alike), and
 * never more than the writes.
 */
export function oneHourShare(oneHour: number | undefined, cacheWrite: number): { cacheWrite1h?: number } {
  const share = Math.min(count(oneHour), cacheWrite);
  return share > 0 ? { cacheWrite1h: share } : {};
}

export interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/**
 * prompt_tokens includes the cached ones. OpenAI's completion_tokens includes the reasoning ones; xAI's
 * does not (its total_tokens is prompt + completion + reasoning), and it bills reasoning as output too,
 * so reasoning that the total shows apart is added in.
 */
export function fromOpenAI(usage: OpenAIUsage): ReportedUsage {
  const prompt = count(usage.prompt_tokens);
  const cached = Math.min(count(usage.prompt_tokens_details?.cached_tokens), prompt);
  const completion = count(usage.completion_tokens);
  const reasoning = count(usage.completion_tokens_details?.reasoning_tokens);
  const apart = reasoning > 0 && count(usage.total_tokens) === prompt + completion + reasoning;
  const output = apart ? completion + reasoning : completion;
  return {
    input: prompt - cached,
    cachedInput: cached,
    cacheWrite: 0,
    output,
    reasoning: Math.min(reasoning, output),
    raw: usage,
  };
}

export interface AnthropicUsage {
  input_tokens?: number;
  /** Every cache write; `cache_creation` breaks it down by cache lifetime. */
  cache_creation_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  cache_read_input_tokens?: number | null;
  output_tokens?: number;
}

/** The usage-bearing Anthropic stream events; other events may be passed and are ignored. */
export type AnthropicEvent =
  | { type: 'message_start'; message: { usage?: AnthropicUsage } }
  | { type: 'message_delta'; usage?: AnthropicUsage }
  | { type: string };

/**
 * Folds one Anthropic stream event into the usage so far. input_tokens excludes cache reads and
 * writes (unlike OpenAI), so no subtraction. message_delta usage is cumulative: a field it carries
 * replaces the earlier value, never adds to it. The 1-hour writes (billed at their own rate) are
 * cache_creation.ephemeral_1h_input_tokens, a share of cache_creation_input_tokens.
 */
export function foldAnthropic(prev: ReportedUsage | null, event: AnthropicEvent): ReportedUsage | null {
  const usage: AnthropicUsage | undefined =
    event.type === 'message_start' ? (event as { message: { usage?: AnthropicUsage } }).message?.usage
    : event.type === 'message_delta' ? (event as { usage?: AnthropicUsage }).usage
    : undefined;
  if (!usage) return prev;
  const base = prev ?? { input: 0, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 };
  const latest = (value: number | null | undefined, before: number) => (value == null ? before : count(value));
  const rawSoFar = (prev?.raw as AnthropicUsage | undefined) ?? {};
  const cacheWrite = latest(usage.cache_creation_input_tokens, base.cacheWrite);
  return {
    input: latest(usage.input_tokens, base.input),
    cachedInput: latest(usage.cache_read_input_tokens, base.cachedInput),
    cacheWrite,
    ...oneHourShare(latest(usage.cache_creation?.ephemeral_1h_input_tokens, base.cacheWrite1h ?? 0), cacheWrite),
    output: latest(usage.output_tokens, base.output),
    reasoning: 0, // Anthropic bills thinking as output tokens and does not report it apart.
    raw: { ...rawSoFar, ...usage },
  };
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
}

/**
 * promptTokenCount includes cachedContentTokenCount; tool-use prompt tokens are billed as input;
 * thoughts are billed as output but reported apart from candidates, so they are added in.
 * Streaming chunks each carry the running totals: map the latest one.
 */
export function fromGemini(meta: GeminiUsageMetadata): ReportedUsage {
  const prompt = count(meta.promptTokenCount);
  const cached = Math.min(count(meta.cachedContentTokenCount), prompt);
  const thoughts = count(meta.thoughtsTokenCount);
  return {
    input: prompt - cached + count(meta.toolUsePromptTokenCount),
    cachedInput: cached,
    cacheWrite: 0,
    output: count(meta.candidatesTokenCount) + thoughts,
    reasoning: thoughts,
    raw: meta,
  };
}

type TokenFields = Pick<ReportedUsage, 'input' | 'cachedInput' | 'cacheWrite' | 'cacheWrite1h' | 'output' | 'reasoning'>;

/** Each kind of token of two counts added: what every sum of usage or of receipts' tokens starts from. */
export function addTokenFields(a: TokenFields, b: TokenFields): TokenFields {
  const cacheWrite = a.cacheWrite + b.cacheWrite;
  return {
    input: a.input + b.input,
    cachedInput: a.cachedInput + b.cachedInput,
    cacheWrite,
    ...oneHourShare((a.cacheWrite1h ?? 0) + (b.cacheWrite1h ?? 0), cacheWrite),
    output: a.output + b.output,
    reasoning: a.reasoning + b.reasoning,
  };
}

/** The usage of two requests made for one answer (Gemini's long-decode hops), each billed on its own. */
export function addUsage(a: ReportedUsage | null, b: ReportedUsage): ReportedUsage {
  if (!a) return b;
  return { ...addTokenFields(a, b), raw: [a.raw, b.raw].flat() };
}
