// switchyard/chat params, checked before anything is placed or reserved: a bad request changes nothing
// and the error names the field.

import type { ChatMessage, ChatParams } from '../protocol';

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
  return { model: p.model.trim(), messages, maxTokens, policy: p.policy as string | undefined, workspace: p.workspace as string | undefined };
}
