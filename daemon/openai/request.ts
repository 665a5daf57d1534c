// OpenAI chat completion request bodies (and the x-switchyard-* headers) to switchyard/chat params, and
// receipts back to OpenAI's completion, chunk and usage objects. Pure functions: no I/O.

import type { IncomingHttpHeaders } from 'node:http';
import type { ChatMessage, ChatParams, ImageInput, Receipt, ResponseFormat, Sampling, ToolCall, ToolChoice, ToolDefinition } from '../protocol';
import { checkImage, InvalidParams, MAX_IMAGES, MAX_MAX_TOKENS, validateReasoningEffort, validateResponseFormat, validateSampling, validateStop, validateToolChoice, validateTools } from '../chat/validate';
import { OPENAI_SAMPLING_NAMES, wireToolCalls } from '../providers/openai';

/** Sampling options passed to the site: the contract's field for each name in the chat completions API. */
const SAMPLING = Object.fromEntries(Object.entries(OPENAI_SAMPLING_NAMES).map(([field, wire]) => [wire, field])) as Record<string, keyof Sampling>;
/**
 * Options we accept so that ordinary clients work, but do not forward: none changes the answer or its
 * bill. A prediction (Continue sends one for gpt-4o) only lets OpenAI answer sooner, billing the
 * predicted tokens it rejects: without it the answer is the same and costs no more.
 */
const IGNORED = new Set(['user', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention', 'store', 'metadata', 'prediction']);
/** Why a sampling setting the contract does not carry is refused: dropping it would change the answer. */
const NOT_SAMPLED = 'not among the sampling settings Switchyard passes to the sites (temperature, top_p, presence_penalty, frequency_penalty, seed)';
/** Options that change what the answer is: refused rather than silently dropped. */
const REFUSED: Record<string, string> = {
  functions: 'the deprecated functions API is not supported; send tools instead',
  function_call: 'the deprecated functions API is not supported; send tool_choice instead',
  logprobs: 'logprobs are not supported by Switchyard',
  top_logprobs: 'logprobs are not supported by Switchyard',
  audio: 'audio output is not supported by Switchyard',
  modalities: 'only text output is supported by Switchyard',
  verbosity: 'verbosity is not supported by Switchyard: the sites answer at their own length',
  web_search_options: 'web search is not supported by Switchyard',
  // Another tier is another price (flex half, priority more), and the meter prices the default one.
  service_tier: 'only the default tier ("auto") is served: the other tiers are billed at prices Switchyard does not meter',
  logit_bias: 'token ids are one tokenizer\'s, and the request may be placed on any site serving the model',
  top_k: NOT_SAMPLED,
  min_p: NOT_SAMPLED,
  repetition_penalty: NOT_SAMPLED,
};

/** Whether a refused option's value asks for nothing beyond the default, as some clients always send it. */
function asksNothing(key: string, value: unknown): boolean {
  if (value === undefined || value === null || value === false || (Array.isArray(value) && value.length === 0)) return true;
  if (key === 'modalities') return Array.isArray(value) && value.length === 1 && value[0] === 'text';
  if (key === 'function_call') return value === 'none' || value === 'auto';
  // OpenAI's own default.
  if (key === 'verbosity') return value === 'medium';
  if (key === 'service_tier') return value === 'auto' || value === 'default';
  if (key === 'logit_bias') return typeof value === 'object' && Object.keys(value).length === 0;
  // The values that switch the setting off, as servers that have it read them.
  if (key === 'top_k') return value === 0 || value === -1;
  if (key === 'min_p') return value === 0;
  if (key === 'repetition_penalty') return value === 1;
  return key === 'top_logprobs' && value === 0;
}

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
    if (!asksNothing(key, b[key])) throw new RequestError(`${key}: ${why}`, key);
  }
  if (typeof b.model !== 'string' || b.model.trim() === '') {
    throw new RequestError('model must be a canonical model id (GET /v1/models) or siteId/model to pin one site', 'model');
  }
  if (b.n !== undefined && b.n !== null && b.n !== 1) throw new RequestError('n: only one choice per request is supported', 'n');
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw new RequestError('messages must be a non-empty array', 'messages');
  const messages = b.messages.map((m, i) => message(m, i));
  // The cap is checked here, not only by validateChat, so that the refusal names the field the client sent.
  const capField = b.max_completion_tokens !== undefined && b.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = b[capField];
  if (maxTokens !== undefined && maxTokens !== null && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_MAX_TOKENS)) {
    throw new RequestError(`${capField} must be an integer from 1 to ${MAX_MAX_TOKENS}, got ${JSON.stringify(maxTokens).slice(0, 40)}`, capField);
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
  const tools = openAITools(b.tools);
  const toolChoice = openAIToolChoice(b.tool_choice, tools);
  const responseFormat = openAIResponseFormat(b.response_format);
  const reasoningEffort = validateReasoningEffort(b.reasoning_effort, 'reasoning_effort', (message) => new RequestError(message, 'reasoning_effort'));
  if (b.parallel_tool_calls !== undefined && b.parallel_tool_calls !== null && typeof b.parallel_tool_calls !== 'boolean') {
    throw new RequestError('parallel_tool_calls must be a boolean', 'parallel_tool_calls');
  }
  for (const key of Object.keys(b)) {
    if (key in REFUSED || key in SAMPLING || IGNORED.has(key)) continue;
    if (!['model', 'messages', 'max_tokens', 'max_completion_tokens', 'stream', 'stream_options', 'n', 'stop', 'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'reasoning_effort'].includes(key)) {
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
      ...(tools ? { tools } : {}),
      ...(toolChoice !== undefined ? { toolChoice } : {}),
      ...(typeof b.parallel_tool_calls === 'boolean' && tools ? { parallelToolCalls: b.parallel_tool_calls } : {}),
      ...(responseFormat ? { responseFormat } : {}),
      ...(reasoningEffort ? { reasoningEffort } : {}),
      policy: header(headers, 'x-switchyard-policy'),
      workspace: header(headers, 'x-switchyard-workspace'),
    },
    stream: b.stream === true,
    includeUsage: b.stream === true && options?.include_usage === true,
  };
}

/** `tools`: function tools ({type: "function", function: {name, description, parameters, strict}}). */
function openAITools(raw: unknown): ToolDefinition[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new RequestError('tools must be an array of {"type": "function", "function": {...}}', 'tools');
  const tools = raw.map((t: unknown, j: number) => {
    const tool = t as { type?: unknown; function?: unknown } | null;
    if (typeof tool !== 'object' || tool === null || tool.type !== 'function' || typeof tool.function !== 'object' || tool.function === null) {
      throw new RequestError(`tools[${j}]: only {"type": "function", "function": {...}} tools are supported`, `tools[${j}]`);
    }
    return tool.function;
  });
  try {
    return validateTools(tools, 'tools');
  } catch (error) {
    // The contract's tools are OpenAI's functions: name the field the way the client wrote it.
    const message = (error as Error).message.replace(/^tools\[(\d+)\]/, 'tools[$1].function');
    throw new RequestError(message, message.split(/[ :]/)[0]);
  }
}

/** `response_format`: text (the default), json_object, or json_schema {name, schema, description, strict}. */
function openAIResponseFormat(raw: unknown): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  const f = raw as { type?: unknown; json_schema?: Record<string, unknown> | null } | null;
  const format =
    f?.type === 'text' ? undefined
    : f?.type === 'json_object' ? { type: 'json' }
    : f?.type === 'json_schema' && typeof f.json_schema === 'object' && f.json_schema !== null ? { type: 'json', ...f.json_schema }
    : null;
  if (format === null) throw new RequestError('response_format must be {"type": "text"}, {"type": "json_object"} or {"type": "json_schema", "json_schema": {"name", "schema"}}', 'response_format');
  try {
    return validateResponseFormat(format, 'response_format');
  } catch (error) {
    throw new RequestError((error as Error).message.replace(/^response_format\./, 'response_format.json_schema.'), 'response_format');
  }
}

/** `tool_choice`: "auto", "none", "required" or {type: "function", function: {name}}. */
function openAIToolChoice(raw: unknown, tools: ToolDefinition[] | undefined): ToolChoice | undefined {
  const named = raw as { type?: unknown; function?: { name?: unknown } } | null;
  const choice = typeof named === 'object' && named !== null ? (named.type === 'function' ? { name: named.function?.name } : named) : raw;
  try {
    return validateToolChoice(choice, tools, 'tool_choice');
  } catch (error) {
    // The contract names a tool as {name}: tell the client OpenAI's form, and quote what it sent, not
    // what was made of it ({"type": "function", "name"} in the Responses API's form reads as {}).
    const message = (error as Error).message
      .replace('{"name": <a tool>}', '{"type": "function", "function": {"name": <a tool>}}')
      .replace(/, got .*$/s, () => `, got ${JSON.stringify(raw)?.slice(0, 80)}`);
    throw new RequestError(message, 'tool_choice');
  }
}

/** An assistant message's `tool_calls`, in the contract's shape (validateChat checks them). */
function toolCalls(raw: unknown, param: string): ToolCall[] {
  if (!Array.isArray(raw)) throw new RequestError(`${param} must be an array`, param);
  return raw.map((c: unknown, j: number) => {
    const call = c as { id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown } } | null;
    if (typeof call !== 'object' || call === null || call.type !== 'function' || typeof call.function !== 'object' || call.function === null) {
      throw new RequestError(`${param}[${j}] must be {"id", "type": "function", "function": {"name", "arguments"}}`, `${param}[${j}]`);
    }
    return { id: call.id, name: call.function.name, arguments: call.function.arguments } as ToolCall;
  });
}

function message(raw: unknown, i: number): ChatMessage {
  const param = `messages[${i}]`;
  if (typeof raw !== 'object' || raw === null) throw new RequestError(`${param} must be an object`, param);
  const m = raw as Record<string, unknown>;
  let role: ChatMessage['role'];
  if (m.role === 'system' || m.role === 'developer') role = 'system';
  else if (m.role === 'user' || m.role === 'assistant' || m.role === 'tool') role = m.role;
  else if (m.role === 'function') throw new RequestError(`${param}.role: the deprecated functions API is not supported; answer a tool call with role "tool"`, `${param}.role`);
  else throw new RequestError(`${param}.role must be "system", "developer", "user", "assistant" or "tool", got ${JSON.stringify(m.role)}`, `${param}.role`);
  const { text: written, images } = content(m.content, role, param);
  // A refusal read back as it came (content null, refusal its text) is what the assistant said in that turn.
  const text = role === 'assistant' && !written && typeof m.refusal === 'string' ? m.refusal : written;
  if (role === 'tool') return { role, content: text, toolCallId: m.tool_call_id as string };
  if (role === 'assistant' && m.tool_calls !== undefined && m.tool_calls !== null) return { role, content: text, toolCalls: toolCalls(m.tool_calls, `${param}.tool_calls`) };
  return images.length > 0 ? { role, content: text, images } : { role, content: text };
}

/** A string, or an array of parts: text (and an assistant's refusal) parts joined, image parts (user messages) kept in order after it; audio and files are refused. */
function content(raw: unknown, role: ChatMessage['role'], param: string): { text: string; images: ImageInput[] } {
  const images: ImageInput[] = [];
  if (typeof raw === 'string') return { text: raw, images };
  if ((raw === null || raw === undefined) && role === 'assistant') return { text: '', images };
  if (!Array.isArray(raw)) throw new RequestError(`${param}.content must be a string or an array of text and image parts`, `${param}.content`);
  const text = raw
    .map((part, j) => {
      const p = part as { type?: unknown; text?: unknown; refusal?: unknown; image_url?: string | { url?: unknown; detail?: unknown } } | null;
      if (p && (p.type === 'text' || p.type === 'input_text')) {
        if (typeof p.text === 'string') return p.text;
        throw new RequestError(`${param}.content[${j}].text must be a string, got ${JSON.stringify(p.text)}`, `${param}.content[${j}].text`);
      }
      // An assistant turn may carry a refusal part (OpenAI's transcripts): its text is part of what was said.
      if (p?.type === 'refusal' && role === 'assistant' && typeof p.refusal === 'string') return p.refusal;
      if (p?.type === 'image_url' && role === 'user') {
        // Some clients write the URL alone, as the API's first version did.
        const checked = checkImage(typeof p.image_url === 'string' ? { url: p.image_url } : p.image_url ?? {});
        if ('problem' in checked) {
          const at = `${param}.content[${j}].image_url.${checked.field}`;
          throw new RequestError(`${at} ${checked.problem}`, at);
        }
        images.push(checked);
        return '';
      }
      const allowed = role === 'user' ? 'text and image_url parts are supported' : 'only text parts are supported here';
      throw new RequestError(`${param}.content[${j}]: ${allowed}, got ${JSON.stringify(p?.type)}`, `${param}.content`);
    })
    .join('');
  if (images.length > MAX_IMAGES) throw new RequestError(`${param}.content: at most ${MAX_IMAGES} images in one message`, `${param}.content`);
  return { text, images };
}

/** The client name the ledger records: "openai-api", plus the product from the User-Agent when there is one. */
export function clientName(userAgent: string | undefined): string {
  const product = userAgent?.trim().split(/\s+/)[0]?.replace(/\/v?\d[\w.+-]*$/, '').replace(/[^\w./@-]/g, '').slice(0, 40);
  return product ? `openai-api:${product}` : 'openai-api';
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** 'tool_calls' when the model ended its turn by calling tools, as OpenAI reports it; 'content_filter' whatever wire's filter ended it. */
export function finishReason(receipt: Receipt, calledTools: boolean): FinishReason {
  if (receipt.outcome === 'length') return 'length';
  if (receipt.filtered) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
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

export function completion(id: string, created: number, model: string, text: string, calls: readonly ToolCall[], receipt: Receipt) {
  const message = calls.length > 0
    ? { role: 'assistant', content: text || null, refusal: null, tool_calls: wireToolCalls(calls) }
    : { role: 'assistant', content: text, refusal: null };
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(receipt, calls.length > 0) }],
    usage: usage(receipt),
    switchyard: switchyardInfo(receipt),
  };
}
