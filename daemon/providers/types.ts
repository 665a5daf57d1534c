// One interface for every way a site is reached: real provider APIs and simulated sites alike, so the
// engine and the meter cannot tell them apart.

import type { ChatMessage, ChatParams, Outcome, TokenCounts, ToolCall, ToolCallDelta } from '../protocol';
import type { Site, SiteModel } from '../catalog/types';

/** Usage as the provider reported it, already mapped onto the meter's counts (meter/pricing.ts says what each means). */
export interface ReportedUsage extends Omit<TokenCounts, 'estimated'> {
  /** The provider's own usage object, kept for the receipt's audit trail. */
  raw?: unknown;
  /**
   * The counts cover all that was produced even when the answer was cut short (a simulated site counts
   * its own words). Absent: an interrupted stream's usage may be from its start only, and the meter
   * counts what arrived instead where that is more.
   */
  final?: true;
}

/**
 * What the caller asks of the answer, as the contract has it. Placement sends tools and JSON formats only
 * to sites that can serve them (engine/placement.ts); reasoningEffort reaches the OpenAI wire only, the
 * other families having no common equivalent.
 */
export type AnswerOptions = Pick<ChatParams, 'sampling' | 'stop' | 'tools' | 'toolChoice' | 'parallelToolCalls' | 'responseFormat' | 'reasoningEffort'>;

export interface SiteRequest extends AnswerOptions {
  site: Site;
  model: SiteModel;
  messages: ChatMessage[];
  /** Absent: the request set no cap, and none is sent; the provider's own limit for the model applies. */
  maxTokens?: number;
  signal: AbortSignal;
  apiKey?: string;
  /** Called for each piece of streamed text, the first call marks time to first token. */
  onDelta(text: string): void;
  /** Called for each piece of a tool call as it streams; like text, the first piece marks time to first token. */
  onToolCall?(delta: ToolCallDelta): void;
}

export interface SiteError {
  status?: number;
  /** The provider's message, kept in substance; never contains a key. */
  message: string;
  /** Worth trying the next candidate (429, 5xx, timeout, reset, malformed stream). */
  retryable: boolean;
  retryAfterMs?: number;
  /**
   * The site's API cannot express the request as sent (Gemini takes no system message mid-conversation):
   * nothing was sent, another site may serve it, and the site's health is not in question.
   */
  unsupported?: true;
}

export interface SiteResult {
  outcome: Outcome;
  text: string;
  /** The tool calls the model made, whole (for a cut stream, as far as they arrived). */
  toolCalls?: ToolCall[];
  /**
   * The reasoning the provider streamed apart from the answer (Anthropic's thinking, `reasoning_content`
   * on compatible servers), never shown: billed from it when the stream ended before its usage did.
   */
  reasoningText?: string;
  usage: ReportedUsage | null;
  /** Lower-cased response headers (rate limits, retry-after). */
  headers: Record<string, string>;
  bytesReceived: number;
  ttftMs: number | null;
  durationMs: number;
  /** False when the answer came whole (a JSON body, not a stream): its first token arrived with its last, so
   *  ttftMs holds the whole generation and the answer shows nothing of the output speed. Absent: streamed. */
  streamed?: false;
  /** Queue depth the site reported with this answer, where it does. */
  queueDepth?: number;
  error?: SiteError;
  /** A content filter, a guardrail or the model's refusal ended the answer (the outcome stays complete or length). */
  filtered?: true;
}

export interface SiteAdapter {
  send(request: SiteRequest): Promise<SiteResult>;
}
