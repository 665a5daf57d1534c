// VS Code's language model shapes and the contract's, both ways: which models to offer, a conversation
// as vscode.lm hands it over turned into switchyard/chat messages, and the answer streamed back. Pure (the
// parts are matched by shape, not class), so the unit tests run it without an editor.

import { appendToolCall } from '../daemon/chat/tools';
import type { ChatMessage, ChatParams, ImageInput, Receipt, SiteInfo, ToolCall, ToolDefinition } from '../daemon/protocol';
import { siteLabel, usd } from '../media/format';
import type { PanelError } from '../media/messages';
import type { ChatSink } from './chatRequests';

/** Who asked, as the ledger names it (`editor:vscode.lm`) and the output channel's lines begin. */
export const VIA = 'vscode.lm';

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
 * so the limits are the widest of those sites (a prompt too long for one goes to another). `cap` is the
 * answer cap requests carry (switchyard.chat.maxTokens): the daemon places a prompt only at a site whose
 * window holds it and the cap, so the prompt gets the window less the cap.
 */
export function modelInformation(sites: readonly SiteInfo[], cap?: number): ModelInformation[] {
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
      info.maxInputTokens = Math.max(info.maxInputTokens, m.contextWindow - (cap ?? 0));
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

function isModelInformation(m: unknown): m is ModelInformation {
  if (!isObject(m) || !isObject(m.capabilities)) return false;
  return ['id', 'name', 'family', 'version', 'tooltip', 'detail'].every((k) => typeof m[k] === 'string')
    && typeof m.maxInputTokens === 'number' && typeof m.maxOutputTokens === 'number'
    && typeof m.capabilities.imageInput === 'boolean' && typeof m.capabilities.toolCalling === 'boolean';
}

/** The extension's globalState, as far as the model list uses it (vscode.Memento). */
export interface ModelStore {
  get(key: string): unknown;
  update(key: string, value: unknown): PromiseLike<void>;
}

const MODELS_KEY = 'switchyard.lm.models';

/**
 * The models offered to vscode.lm. While the daemon is away (the window starting, a restart, a
 * reconnect) they are the last ones it offered, kept across windows: an empty list would take them out
 * of every picker, and Copilot Chat's chosen model with them. The provider says the list changed once
 * the daemon is ready, and VS Code asks again.
 */
export class OfferedModels {
  constructor(private readonly store: ModelStore) {}

  /** The daemon's list when `read` is given (it is ready) and answers, kept for later; else the last one kept. */
  async list(read: (() => Promise<ModelInformation[]>) | undefined, warn: (line: string) => void): Promise<ModelInformation[]> {
    if (read) {
      try {
        const models = await read();
        // VS Code asks often; the stored copy is written only when the list changed.
        if (JSON.stringify(models) !== JSON.stringify(this.kept())) await this.store.update(MODELS_KEY, models);
        return models;
      } catch (error) {
        warn(`listing models for vscode.lm failed, the last list stays offered: ${(error as Error).message}`);
      }
    }
    return this.kept();
  }

  private kept(): ModelInformation[] {
    const kept = this.store.get(MODELS_KEY);
    // Kept by an older version in another shape: offer nothing rather than models VS Code cannot read.
    return Array.isArray(kept) && kept.every(isModelInformation) ? kept : [];
  }
}

/** The codes of vscode.LanguageModelError a caller can act on: no such model to be had now; the request is blocked by a limit. */
export type LmErrorCode = 'NotFound' | 'Blocked';

/**
 * Which refusals a caller can tell apart by code. NotFound: there is no such model, or nothing to send
 * it to now (no daemon, no usable site), so another model or a moment's wait may help. Blocked: a budget
 * cap (or the team ledger that must check one) refuses it. The rest are about this request (too long,
 * needs images or tools, outside the policy's limits) or the sites' failures: no code, the words say.
 */
const CODES: Record<PanelError['kind'], LmErrorCode | undefined> = {
  unreachable: 'NotFound',
  'unknown-model': 'NotFound',
  'no-key': 'NotFound',
  budget: 'Blocked',
  'no-eligible-site': undefined,
  upstream: undefined,
  other: undefined,
};

/** A refused request as vscode.lm's caller gets it: the panel's wording, the daemon's own message kept, and the code. */
export function refusal(described: PanelError, daemonMessage: string): { code?: LmErrorCode; message: string } {
  const lines = [`Switchyard: ${described.title}.`, ...described.detail];
  if (!lines.some((line) => line.includes(daemonMessage))) lines.push(`The daemon said: ${daemonMessage}`);
  const code = CODES[described.kind];
  return { ...(code ? { code } : {}), message: lines.join('\n') };
}

/** An event's subscription (vscode.Event's shape). */
export type Signal = (listener: () => void) => { dispose(): void };

/**
 * What `probe` answers (not undefined), as soon as it does: now, or when one of `signals` fires.
 * Undefined when `timeoutMs` passes first or the caller cancels. A probe answers false when waiting
 * is pointless (the daemon stopped for good).
 */
export function waitFor<T>(probe: () => T | undefined, signals: readonly Signal[], timeoutMs: number, token: Cancellation): Promise<T | undefined> {
  const now = probe();
  if (now !== undefined || token.isCancellationRequested) return Promise.resolve(now);
  return new Promise((resolve) => {
    const finish = (value: T | undefined) => {
      clearTimeout(timer);
      for (const s of subscriptions) s.dispose();
      resolve(value);
    };
    const check = () => {
      const value = probe();
      if (value !== undefined) finish(value);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const subscriptions = [...signals.map((signal) => signal(check)), token.onCancellationRequested(() => finish(undefined))];
  });
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
 * JSON. Data parts whose type is no MIME type are control data for the model's provider, not prompt:
 * Copilot Chat marks cache breakpoints with a `cache_control` part holding "ephemeral", and sends thinking
 * and usage markers so. Other data (an image, a PDF or audio a tool returned) is named where it was, so
 * the model knows something is there; `shownBelow` says an image goes with the next user message.
 */
function textOf(parts: ReadonlyArray<unknown>, shownBelow: (p: DataPart) => boolean = () => false): string {
  return parts
    .map((p) => {
      if (isText(p)) return p.value;
      if (isData(p)) {
        if (p.mimeType.startsWith('image/')) return shownBelow(p) ? `[${p.mimeType} image, shown in the next user message]` : `[${p.mimeType} image]`;
        if (isTextual(p.mimeType)) return Buffer.from(p.data).toString('utf8');
        return p.mimeType.includes('/') ? `[${p.mimeType} data omitted]` : '';
      }
      return isObject(p) && 'value' in p ? JSON.stringify(p.value) : '';
    })
    .join('');
}

/** The image types the contract carries (daemon/chat/validate.ts): another in a tool's result would have every later request refused. */
const CARRIED_IMAGE = /^image\/(png|jpeg|gif|webp)$/;

function isTextual(mimeType: string): boolean {
  return mimeType.startsWith('text/') || mimeType === 'application/json' || mimeType.endsWith('+json');
}

function imageOf(p: DataPart): ImageInput {
  return { url: `data:${p.mimeType};base64,${Buffer.from(p.data).toString('base64')}` };
}

/**
 * vscode.lm's conversation in the contract's shape. A user message there carries the results of the
 * previous turn's tool calls (Copilot Chat sends each in a user message of its own); here each is a tool
 * message of its own, ahead of what the user wrote. The contract shows images with user messages only,
 * so when the model sees images (`seesImages`: some site of it does) those a tool returned (a
 * screenshot) go with the user message after the last result: one between two results would part the
 * second from its call, which the providers refuse.
 */
export function toChatMessages(messages: readonly LmMessage[], seesImages = false): ChatMessage[] {
  const out: ChatMessage[] = [];
  const shown = (p: DataPart) => seesImages && CARRIED_IMAGE.test(p.mimeType);
  let fromTools: ImageInput[] = [];
  const showFromTools = () => {
    if (fromTools.length > 0) out.push({ role: 'user', content: '', images: fromTools });
    fromTools = [];
  };
  for (const m of messages) {
    if (m.role === ASSISTANT) {
      showFromTools();
      const toolCalls: ToolCall[] = m.content.filter(isToolCall).map((c) => ({ id: c.callId, name: c.name, arguments: JSON.stringify(c.input ?? {}) }));
      const content = textOf(m.content.filter((p) => !isToolCall(p)));
      out.push(toolCalls.length > 0 ? { role: 'assistant', content, toolCalls } : { role: 'assistant', content });
      continue;
    }
    if (m.role !== USER) {
      showFromTools();
      out.push({ role: 'system', content: textOf(m.content) });
      continue;
    }
    for (const r of m.content.filter(isToolResult)) {
      out.push({ role: 'tool', toolCallId: r.callId, content: textOf(r.content, shown) });
      fromTools.push(...r.content.filter((p): p is DataPart => isData(p) && shown(p)).map(imageOf));
    }
    const rest = m.content.filter((p) => !isToolResult(p));
    const images = rest.filter((p): p is DataPart => isData(p) && p.mimeType.startsWith('image/')).map(imageOf);
    const content = textOf(rest.filter((p) => !(isData(p) && p.mimeType.startsWith('image/'))));
    if (!content && images.length === 0) continue;
    const all = [...fromTools, ...images];
    fromTools = [];
    out.push(all.length > 0 ? { role: 'user', content, images: all } : { role: 'user', content });
  }
  showFromTools();
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
    // Most often a call cut short: the answer reached its token cap in the middle of it.
    throw new Error(`the model's call of ${call.name} is not whole JSON (an answer cut short in the middle of the call?): ${shown}`);
  }
  if (!isObject(parsed) || Array.isArray(parsed)) throw new Error(`the model called ${call.name} with arguments that are not a JSON object: ${shown}`);
  return parsed;
}

/** The parts vscode.lm's caller receives: vscode.LanguageModelTextPart and vscode.LanguageModelToolCallPart. */
export interface AnswerParts {
  text(value: string): void;
  toolCall(callId: string, name: string, input: object): void;
}

/** vscode.CancellationToken's shape. */
export interface Cancellation {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/** The daemon's side of one answer. */
export interface AnswerRequest {
  /** Sends switchyard/chat with the sink for its notifications (ChatRequests.start); rejects with the refusal to show. */
  start(sink: ChatSink): Promise<unknown>;
  /** Asks the daemon to stop a placed request. */
  cancel(requestId: string): void;
  /** A line for the output channel. */
  log(line: string): void;
}

/**
 * One switchyard/chat answer for vscode.lm's caller: text as it streams, tool calls once the answer is whole.
 * The caller's cancel ends it at once: the daemon stops the site (what it produced is billed, and the
 * receipt still reaches the log), and the caller hears nothing more.
 */
export function streamAnswer(model: string, request: AnswerRequest, out: AnswerParts, token: Cancellation): Promise<void> {
  // Sent now, it would be placed, reserved and billed for nobody.
  if (token.isCancellationRequested) return Promise.resolve();
  const calls: ToolCall[] = [];
  let requestId: string | undefined;
  let cancelling: { dispose(): void } | undefined;
  return new Promise<void>((resolve, reject) => {
    cancelling = token.onCancellationRequested(() => {
      if (requestId) request.cancel(requestId);
      resolve();
    });
    request.start({
      placed: (started) => {
        requestId = started.requestId;
        // Cancelled while the daemon placed it: stopped now that it has an id.
        if (token.isCancellationRequested) request.cancel(requestId);
      },
      delta: (p) => {
        if (token.isCancellationRequested) return;
        if (p.text) out.text(p.text);
        if (p.toolCall) appendToolCall(calls, p.toolCall);
      },
      attempt: (p) => request.log(`${VIA} ${model}: ${p.attempt.siteId} failed (${p.attempt.message ?? p.attempt.outcome}); ${p.next ? `moving to ${siteLabel(p.next, true)}` : 'no site left'}`),
      receipt: ({ receipt }) => {
        request.log(`${VIA} ${model}: ${receipt.outcome} at ${siteLabel(receipt.site, true)}, ${usd(receipt.cost.totalNanoUsd)} (placement ${receipt.placementId})`);
        // The caller's cancel: the answer ended then, and a call it cut short is no error of the caller's.
        if (token.isCancellationRequested) return;
        const failure = unfinished(receipt);
        if (failure) return reject(new Error(failure));
        try {
          // Every call parsed before any is reported: the caller runs all of them, or gets the error and none.
          const inputs = calls.map(callInput);
          calls.forEach((call, i) => out.toolCall(call.id, call.name, inputs[i]));
          resolve();
        } catch (error) {
          // The cap (switchyard.chat.maxTokens, 1024 unless set) stopped the model mid-call: a larger one lets it finish.
          if (receipt.outcome !== 'length') return reject(error);
          reject(new Error(`Switchyard: the answer from ${siteLabel(receipt.site, true)} reached its token cap (after ${receipt.tokens.output} output tokens) in the middle of a tool call, so none of its calls is reported: ${(error as Error).message}. Raise "switchyard.chat.maxTokens" (or the request's maxTokens) and ask again. What it produced is billed.`));
        }
      },
      lost: () => reject(new Error('Switchyard: the connection to the daemon dropped during the answer. What the site produced is billed. Ask again once Switchyard has reconnected (the status bar says when); if it does not, run "Switchyard: Restart Daemon" or read "Switchyard: Show Logs".')),
    }).catch(reject);
  }).finally(() => cancelling?.dispose());
}

/** Why an answer that ended is not whole, as the caller reads it; undefined when it is (complete, or at its token cap). */
function unfinished(receipt: Receipt): string | undefined {
  const site = siteLabel(receipt.site, true);
  switch (receipt.outcome) {
    case 'error':
    case 'cut':
      return `Switchyard: the answer from ${site} ${receipt.outcome === 'cut' ? 'was cut off' : 'failed'}: ${receipt.error ?? 'no detail'}. What it produced is billed.`;
    case 'cancelled':
      // Not the caller's cancel (that ends the answer before its receipt): the daemon stops every answer when it shuts down.
      return `Switchyard: the daemon stopped the answer from ${site} before it ended (it was shutting down or restarting). What it produced is billed.`;
    default:
      return undefined;
  }
}
