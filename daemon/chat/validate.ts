// switchyard/chat params, checked before anything is placed or reserved: a bad request changes nothing
// and the error names the field.

import type { ChatMessage, ChatParams, Sampling } from '../protocol';

export const DEFAULT_MAX_TOKENS = 1024;
export const MAX_MAX_TOKENS = 200_000;

export class InvalidParams extends Error {}

export function validateChat(input: unknown): Required<Pick<ChatParams, 'model' | 'messages' | 'maxTokens'>> & ChatParams {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidParams('params must be an object');
  const p = input as Record<string, unknown>;
  if (typeof p.model !== 'string' || p.model.trim() === '') throw new InvalidParams('params.model must be a non-empty string (a canonical model id or siteId/providerModel)');
  if (!Array.isArray(p.messages) || p.messages.length === 0) throw new InvalidParams('params.messages must be a non-empty array');
  const messages: ChatMessage[] = p.messages.map((m: unknown, i: number) => {
    const message = m as Record<string, unknown> | null;
    if (typeof message !== 'object' || message === null) throw new InvalidParams(`params.messages[${i}] must be an object`);
    if (message.role !== 'system' && message.role !== 'user' && message.role !== 'assistant') {
      throw new InvalidParams(`params.messages[${i}].role must be "system", "user" or "assistant", got ${JSON.stringify(message.role)}`);
    }
    if (typeof message.content !== 'string') throw new InvalidParams(`params.messages[${i}].content must be a string`);
    return { role: message.role, content: message.content };
  });
  const maxTokens = p.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_MAX_TOKENS) {
    throw new InvalidParams(`params.maxTokens must be an integer 1-${MAX_MAX_TOKENS}, got ${JSON.stringify(p.maxTokens)}`);
  }
  for (const field of ['policy', 'workspace'] as const) {
    if (p[field] !== undefined && typeof p[field] !== 'string') throw new InvalidParams(`params.${field} must be a string`);
  }
  if (p.sampling !== undefined && (typeof p.sampling !== 'object' || p.sampling === null || Array.isArray(p.sampling))) throw new InvalidParams('params.sampling must be an object');
  const sampling = p.sampling === undefined ? undefined : validateSampling(p.sampling as Record<string, unknown>, (field) => `params.sampling.${field}`);
  const stop = validateStop(p.stop, 'params.stop');
  return { model: p.model.trim(), messages, maxTokens, sampling, stop, policy: p.policy as string | undefined, workspace: p.workspace as string | undefined };
}

/** OpenAI's limit, which the other providers' APIs accept too. */
export const MAX_STOP_SEQUENCES = 4;

/** Stop sequences: one string or an array of up to 4 non-empty strings; absent or null is none. */
export function validateStop(raw: unknown, name: string, refuse: (message: string) => Error = (message) => new InvalidParams(message)): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.length > MAX_STOP_SEQUENCES || list.some((s) => typeof s !== 'string' || s === '')) {
    throw refuse(`${name} must be a non-empty string or an array of at most ${MAX_STOP_SEQUENCES} non-empty strings, got ${JSON.stringify(raw).slice(0, 80)}`);
  }
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
