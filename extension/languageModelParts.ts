// VS Code's language model shapes and the contract's, both ways: which models to offer, and a
// conversation as vscode.lm hands it over turned into switchyard/chat messages. Pure (the parts are
// matched by shape, not class), so the unit tests run it without an editor.

import type { ChatMessage, ChatParams, ImageInput, SiteInfo, ToolCall, ToolDefinition } from '../daemon/protocol';
import { siteLabel } from '../media/format';

/** What `provideLanguageModelChatInformation` answers per model (vscode.LanguageModelChatInformation). */
export interface ModelInformation {
  id: string;
  name: string;
  family: string;
  version: string;
  maxInputTokens: number;
  maxOutputTokens: number;
  tooltip: string;
  detail: string;
  capabilities: { imageInput: boolean; toolCalling: boolean };
}

/**
 * One model per canonical id that some site serves now: the policy places each request among them,
 * so the limits are the widest of those sites (a prompt too long for one goes to another).
 */
export function modelInformation(sites: readonly SiteInfo[]): ModelInformation[] {
  const byModel = new Map<string, { info: ModelInformation; where: string[] }>();
  for (const s of sites) {
    if (s.unavailable !== null) continue;
    for (const m of s.models) {
      let entry = byModel.get(m.canonical);
      if (!entry) {
        entry = {
          info: { id: m.canonical, name: m.canonical, family: m.canonical, version: 'switchyard', maxInputTokens: 0, maxOutputTokens: 0, tooltip: '', detail: '', capabilities: { imageInput: false, toolCalling: false } },
          where: [],
        };
        byModel.set(m.canonical, entry);
      }
      const { info } = entry;
      info.maxInputTokens = Math.max(info.maxInputTokens, m.contextWindow);
      info.maxOutputTokens = Math.max(info.maxOutputTokens, m.maxOutputTokens ?? m.contextWindow);
      info.capabilities.imageInput ||= m.images;
      info.capabilities.toolCalling ||= m.tools;
      entry.where.push(siteLabel(s.site, true));
    }
  }
  return [...byModel.values()]
    .map(({ info, where }) => ({
      ...info,
      detail: `Switchyard · ${where.length} ${where.length === 1 ? 'site' : 'sites'}`,
      tooltip: `Placed per request by your Switchyard routing policy, among:\n${where.join('\n')}`,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** vscode.LanguageModelChatMessage's shape: role 1 user, 2 assistant; the proposed System role is 3. */
export interface LmMessage {
  readonly role: number;
  readonly content: ReadonlyArray<unknown>;
}

const USER = 1;
const ASSISTANT = 2;

interface TextPart { value: string }
interface ToolCallPart { callId: string; name: string; input: object }
interface ToolResultPart { callId: string; content: ReadonlyArray<unknown> }
interface DataPart { data: Uint8Array; mimeType: string }

const isObject = (p: unknown): p is Record<string, unknown> => typeof p === 'object' && p !== null;
const isText = (p: unknown): p is TextPart => isObject(p) && typeof p.value === 'string';
const isToolCall = (p: unknown): p is ToolCallPart => isObject(p) && typeof p.callId === 'string' && typeof p.name === 'string' && 'input' in p;
const isToolResult = (p: unknown): p is ToolResultPart => isObject(p) && typeof p.callId === 'string' && Array.isArray(p.content);
const isData = (p: unknown): p is DataPart => isObject(p) && p.data instanceof Uint8Array && typeof p.mimeType === 'string';

/**
 * Parts as text: text parts as they are, text and JSON data decoded, anything else (a prompt-tsx part) as
 * JSON. Other data parts are control data for the model's provider, not prompt: Copilot Chat marks cache
 * breakpoints with a `cache_control` part holding "ephemeral", and sends thinking and usage markers so.
 */
function textOf(parts: ReadonlyArray<unknown>): string {
  return parts
    .map((p) => {
      if (isText(p)) return p.value;
      if (isData(p)) return p.mimeType.startsWith('image/') ? `[${p.mimeType} image]` : isTextual(p.mimeType) ? Buffer.from(p.data).toString('utf8') : '';
      return isObject(p) && 'value' in p ? JSON.stringify(p.value) : '';
    })
    .join('');
}

function isTextual(mimeType: string): boolean {
  return mimeType.startsWith('text/') || mimeType === 'application/json' || mimeType.endsWith('+json');
}

function imageOf(p: DataPart): ImageInput {
  return { url: `data:${p.mimeType};base64,${Buffer.from(p.data).toString('base64')}` };
}

/**
 * vscode.lm's conversation in the contract's shape. A user message there carries the results of the
 * previous turn's tool calls; here each is a tool message of its own, ahead of what the user wrote.
 */
export function toChatMessages(messages: readonly LmMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === ASSISTANT) {
      const toolCalls: ToolCall[] = m.content.filter(isToolCall).map((c) => ({ id: c.callId, name: c.name, arguments: JSON.stringify(c.input ?? {}) }));
      const content = textOf(m.content.filter((p) => !isToolCall(p)));
      out.push(toolCalls.length > 0 ? { role: 'assistant', content, toolCalls } : { role: 'assistant', content });
      continue;
    }
    if (m.role !== USER) {
      out.push({ role: 'system', content: textOf(m.content) });
      continue;
    }
    for (const r of m.content.filter(isToolResult)) out.push({ role: 'tool', toolCallId: r.callId, content: textOf(r.content) });
    const rest = m.content.filter((p) => !isToolResult(p));
    const images = rest.filter((p): p is DataPart => isData(p) && p.mimeType.startsWith('image/')).map(imageOf);
    const content = textOf(rest.filter((p) => !(isData(p) && p.mimeType.startsWith('image/'))));
    if (content || images.length > 0) out.push(images.length > 0 ? { role: 'user', content, images } : { role: 'user', content });
  }
  return out;
}

/** vscode.LanguageModelChatTool and the tool mode (1 auto, 2 required). */
export interface LmTools {
  readonly tools?: ReadonlyArray<{ name: string; description: string; inputSchema?: object }>;
  readonly toolMode?: number;
  readonly modelOptions?: { readonly [name: string]: unknown };
}

const REQUIRED = 2;

/** The request's tools and the model options the contract knows (callers use OpenAI's names or the contract's). */
export function requestOptions(options: LmTools): Pick<ChatParams, 'tools' | 'toolChoice' | 'maxTokens' | 'sampling' | 'stop'> {
  const out: Pick<ChatParams, 'tools' | 'toolChoice' | 'maxTokens' | 'sampling' | 'stop'> = {};
  if (options.tools?.length) {
    out.tools = options.tools.map((t): ToolDefinition => ({ name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.inputSchema ? { parameters: t.inputSchema as Record<string, unknown> } : {}) }));
    if (options.toolMode === REQUIRED) out.toolChoice = 'required';
  }
  const o = options.modelOptions ?? {};
  const maxTokens = o.maxTokens ?? o.max_tokens;
  if (maxTokens !== undefined) out.maxTokens = maxTokens as number;
  const temperature = o.temperature;
  const topP = o.topP ?? o.top_p;
  if (temperature !== undefined || topP !== undefined) out.sampling = { ...(temperature !== undefined ? { temperature: temperature as number } : {}), ...(topP !== undefined ? { topP: topP as number } : {}) };
  if (o.stop !== undefined) out.stop = (Array.isArray(o.stop) ? o.stop : [o.stop]) as string[];
  return out;
}

/** A finished call's arguments as the object vscode.LanguageModelToolCallPart carries: the model's JSON, or `{}` when it wrote none. */
export function callInput(call: ToolCall): object {
  if (call.arguments.trim() === '') return {};
  const shown = call.arguments.slice(0, 200);
  let parsed: unknown;
  try {
    parsed = JSON.parse(call.arguments);
  } catch {
    // Most often a call cut short: the answer reached its token cap, or was cancelled, in the middle of it.
    throw new Error(`the model's call of ${call.name} is not whole JSON (an answer cut short in the middle of the call?): ${shown}`);
  }
  if (!isObject(parsed) || Array.isArray(parsed)) throw new Error(`the model called ${call.name} with arguments that are not a JSON object: ${shown}`);
  return parsed;
}
