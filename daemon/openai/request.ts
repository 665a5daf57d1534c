// OpenAI chat completion request bodies (and the x-switchyard-* headers) to switchyard/chat params, and
// receipts back to OpenAI's completion, chunk and usage objects. Pure functions: no I/O.

import type { IncomingHttpHeaders } from 'node:http';
import type { ChatMessage, ChatParams, Receipt, Sampling } from '../protocol';
import { InvalidParams, validateSampling, validateStop } from '../chat/validate';
import { OPENAI_SAMPLING_NAMES } from '../providers/openai';

/** Sampling options passed to the site: the contract's field for each name in the chat completions API. */
const SAMPLING = Object.fromEntries(Object.entries(OPENAI_SAMPLING_NAMES).map(([field, wire]) => [wire, field])) as Record<string, keyof Sampling>;
/** Options we accept so that ordinary clients work, but do not forward (the sites' defaults apply). */
const IGNORED = new Set([
  'user', 'logit_bias', 'store', 'metadata', 'parallel_tool_calls', 'service_tier', 'reasoning_effort', 'prediction', 'top_k', 'min_p', 'repetition_penalty',
]);
/** Options that change what the answer is: refused rather than silently dropped. */
const REFUSED: Record<string, string> = {
  tools: 'tool calling is not supported by Switchyard yet',
  functions: 'function calling is not supported by Switchyard yet',
  tool_choice: 'tool calling is not supported by Switchyard yet',
  function_call: 'function calling is not supported by Switchyard yet',
  response_format: 'response_format is not supported by Switchyard yet',
  logprobs: 'logprobs are not supported by Switchyard',
  top_logprobs: 'logprobs are not supported by Switchyard',
  audio: 'audio output is not supported by Switchyard',
  modalities: 'only text output is supported by Switchyard',
};

export interface CompletionRequest {
  params: ChatParams;
  stream: boolean;
  includeUsage: boolean;
}

/** An OpenAI request error with the parameter it is about. */
export class RequestError extends InvalidParams {
  constructor(message: string, readonly param: string | null = null) {
    super(message);
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

export function parseCompletionRequest(body: unknown, headers: IncomingHttpHeaders): CompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestError('the request body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const [key, why] of Object.entries(REFUSED)) {
    const value = b[key];
    if (value === undefined || value === null || value === false || (Array.isArray(value) && value.length === 0)) continue;
    if (key === 'response_format' && (value as { type?: string }).type === 'text') continue;
    if (key === 'tool_choice' && value === 'none') continue;
    throw new RequestError(`${key}: ${why}`, key);
  }
  if (typeof b.model !== 'string' || b.model.trim() === '') {
    throw new RequestError('model must be a canonical model id (GET /v1/models) or siteId/model to pin one site', 'model');
  }
  if (b.n !== undefined && b.n !== null && b.n !== 1) throw new RequestError('n: only one choice per request is supported', 'n');
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw new RequestError('messages must be a non-empty array', 'messages');
  const messages = b.messages.map((m, i) => message(m, i));
  const maxTokens = b.max_completion_tokens ?? b.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw new RequestError('max_tokens must be a positive integer', b.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens');
  }
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw new RequestError('stream must be a boolean', 'stream');
  const options = b.stream_options as { include_usage?: unknown } | null | undefined;
  if (options !== undefined && options !== null && (typeof options !== 'object' || (options.include_usage !== undefined && typeof options.include_usage !== 'boolean'))) {
    throw new RequestError('stream_options must be an object like {"include_usage": true}', 'stream_options');
  }
  const sampling = validateSampling(
    Object.fromEntries(Object.entries(SAMPLING).map(([wire, field]) => [field, b[wire]])),
    (field) => OPENAI_SAMPLING_NAMES[field],
    (message, field) => new RequestError(message, OPENAI_SAMPLING_NAMES[field]),
  );
  const stop = validateStop(b.stop, 'stop', (message) => new RequestError(message, 'stop'));
  for (const key of Object.keys(b)) {
    if (key in REFUSED || key in SAMPLING || IGNORED.has(key)) continue;
    if (!['model', 'messages', 'max_tokens', 'max_completion_tokens', 'stream', 'stream_options', 'n', 'stop'].includes(key)) {
      throw new RequestError(`unknown parameter ${key}`, key);
    }
  }
  return {
    params: {
      model: b.model.trim(),
      messages,
      maxTokens: typeof maxTokens === 'number' ? maxTokens : undefined,
      sampling,
      stop,
      policy: header(headers, 'x-switchyard-policy'),
      workspace: header(headers, 'x-switchyard-workspace'),
    },
    stream: b.stream === true,
    includeUsage: b.stream === true && options?.include_usage === true,
  };
}

function message(raw: unknown, i: number): ChatMessage {
  const param = `messages[${i}]`;
  if (typeof raw !== 'object' || raw === null) throw new RequestError(`${param} must be an object`, param);
  const m = raw as Record<string, unknown>;
  let role: ChatMessage['role'];
  if (m.role === 'system' || m.role === 'developer') role = 'system';
  else if (m.role === 'user' || m.role === 'assistant') role = m.role;
  else if (m.role === 'tool' || m.role === 'function') throw new RequestError(`${param}.role: tool messages are not supported by Switchyard yet`, `${param}.role`);
  else throw new RequestError(`${param}.role must be "system", "developer", "user" or "assistant", got ${JSON.stringify(m.role)}`, `${param}.role`);
  if (m.tool_calls !== undefined && m.tool_calls !== null) throw new RequestError(`${param}.tool_calls: tool calling is not supported by Switchyard yet`, `${param}.tool_calls`);
  return { role, content: content(m.content, role, param) };
}

/** A string, or an array of text parts joined; images, audio and files are refused. */
function content(raw: unknown, role: ChatMessage['role'], param: string): string {
  if (typeof raw === 'string') return raw;
  if ((raw === null || raw === undefined) && role === 'assistant') return '';
  if (Array.isArray(raw)) {
    return raw
      .map((part, j) => {
        const p = part as { type?: unknown; text?: unknown } | null;
        if (p && (p.type === 'text' || p.type === 'input_text') && typeof p.text === 'string') return p.text;
        throw new RequestError(`${param}.content[${j}]: only text parts are supported, got ${JSON.stringify(p?.type)}`, `${param}.content`);
      })
      .join('');
  }
  throw new RequestError(`${param}.content must be a string or an array of text parts`, `${param}.content`);
}

/** The client name the ledger records: "openai-api", plus the product from the User-Agent when there is one. */
export function clientName(userAgent: string | undefined): string {
  const product = userAgent?.trim().split(/\s+/)[0]?.replace(/\/v?\d[\w.+-]*$/, '').replace(/[^\w./@-]/g, '').slice(0, 40);
  return product ? `openai-api:${product}` : 'openai-api';
}

export type FinishReason = 'stop' | 'length';

export function finishReason(receipt: Receipt): FinishReason {
  return receipt.outcome === 'length' ? 'length' : 'stop';
}

export const usd = (nano: number) => nano / 1e9;

/** OpenAI's usage object, with the cost added (USD, and exact integer nano-USD). */
export function usage(receipt: Receipt) {
  const t = receipt.tokens;
  return {
    prompt_tokens: t.input + t.cachedInput + t.cacheWrite,
    completion_tokens: t.output,
    total_tokens: t.input + t.cachedInput + t.cacheWrite + t.output,
    prompt_tokens_details: { cached_tokens: t.cachedInput },
    completion_tokens_details: { reasoning_tokens: t.reasoning },
    cost: usd(receipt.cost.totalNanoUsd),
    cost_nano_usd: receipt.cost.totalNanoUsd,
    estimated: t.estimated,
  };
}

/** Where and what, on every final object: the site that answered, the placement, the bill. */
export function switchyardInfo(receipt: Receipt) {
  return {
    request_id: receipt.requestId,
    receipt_id: receipt.id,
    placement_id: receipt.placementId,
    site: receipt.site.id,
    provider: receipt.site.provider,
    policy: receipt.policy,
    outcome: receipt.outcome,
    attempts: receipt.attempts.length,
    cost_usd: usd(receipt.cost.totalNanoUsd),
    cost: receipt.cost,
  };
}

export function completion(id: string, created: number, model: string, text: string, receipt: Receipt) {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finishReason(receipt) }],
    usage: usage(receipt),
    switchyard: switchyardInfo(receipt),
  };
}
