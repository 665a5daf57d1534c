// The one runner behind every real adapter. Each wire family (OpenAI and compatible, Anthropic, Gemini,
// Bedrock) supplies an AI SDK LanguageModelV3 from its provider package and a tracker that reads the
// provider's own payloads (raw stream chunks or the JSON body): usage in the provider's shape, mapped
// with the meter's mappers, and whether the answer reached a proper finish. This file turns that into a
// SiteResult: text and time to first token, usage, lower-cased headers, bytes off the wire, and how the
// request ended (complete, length, cancelled, cut, error with a retryable flag).

import { APICallError, type JSONSchema7, type LanguageModelV3, type LanguageModelV3CallOptions, type LanguageModelV3FilePart, type LanguageModelV3Prompt, type LanguageModelV3Usage } from '@ai-sdk/provider';
import type { ChatMessage, ImageInput, ToolCall, ToolCallDelta } from '../protocol';
import { appendToolCall } from '../chat/tools';
import type { Site, SiteModel } from '../catalog/types';
import { Redactor } from '../log/redact';
import { meteredFetch, StallError, type WireStats } from './fetch';
import type { ReportedUsage, SiteAdapter, SiteError, SiteRequest, SiteResult } from './types';

/** Reads one request's provider payloads. */
export interface RawTracker {
  /** One raw streamed chunk or event, as the provider sent it (parsed JSON). */
  chunk(raw: unknown): void;
  /**
   * The whole JSON body of a non-streamed answer, with the library's usage of it. Where the library made
   * several requests for the answer (Gemini's long decode) the body is the last one's, the usage all of them.
   * Where the library keeps no body (Bedrock's Converse) `raw` is undefined; its usage still has the
   * provider's own usage object in `raw`.
   */
  body(raw: unknown, usage?: LanguageModelV3Usage): void;
  usage: ReportedUsage | null;
  /** The provider said the answer is over (a finish reason, a stop event). */
  finished: boolean;
  /** It ended because of the output token limit. */
  length: boolean;
  /** A content filter, a guardrail or the model's refusal ended it. */
  filtered?: boolean;
  /** An error the provider sent inside the stream. */
  error?: SiteError;
}

/**
 * The finish reasons that mean a filter or a refusal ended the answer, in each wire's own words: OpenAI's
 * content_filter, Anthropic's refusal, Gemini's safety family, Bedrock's filter and guardrail. No two
 * wires use one word for different things, so one set serves them all.
 */
const FILTERED_REASONS = new Set([
  'content_filter', 'refusal', 'SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'content_filtered', 'guardrail_intervened',
]);

/** Records a provider's finish reason: any reason ends the answer properly; `lengthReason` means the output limit did. */
export function finishWith(tracker: RawTracker, reason: string | null | undefined, lengthReason: string): void {
  if (!reason) return;
  tracker.finished = true;
  if (reason === lengthReason) tracker.length = true;
  if (FILTERED_REASONS.has(reason)) tracker.filtered = true;
}

export interface WireFamily {
  /**
   * The AI SDK model for a site, model and key. Built once and kept by the adapter (building one
   * compiles the provider's schemas), so `fetch` is the same for every request: it routes each call
   * to that request's metered fetch.
   */
  model(site: Site, model: SiteModel, apiKey: string | undefined, fetch: typeof globalThis.fetch): LanguageModelV3;
  tracker(): RawTracker;
  /** What the request asks that the library takes only as this provider's own option. */
  providerOptions?(req: SiteRequest): LanguageModelV3CallOptions['providerOptions'];
  /** Which of the request's stop strings the provider takes. */
  stops: StopRule;
}

/** How many stop strings a provider takes, and whether it takes whitespace-only ones. */
export interface StopRule {
  max: number;
  blank: boolean;
}

/**
 * The stop strings sent upstream: the first the provider takes, in the request's order. The daemon ends
 * the answer at every stop string itself (chat/stop.ts), so one left out only lets the upstream go on
 * until the daemon sees it and aborts the request.
 */
export function upstreamStops(stops: readonly string[] | undefined, rule: StopRule): string[] | undefined {
  if (!stops) return undefined;
  const taken = (rule.blank ? stops : stops.filter((s) => s.trim() !== '')).slice(0, rule.max);
  return taken.length > 0 ? taken : undefined;
}

export interface AdapterOptions {
  /** No bytes for this long, before or during the answer: the upstream is stalled. */
  idleTimeoutMs?: number;
  /** Stream the answer (default) or ask for one JSON body. */
  stream?: boolean;
  now?: () => number;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/** Arguments as the library's prompt wants them: parsed, or the text itself when it is not JSON. */
function parsedArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const IMAGE_EXTENSIONS: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

/**
 * An image as the library's file part: a data URL's bytes (base64) with its type, or the URL itself for the
 * provider to fetch, typed by its extension where it has one (Gemini names the type of a fetched file).
 */
function imagePart(image: ImageInput): LanguageModelV3FilePart {
  const inline = /^data:([^;]+);base64,(.*)$/s.exec(image.url);
  if (inline) return { type: 'file', mediaType: inline[1], data: inline[2] };
  const extension = /\.([a-z]+)$/i.exec(new URL(image.url).pathname)?.[1]?.toLowerCase();
  return { type: 'file', mediaType: IMAGE_EXTENSIONS[extension ?? ''] ?? 'image/*', data: new URL(image.url) };
}

export function toPrompt(messages: readonly ChatMessage[]): LanguageModelV3Prompt {
  // A tool result names its tool in some providers' formats (Gemini's functionResponse), the contract by call id.
  const toolNames = new Map<string, string>();
  const prompt = messages.map((m) => {
    switch (m.role) {
      case 'system':
        return { role: 'system' as const, content: m.content };
      case 'user':
        return {
          role: 'user' as const,
          content: [
            ...(m.content ? [{ type: 'text' as const, text: m.content }] : []),
            ...(m.images ?? []).map(imagePart),
          ],
        };
      case 'assistant':
        for (const c of m.toolCalls ?? []) toolNames.set(c.id, c.name);
        return {
          role: 'assistant' as const,
          content: [
            // No empty text part: Anthropic and Bedrock refuse empty text blocks, beside calls or alone.
            ...(m.content ? [{ type: 'text' as const, text: m.content }] : []),
            ...(m.toolCalls ?? []).map((c) => ({ type: 'tool-call' as const, toolCallId: c.id, toolName: c.name, input: parsedArguments(c.arguments) })),
          ],
        };
      case 'tool':
        return {
          role: 'tool' as const,
          content: [{ type: 'tool-result' as const, toolCallId: m.toolCallId!, toolName: toolNames.get(m.toolCallId!) ?? '', output: { type: 'text' as const, value: m.content } }],
        };
    }
  });
  // A turn with nothing in it (an assistant that said nothing, an empty user message) is left out: the
  // providers refuse empty content, and the libraries join the turns on either side where they must.
  return mergeToolResults(prompt.filter((m) => m.role === 'system' || m.content.length > 0));
}

/**
 * The results of one turn's calls in one tool message. Gemini wants every functionResponse of a
 * parallel call turn in one content (else a 400), and its library, unlike Anthropic's and Bedrock's,
 * does not merge consecutive tool messages itself.
 */
function mergeToolResults(prompt: LanguageModelV3Prompt): LanguageModelV3Prompt {
  const merged: LanguageModelV3Prompt = [];
  for (const m of prompt) {
    const last = merged[merged.length - 1];
    if (m.role === 'tool' && last?.role === 'tool') merged[merged.length - 1] = { ...last, content: [...last.content, ...m.content] };
    else merged.push(m);
  }
  return merged;
}

/** The request's tools in the library's call options. */
export function toolOptions(req: SiteRequest): Pick<LanguageModelV3CallOptions, 'tools' | 'toolChoice'> {
  if (!req.tools?.length) return {};
  const choice = req.toolChoice;
  return {
    tools: req.tools.map((t) => ({
      type: 'function' as const,
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      inputSchema: (t.parameters ?? { type: 'object', properties: {} }) as JSONSchema7,
      ...(t.strict !== undefined ? { strict: t.strict } : {}),
    })),
    ...(choice === undefined ? {} : { toolChoice: typeof choice === 'string' ? { type: choice } : { type: 'tool' as const, toolName: choice.name } }),
  };
}

/** The library's normalised usage, for a provider whose raw usage the tracker did not find. */
export function fromSdkUsage(u: LanguageModelV3Usage | undefined): ReportedUsage | null {
  if (!u || (u.inputTokens.total === undefined && u.outputTokens.total === undefined)) return null;
  const n = (v: number | undefined) => (typeof v === 'number' && v > 0 ? Math.round(v) : 0);
  const cacheRead = n(u.inputTokens.cacheRead);
  const cacheWrite = n(u.inputTokens.cacheWrite);
  const input = u.inputTokens.noCache !== undefined ? n(u.inputTokens.noCache) : Math.max(0, n(u.inputTokens.total) - cacheRead - cacheWrite);
  return { input, cachedInput: cacheRead, cacheWrite, output: n(u.outputTokens.total), reasoning: n(u.outputTokens.reasoning), raw: u.raw ?? u };
}

/** 429, 408, 409 (conflict/lock), 425 and 5xx are worth another site; other 4xx (bad request, key, context) are not. */
export function retryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true;
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** Retry-After in ms from `retry-after-ms`, or `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Record<string, string> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** Anthropic-style error types (stream error events and bodies) to the status they travel with. */
const ERROR_TYPE_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
  timeout_error: 504,
};

function causeCode(error: unknown): string | undefined {
  let e = error as { code?: unknown; cause?: unknown } | undefined;
  for (let i = 0; i < 4 && e; i++) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/** Any failure the library or the socket produced, as a SiteError with the provider's message kept. */
export function toSiteError(error: unknown, headers: Record<string, string>): SiteError {
  if (error instanceof StallError) return { message: `timeout: ${error.message}`, retryable: true };
  if (APICallError.isInstance(error) && error.statusCode !== undefined && error.statusCode < 300) {
    // The answer started (2xx) and then broke while the library read it: a reset or a torn body.
    const cause = error.cause as Error | undefined;
    const code = causeCode(cause);
    return { message: `the response broke off${code ? ` (${code})` : ''}: ${cause?.message ?? error.message}`, retryable: true };
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const h = error.responseHeaders ? lower(error.responseHeaders) : headers;
    const out: SiteError = { status, message: error.message || `HTTP ${status}`, retryable: error.statusCode === undefined ? true : retryableStatus(status) };
    const after = retryAfterMs(h);
    if (after !== undefined) out.retryAfterMs = after;
    return out;
  }
  const name = (error as { name?: string } | null)?.name;
  if (name === 'AI_UnsupportedFunctionalityError') {
    const functionality = (error as { functionality?: string }).functionality ?? (error as Error).message;
    return { message: `this site's API cannot take the request as sent: ${functionality}`, retryable: true, unsupported: true };
  }
  if (name === 'AI_LoadAPIKeyError') return { message: 'no API key for this provider: set it in Switchyard (Set API Key) or in the daemon environment', retryable: false };
  if (name === 'AI_JSONParseError' || name === 'AI_TypeValidationError' || name === 'AI_EmptyResponseBodyError') {
    return { message: `malformed response: ${(error as Error).message.split('\n')[0]}`, retryable: true };
  }
  if (error && typeof error === 'object' && !(error instanceof Error)) {
    // An error the provider sent inside the stream: {type, message} (Anthropic) or {message, code} (OpenAI).
    const e = error as { type?: unknown; message?: unknown; code?: unknown; error?: unknown };
    const inner = (e.error && typeof e.error === 'object' ? e.error : e) as { type?: unknown; message?: unknown; code?: unknown };
    const type = typeof inner.type === 'string' ? inner.type : undefined;
    const status = type ? ERROR_TYPE_STATUS[type] : typeof inner.code === 'number' ? inner.code : undefined;
    const message = typeof inner.message === 'string' ? inner.message : JSON.stringify(error).slice(0, 300);
    return { status, message: type ? `${type}: ${message}` : message, retryable: retryableStatus(status) };
  }
  const code = causeCode(error);
  const message = (error as Error | undefined)?.message ?? String(error);
  if (code) return { message: `connection failed (${code}): ${message}`, retryable: true };
  return { message: message === 'terminated' ? 'connection closed by the upstream (terminated)' : message, retryable: true };
}

function lower(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** The provider's message, with the request's key (and anything shaped like a key) masked. */
export function scrub(error: SiteError, apiKey: string | undefined): SiteError {
  const redactor = new Redactor();
  if (apiKey) {
    redactor.add(apiKey);
    // Providers quote a key partly ("sk-abc...wxyz"); mask any run of 8 of it too, from every offset (a
    // grid of them would miss a quoted tail or a short run that straddles two).
    if (apiKey.length >= 12) for (let i = 0; i + 8 <= apiKey.length; i++) redactor.add(apiKey.slice(i, i + 8));
  }
  return { ...error, message: redactor.text(error.message) };
}

/**
 * Each request's metered fetch, by the abort signal that request hands its model: a kept model's
 * library passes the call's abortSignal to fetch as `init.signal`, so this finds whose call it is.
 */
const fetchBySignal = new WeakMap<AbortSignal, typeof globalThis.fetch>();

const routedFetch: typeof globalThis.fetch = (input, init) => {
  const fetch = init?.signal ? fetchBySignal.get(init.signal) : undefined;
  if (!fetch) return Promise.reject(new Error('provider library called fetch without the request\'s abort signal'));
  return fetch(input, init);
};

/** One attempt's running account: its text and time to first token, and the SiteResult it ends as. */
export interface Attempt {
  /** A piece of answer text: the first marks time to first token; each goes to the caller at once. */
  delta(piece: string): void;
  /** A piece of a tool call, likewise. */
  toolCall(piece: ToolCallDelta): void;
  /** A piece of reasoning: kept for the bill only (not shown, no first token). */
  reasoning(piece: string): void;
  result(outcome: SiteResult['outcome'], error?: SiteError): SiteResult;
  /** A failure: cancelled if the caller left, cut if text had started, else an error. */
  failed(error: SiteError): SiteResult;
  /**
   * Every byte of the answer is in: how it ended, from what the tracker saw, an error the library or
   * the stream reported, and the library's own finish reason where it read one (it sees bodies the
   * tracker does not: Bedrock's Converse).
   */
  ended(streamError?: SiteError, libraryFinish?: string): SiteResult;
}

export function startAttempt(req: SiteRequest, tracker: RawTracker, stats: WireStats, now: () => number, idleMs: number, streamed = true): Attempt {
  const started = now();
  let text = '';
  let thought = '';
  const calls: ToolCall[] = [];
  let ttftMs: number | null = null;
  const result = (outcome: SiteResult['outcome'], error?: SiteError): SiteResult => ({
    outcome,
    text,
    ...(calls.length > 0 ? { toolCalls: calls.map((c) => ({ ...c })) } : {}),
    ...(thought ? { reasoningText: thought } : {}),
    usage: tracker.usage,
    headers: { ...stats.headers },
    bytesReceived: stats.bytes,
    ttftMs,
    durationMs: now() - started,
    ...(streamed ? {} : { streamed: false as const }),
    ...(error ? { error: scrub(error, req.apiKey) } : {}),
  });
  const produced = () => text !== '' || calls.length > 0;
  const failed = (error: SiteError): SiteResult => {
    if (req.signal.aborted) return result('cancelled');
    if (produced()) return result('cut', { ...error, retryable: true });
    return result('error', error);
  };
  return {
    delta(piece) {
      if (!piece) return;
      if (ttftMs === null) ttftMs = now() - started;
      text += piece;
      req.onDelta(piece);
    },
    toolCall(piece) {
      if (ttftMs === null) ttftMs = now() - started;
      appendToolCall(calls, piece);
      req.onToolCall?.(piece);
    },
    reasoning(piece) {
      thought += piece;
    },
    result,
    failed,
    ended(streamError, libraryFinish) {
      if (req.signal.aborted) return result('cancelled');
      if (stats.stalled) return failed(toSiteError(new StallError(idleMs), stats.headers));
      if (tracker.error) return failed(tracker.error);
      if (streamError) return failed(streamError);
      if (!tracker.finished) {
        return failed({ message: produced() ? 'the stream ended before the provider finished the answer' : 'the stream ended without an answer', retryable: true });
      }
      const answer = result(tracker.length || libraryFinish === 'length' ? 'length' : 'complete');
      return tracker.filtered || libraryFinish === 'content-filter' ? { ...answer, filtered: true } : answer;
    },
  };
}

export function createWireAdapter(family: WireFamily, options: AdapterOptions = {}): SiteAdapter {
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const streaming = options.stream ?? true;
  const now = options.now ?? (() => performance.now());
  /** Models by site and provider model, each with the key it was built with (a new key rebuilds it). */
  const models = new WeakMap<Site, Map<string, { apiKey: string | undefined; model: LanguageModelV3 }>>();

  function modelFor(site: Site, model: SiteModel, apiKey: string | undefined): LanguageModelV3 {
    let bySite = models.get(site);
    if (!bySite) models.set(site, (bySite = new Map()));
    const kept = bySite.get(model.providerModel);
    if (kept && kept.apiKey === apiKey) return kept.model;
    const built = family.model(site, model, apiKey, routedFetch);
    bySite.set(model.providerModel, { apiKey, model: built });
    return built;
  }

  async function send(req: SiteRequest): Promise<SiteResult> {
    const wire = meteredFetch(req.signal, idleMs);
    fetchBySignal.set(wire.signal, wire.fetch);
    const tracker = family.tracker();
    const { delta, toolCall, reasoning, result, failed, ended } = startAttempt(req, tracker, wire.stats, now, idleMs, streaming);
    // The library streams a call as input-start, input deltas and the whole call; some providers (Gemini)
    // send only the whole call. Calls are numbered in the order they start.
    const callIndex = new Map<string, { index: number; arguments: boolean }>();
    const wholeCall = (id: string, name: string, input: string) => {
      const seen = callIndex.get(id);
      if (!seen) {
        callIndex.set(id, { index: callIndex.size, arguments: true });
        return toolCall({ index: callIndex.size - 1, id, name, arguments: input });
      }
      // Streamed without any argument text (a call that takes none): the whole call's input is the text.
      if (!seen.arguments && input) toolCall({ index: seen.index, arguments: input });
    };

    try {
      const model = modelFor(req.site, req.model, req.apiKey);
      // The SDK's call options use the contract's names; a provider without a setting warns and ignores it.
      const call = {
        prompt: toPrompt(req.messages), maxOutputTokens: req.maxTokens, ...req.sampling, stopSequences: upstreamStops(req.stop, family.stops), ...toolOptions(req),
        ...(req.responseFormat ? { responseFormat: { type: 'json' as const, schema: req.responseFormat.schema as JSONSchema7 | undefined, name: req.responseFormat.name, description: req.responseFormat.description } } : {}),
        providerOptions: family.providerOptions?.(req), abortSignal: wire.signal,
      };
      if (!streaming) {
        const answer = await model.doGenerate(call);
        tracker.body(answer.response?.body, answer.usage);
        if (!tracker.usage) tracker.usage = fromSdkUsage(answer.usage);
        for (const part of answer.content) {
          if (part.type === 'text') delta(part.text);
          else if (part.type === 'tool-call') wholeCall(part.toolCallId, part.toolName, part.input);
        }
        // The library parsed a whole answer, so it is complete even where the raw body was not kept.
        tracker.finished = true;
        return ended(undefined, answer.finishReason.unified);
      }

      const { stream } = await model.doStream({ ...call, includeRawChunks: true });
      const reader = stream.getReader();
      let streamError: unknown;
      let finishReason: string | undefined;
      let sdkUsage: LanguageModelV3Usage | undefined;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          switch (value.type) {
            case 'text-delta':
              delta(value.delta);
              break;
            case 'reasoning-delta':
              reasoning(value.delta);
              break;
            case 'tool-input-start':
              callIndex.set(value.id, { index: callIndex.size, arguments: false });
              toolCall({ index: callIndex.size - 1, id: value.id, name: value.toolName });
              break;
            case 'tool-input-delta': {
              const seen = callIndex.get(value.id);
              if (seen && value.delta) {
                seen.arguments = true;
                toolCall({ index: seen.index, arguments: value.delta });
              }
              break;
            }
            case 'tool-call':
              wholeCall(value.toolCallId, value.toolName, value.input);
              break;
            case 'raw':
              tracker.chunk(value.rawValue);
              break;
            case 'error':
              streamError ??= value.error;
              break;
            case 'finish':
              finishReason = value.finishReason.unified;
              sdkUsage = value.usage;
              break;
          }
        }
      } catch (error) {
        void reader.cancel().catch(() => {});
        if (!tracker.usage) tracker.usage = fromSdkUsage(sdkUsage);
        return failed(toSiteError(wire.stats.stalled ? new StallError(idleMs) : error, wire.stats.headers));
      }
      if (!tracker.usage) tracker.usage = fromSdkUsage(sdkUsage);
      return ended(streamError === undefined ? undefined : toSiteError(streamError, wire.stats.headers), finishReason);
    } catch (error) {
      if (req.signal.aborted) return result('cancelled');
      return failed(toSiteError(wire.stats.stalled ? new StallError(idleMs) : error, wire.stats.headers));
    } finally {
      wire.done();
      fetchBySignal.delete(wire.signal);
    }
  }

  return { send };
}
