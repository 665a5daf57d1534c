// switchyard/chat params, checked before anything is placed or reserved: a bad request changes nothing
// and the error names the field.

import { REASONING_EFFORTS, type ChatMessage, type ImageInput, type ChatParams, type ReasoningEffort, type ResponseFormat, type Sampling, type ToolCall, type ToolChoice, type ToolDefinition } from '../protocol';

export const MAX_MAX_TOKENS = 200_000;

export class InvalidParams extends Error {}

/**
 * Every field of a chat request. Extension and daemon speak one protocol version, so another field is a
 * mistake that would otherwise change the answer unseen (a misspelt `temprature`); one the contract
 * gains fails to compile here until it is known.
 */
const CHAT_FIELDS = Object.keys({
  model: true, messages: true, maxTokens: true, sampling: true, stop: true, tools: true, toolChoice: true, parallelToolCalls: true,
  responseFormat: true, reasoningEffort: true, policy: true, workspace: true, via: true,
} satisfies Record<keyof ChatParams, true>);
const SAMPLING_FIELDS = Object.keys({ temperature: true, topP: true, presencePenalty: true, frequencyPenalty: true, seed: true } satisfies Record<keyof Sampling, true>);

export function validateChat(input: unknown): Required<Pick<ChatParams, 'model' | 'messages'>> & ChatParams {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidParams('params must be an object');
  const p = input as Record<string, unknown>;
  const stray = Object.keys(p).find((key) => !CHAT_FIELDS.includes(key));
  if (stray !== undefined) throw new InvalidParams(`params.${stray} is not a field of a chat request (known: ${CHAT_FIELDS.join(', ')})`);
  if (typeof p.model !== 'string' || p.model.trim() === '') throw new InvalidParams('params.model must be a non-empty string (a canonical model id or siteId/providerModel)');
  const messages = validateMessages(p.messages, 'params.messages');
  // null, as in OpenAI's API, means no cap.
  const maxTokens = p.maxTokens ?? undefined;
  if (maxTokens !== undefined && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_MAX_TOKENS)) {
    throw new InvalidParams(`params.maxTokens must be an integer 1-${MAX_MAX_TOKENS}, got ${JSON.stringify(p.maxTokens)}`);
  }
  for (const field of ['policy', 'workspace'] as const) {
    if (p[field] !== undefined && typeof p[field] !== 'string') throw new InvalidParams(`params.${field} must be a string`);
  }
  if (p.via !== undefined && (typeof p.via !== 'string' || !VIA.test(p.via))) throw new InvalidParams(`params.via must be 1-40 letters, digits, ".", "_", "-", "@" or "/", got ${JSON.stringify(p.via)}`);
  if (p.sampling !== undefined && (typeof p.sampling !== 'object' || p.sampling === null || Array.isArray(p.sampling))) throw new InvalidParams('params.sampling must be an object');
  const strayKnob = p.sampling === undefined ? undefined : Object.keys(p.sampling).find((key) => !SAMPLING_FIELDS.includes(key));
  if (strayKnob !== undefined) throw new InvalidParams(`params.sampling.${strayKnob} is not a sampling setting (known: ${SAMPLING_FIELDS.join(', ')})`);
  const sampling = p.sampling === undefined ? undefined : validateSampling(p.sampling as Record<string, unknown>, (field) => `params.sampling.${field}`);
  const stop = validateStop(p.stop, 'params.stop');
  const tools = validateTools(p.tools, 'params.tools');
  const toolChoice = validateToolChoice(p.toolChoice, tools, 'params.toolChoice');
  if (p.parallelToolCalls !== undefined && typeof p.parallelToolCalls !== 'boolean') throw new InvalidParams('params.parallelToolCalls must be a boolean');
  const responseFormat = validateResponseFormat(p.responseFormat, 'params.responseFormat');
  const reasoningEffort = validateReasoningEffort(p.reasoningEffort, 'params.reasoningEffort');
  return {
    model: p.model.trim(), messages, sampling, stop,
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(tools ? { tools } : {}),
    ...(toolChoice !== undefined ? { toolChoice } : {}),
    ...(p.parallelToolCalls !== undefined ? { parallelToolCalls: p.parallelToolCalls } : {}),
    ...(responseFormat ? { responseFormat } : {}),
    ...(reasoningEffort ? { reasoningEffort } : {}),
    policy: p.policy as string | undefined, workspace: p.workspace as string | undefined,
    ...(p.via !== undefined ? { via: p.via as string } : {}),
  };
}

const VIA = /^[\w.@/-]{1,40}$/;

/**
 * A conversation: roles, text, images on user messages, tool calls answered by later tool messages.
 * `loose`: messages counted out of their conversation, so a tool message need not follow its call.
 */
export function validateMessages(raw: unknown, field: string, loose = false): ChatMessage[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new InvalidParams(`${field} must be a non-empty array`);
  const calls = new Set<string>();
  return raw.map((m: unknown, i: number): ChatMessage => {
    const message = m as Record<string, unknown> | null;
    const name = `${field}[${i}]`;
    if (typeof message !== 'object' || message === null) throw new InvalidParams(`${name} must be an object`);
    const role = message.role;
    if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'tool') {
      throw new InvalidParams(`${name}.role must be "system", "user", "assistant" or "tool", got ${JSON.stringify(role)}`);
    }
    if (typeof message.content !== 'string') throw new InvalidParams(`${name}.content must be a string`);
    if (message.toolCalls !== undefined && role !== 'assistant') throw new InvalidParams(`${name}.toolCalls: only an assistant message carries tool calls`);
    if (message.toolCallId !== undefined && role !== 'tool') throw new InvalidParams(`${name}.toolCallId: only a tool message answers a tool call`);
    if (message.images !== undefined) {
      if (role !== 'user') throw new InvalidParams(`${name}.images: only a user message shows images`);
      return { role, content: message.content, images: validateImages(message.images, `${name}.images`) };
    }
    if (role === 'tool') {
      const id = message.toolCallId;
      if (typeof id !== 'string' || id === '') throw new InvalidParams(`${name}.toolCallId must name the tool call this message answers`);
      if (!loose && !calls.has(id)) throw new InvalidParams(`${name}.toolCallId "${id}" answers no tool call of an earlier assistant message`);
      return { role, content: message.content, toolCallId: id };
    }
    if (role === 'assistant' && message.toolCalls !== undefined) {
      const toolCalls = validateToolCalls(message.toolCalls, `${name}.toolCalls`);
      for (const c of toolCalls) calls.add(c.id);
      return { role, content: message.content, toolCalls };
    }
    return { role, content: message.content };
  });
}

/** The providers' common rule (OpenAI's, which Anthropic, Gemini and Bedrock accept). */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** OpenAI's limit per request. */
export const MAX_TOOLS = 128;

/** At most this many images in one message, as OpenAI and Anthropic allow far more than a prompt should carry. */
export const MAX_IMAGES = 20;
const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

const DETAILS = ['auto', 'low', 'high'];

/**
 * What is wrong with an image, naming its field, or the image in the contract's shape: the URL a base64
 * data URL of a png, jpeg, gif or webp, or http(s); the detail OpenAI's. Both APIs' validators use it.
 */
export function checkImage(image: { url?: unknown; detail?: unknown }): { field: 'url' | 'detail'; problem: string } | ImageInput {
  const { url, detail } = image;
  if (typeof url !== 'string' || url === '') return { field: 'url', problem: 'must be a data: URL or an http(s) URL' };
  if (url.startsWith('data:') ? !DATA_IMAGE.test(url) : !(/^https?:\/\//.test(url) && URL.canParse(url))) {
    return { field: 'url', problem: url.startsWith('data:') ? 'must be data:image/(png|jpeg|gif|webp);base64,<data>' : `must be a data: URL or an http(s) URL, got ${JSON.stringify(url.slice(0, 40))}` };
  }
  if (detail !== undefined && !DETAILS.includes(detail as string)) return { field: 'detail', problem: 'must be "auto", "low" or "high"' };
  return { url, ...(detail !== undefined ? { detail: detail as ImageInput['detail'] } : {}) };
}

function validateImages(raw: unknown, name: string): ImageInput[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_IMAGES) throw new InvalidParams(`${name} must be an array of 1-${MAX_IMAGES} images`);
  return raw.map((image: unknown, i: number) => {
    if (typeof image !== 'object' || image === null) throw new InvalidParams(`${name}[${i}] must be {url, detail?}`);
    const checked = checkImage(image);
    if ('problem' in checked) throw new InvalidParams(`${name}[${i}].${checked.field} ${checked.problem}`);
    return checked;
  });
}

function validateToolCalls(raw: unknown, name: string): ToolCall[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new InvalidParams(`${name} must be a non-empty array`);
  return raw.map((c: unknown, j: number) => {
    const call = c as Record<string, unknown> | null;
    if (typeof call !== 'object' || call === null) throw new InvalidParams(`${name}[${j}] must be an object`);
    if (typeof call.id !== 'string' || call.id === '') throw new InvalidParams(`${name}[${j}].id must be a non-empty string`);
    if (typeof call.name !== 'string' || !TOOL_NAME.test(call.name)) throw new InvalidParams(`${name}[${j}].name must be 1-64 letters, digits, _ or -, got ${JSON.stringify(call.name)}`);
    if (typeof call.arguments !== 'string') throw new InvalidParams(`${name}[${j}].arguments must be the JSON text of the arguments`);
    return { id: call.id, name: call.name, arguments: call.arguments };
  });
}

/** Tool definitions: names unique and well formed, parameters a JSON Schema object. Absent or empty is none. */
export function validateTools(raw: unknown, name: string): ToolDefinition[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.length > MAX_TOOLS) throw new InvalidParams(`${name} must be an array of at most ${MAX_TOOLS} tools`);
  const seen = new Set<string>();
  const tools = raw.map((t: unknown, j: number): ToolDefinition => {
    const tool = t as Record<string, unknown> | null;
    if (typeof tool !== 'object' || tool === null) throw new InvalidParams(`${name}[${j}] must be an object`);
    if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) throw new InvalidParams(`${name}[${j}].name must be 1-64 letters, digits, _ or -, got ${JSON.stringify(tool.name)}`);
    if (seen.has(tool.name)) throw new InvalidParams(`${name}[${j}].name: "${tool.name}" is defined twice`);
    seen.add(tool.name);
    if (tool.description !== undefined && typeof tool.description !== 'string') throw new InvalidParams(`${name}[${j}].description must be a string`);
    if (tool.parameters !== undefined && (typeof tool.parameters !== 'object' || tool.parameters === null || Array.isArray(tool.parameters))) {
      throw new InvalidParams(`${name}[${j}].parameters must be a JSON Schema object`);
    }
    // null, as OpenAI's types allow it, is the provider's default.
    const strict = tool.strict ?? undefined;
    if (strict !== undefined && typeof strict !== 'boolean') throw new InvalidParams(`${name}[${j}].strict must be a boolean`);
    return {
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      ...(tool.parameters !== undefined ? { parameters: tool.parameters as Record<string, unknown> } : {}),
      ...(strict !== undefined ? { strict } : {}),
    };
  });
  return tools.length > 0 ? tools : undefined;
}

/** One of OpenAI's reasoning efforts; absent or null is the model's default. */
export function validateReasoningEffort(raw: unknown, name: string, refuse: (message: string) => Error = (message) => new InvalidParams(message)): ReasoningEffort | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!(REASONING_EFFORTS as readonly unknown[]).includes(raw)) throw refuse(`${name} must be one of ${REASONING_EFFORTS.map((e) => `"${e}"`).join(', ')}, got ${JSON.stringify(raw).slice(0, 40)}`);
  return raw as ReasoningEffort;
}

/** {type: 'json'} with an optional schema (a JSON Schema object), its name, description and strictness (null: the default). */
export function validateResponseFormat(raw: unknown, name: string): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  const f = raw as Record<string, unknown>;
  if (typeof f !== 'object' || Array.isArray(f) || f.type !== 'json') throw new InvalidParams(`${name} must be {"type": "json"} with an optional schema`);
  if (f.schema !== undefined && (typeof f.schema !== 'object' || f.schema === null || Array.isArray(f.schema))) throw new InvalidParams(`${name}.schema must be a JSON Schema object`);
  if (f.name !== undefined && (typeof f.name !== 'string' || !TOOL_NAME.test(f.name))) throw new InvalidParams(`${name}.name must be 1-64 letters, digits, _ or -, got ${JSON.stringify(f.name)}`);
  if (f.description !== undefined && typeof f.description !== 'string') throw new InvalidParams(`${name}.description must be a string`);
  // null, as OpenAI's types allow it, is the provider's default.
  const strict = f.strict ?? undefined;
  if (strict !== undefined && typeof strict !== 'boolean') throw new InvalidParams(`${name}.strict must be a boolean`);
  return {
    type: 'json',
    ...(f.schema !== undefined ? { schema: f.schema as Record<string, unknown> } : {}),
    ...(f.name !== undefined ? { name: f.name as string } : {}),
    ...(f.description !== undefined ? { description: f.description as string } : {}),
    ...(strict !== undefined ? { strict } : {}),
  };
}

/** 'auto', 'none', 'required' or {name} of a defined tool; anything but 'auto' or 'none' needs tools. */
export function validateToolChoice(raw: unknown, tools: readonly ToolDefinition[] | undefined, name: string): ToolChoice | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'auto' || raw === 'none') return raw;
  if (raw === 'required') {
    if (!tools) throw new InvalidParams(`${name}: "required" needs tools to call`);
    return raw;
  }
  const choice = raw as { name?: unknown } | null;
  if (typeof choice === 'object' && choice !== null && typeof choice.name === 'string') {
    if (!tools?.some((t) => t.name === choice.name)) throw new InvalidParams(`${name} names "${choice.name}", which is not among the tools`);
    return { name: choice.name };
  }
  throw new InvalidParams(`${name} must be "auto", "none", "required" or {"name": <a tool>}, got ${JSON.stringify(raw).slice(0, 80)}`);
}

/**
 * Stop strings a request may carry. Providers take 4 or 5 (OpenAI, Gemini), and the daemon enforces the
 * rest on the streamed text, so the bound is only against mistakes: Continue's autocomplete sends a
 * template's stop tokens (up to 9), five or more of its own and a language's keywords (a dozen to about
 * thirty in all); 64 leaves room for such lists and still refuses one never meant as stop strings.
 */
export const MAX_STOP_SEQUENCES = 64;
/** Far longer than any stop token or marker a client sends, and it bounds the text held back while one may be beginning. */
export const MAX_STOP_LENGTH = 1000;

/** Stop sequences: one string or a list of non-empty strings; absent, null or empty is none. */
export function validateStop(raw: unknown, name: string, refuse: (message: string) => Error = (message) => new InvalidParams(message)): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list)) throw refuse(`${name} must be a string or an array of strings, got ${JSON.stringify(raw).slice(0, 80)}`);
  if (list.length > MAX_STOP_SEQUENCES) throw refuse(`${name} has ${list.length} strings; at most ${MAX_STOP_SEQUENCES} are taken`);
  list.forEach((s: unknown, i) => {
    if (typeof s !== 'string' || s === '' || s.length > MAX_STOP_LENGTH) {
      const at = typeof raw === 'string' ? name : `${name}[${i}]`;
      throw refuse(`${at} must be a non-empty string of at most ${MAX_STOP_LENGTH} characters, got ${JSON.stringify(s)?.slice(0, 80)}`);
    }
  });
  return list.length > 0 ? (list as string[]) : undefined;
}

/** The range each sampling field takes (OpenAI's, which the other providers' ranges contain or clamp). */
const SAMPLING_RANGE: Record<keyof Sampling, [number, number, 'number' | 'integer']> = {
  temperature: [0, 2, 'number'],
  topP: [0, 1, 'number'],
  presencePenalty: [-2, 2, 'number'],
  frequencyPenalty: [-2, 2, 'number'],
  seed: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'integer'],
};

/**
 * Sampling fields from `raw` (absent and null fields are left out; unknown ones are not looked at),
 * each checked against its range. `name` says how the caller's API spells a field, and `refuse` makes
 * the caller's error for it.
 */
export function validateSampling(
  raw: Partial<Record<keyof Sampling, unknown>>,
  name: (field: keyof Sampling) => string,
  refuse: (message: string, field: keyof Sampling) => Error = (message) => new InvalidParams(message),
): Sampling | undefined {
  const out: Sampling = {};
  for (const field of Object.keys(SAMPLING_RANGE) as (keyof Sampling)[]) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    const [min, max, kind] = SAMPLING_RANGE[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (kind === 'integer' && !Number.isInteger(value))) {
      throw refuse(kind === 'integer' ? `${name(field)} must be an integer, got ${JSON.stringify(value)}` : `${name(field)} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`, field);
    }
    out[field] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
