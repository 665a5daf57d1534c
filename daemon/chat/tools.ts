// Tool calling, where it is the same for every door and every wire: whether a request needs a site that
// can call tools, and how streamed pieces of calls add up to whole calls.

import type { ChatParams, ToolCall, ToolCallDelta } from '../protocol';

/** Tools defined, or tool calls and results in the conversation: either needs a site that can call tools. */
export function usesTools(params: Pick<ChatParams, 'tools' | 'messages'>): boolean {
  return params.tools !== undefined || params.messages.some((m) => m.role === 'tool' || m.toolCalls !== undefined);
}

/** Adds a piece to the call it belongs to: the first piece of call `index` brings its id and name. */
export function appendToolCall(calls: ToolCall[], piece: ToolCallDelta): void {
  const call = (calls[piece.index] ??= { id: '', name: '', arguments: '' });
  if (piece.id) call.id = piece.id;
  if (piece.name) call.name += piece.name;
  if (piece.arguments) call.arguments += piece.arguments;
}
