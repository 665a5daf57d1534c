// OpenAI chat completions and everything that speaks it: OpenAI, Azure OpenAI, Groq, Together, Fireworks,
// Mistral, OpenRouter and any OpenAI-compatible endpoint the user names (vLLM, Ollama, llama.cpp, a
// company proxy). Streaming asks for usage with stream_options.include_usage; usage is read from
// whichever chunk carries it (the final one with empty choices, or the last content chunk where a
// compatible server puts it there) and mapped with the meter's fromOpenAI.
//
// Unlike the other wire families this one does not go through the AI SDK: it is on the path of every
// OpenAI-compatible site and of the daemon's own /v1 endpoint, and there the SDK's fetch and web
// streams cost more CPU per request than the whole rest of the daemon (docs/openai-endpoint.md has the
// profile). It speaks HTTP with undici's pool request, the same client without the web streams, on
// kept-alive sockets, and frames SSE with eventsource-parser;
// the outcomes (cut, stall, cancel, retryable statuses) are the same as every other family's
// (startAttempt in ./wire).

import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import { createParser } from 'eventsource-parser';
import { Pool, type Dispatcher } from 'undici';
import type { Site, SiteModel } from '../catalog/types';
import type { ChatMessage, Sampling, ToolCall, ToolCallDelta } from '../protocol';
import { fromOpenAI, type OpenAIUsage } from '../meter/usage';
import type { WireStats } from './fetch';
import type { SiteAdapter, SiteError, SiteRequest, SiteResult } from './types';
import { DEFAULT_IDLE_TIMEOUT_MS, finishWith, retryableStatus, retryAfterMs, startAttempt, toSiteError, upstreamStops, type AdapterOptions, type RawTracker, type StopRule } from './wire';

interface WireToolCall {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

interface ChatChunk {
  choices?: { finish_reason?: string | null; delta?: { content?: string | null; tool_calls?: WireToolCall[]; reasoning_content?: string | null; reasoning?: string | null }; message?: { content?: string | null; tool_calls?: WireToolCall[] } }[];
  usage?: OpenAIUsage | null;
  error?: { message?: string; type?: string; code?: unknown };
}

export function openAITracker(): RawTracker {
  const tracker: RawTracker = {
    usage: null,
    finished: false,
    length: false,
    chunk(raw) {
      const c = raw as ChatChunk | null;
      if (!c || typeof c !== 'object') return;
      if (c.error && typeof c.error === 'object') tracker.error ??= toSiteError(c.error, {});
      if (c.usage && typeof c.usage === 'object') tracker.usage = fromOpenAI(c.usage);
      for (const choice of c.choices ?? []) {
        const reason = choice?.finish_reason;
        // Mistral ends a failed generation with finish_reason "error" (not an error body), and one that
        // filled the model's context with "model_length": neither is an answer that finished.
        if (reason === 'error') tracker.error ??= { message: 'the provider ended the answer with finish_reason "error"', retryable: true };
        finishWith(tracker, reason === 'model_length' ? 'length' : reason, 'length');
      }
    },
    body(raw) {
      tracker.chunk(raw);
      // A JSON answer is complete by construction; some servers leave finish_reason out.
      if ((raw as ChatChunk | null)?.choices?.length) tracker.finished = true;
    },
  };
  return tracker;
}

/** undici's default: shorter than the 5 s idle timeout of Node, uvicorn (vLLM) and most proxies. */
const KEEP_ALIVE_MS = 4000;
const STALE = Symbol('stale socket');
/** How a request on a socket the server had just closed dies, before any answer. */
const UNANSWERED = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
/** undici's headersTimeout and bodyTimeout: the idle timer fired. */
const isTimeout = (error: Error) => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
};

/** Mistral sends usage on its last chunk unasked; the others need stream_options.include_usage. */
const ASKS_FOR_USAGE = (provider: string) => provider !== 'mistral';

interface Endpoint {
  url: URL;
  /** Header carrying the key, and how the key is written there. */
  auth(apiKey: string): [string, string];
  /** OpenAI's own APIs take max_completion_tokens (reasoning models refuse max_tokens); compatible servers know max_tokens. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
}

const bearer = (apiKey: string): [string, string] => ['authorization', `Bearer ${apiKey}`];

/** Where a site's chat completions live, as the official SDKs address them. */
export function openAIEndpoint(site: Site): Endpoint {
  const base = site.endpoint.baseUrl?.replace(/\/+$/, '');
  switch (site.endpoint.kind) {
    case 'openai':
      return { url: new URL(`${base ?? 'https://api.openai.com/v1'}/chat/completions`), auth: bearer, maxTokensField: 'max_completion_tokens' };
    case 'azure-openai': {
      if (!base) throw new Error(`site ${site.id}: azure-openai needs endpoint.baseUrl (https://<resource>.openai.azure.com/openai)`);
      // Azure's v1 API: {resource}/openai/v1/chat/completions?api-version=v1, the deployment name as the
      // model. Any other host (a company proxy) is used as given, as the Azure SDK does.
      const host = new URL(base).hostname;
      const azure = /\.(openai\.azure|services\.ai\.azure|cognitiveservices\.azure)\.com$/i.test(host);
      const url = new URL(azure && !/\/v1$/i.test(base) ? `${base}/v1/chat/completions?api-version=v1` : `${base}/chat/completions`);
      return { url, auth: (apiKey) => ['api-key', apiKey], maxTokensField: 'max_completion_tokens' };
    }
    default:
      if (!base) throw new Error(`site ${site.id}: an openai-compatible endpoint needs endpoint.baseUrl`);
      return { url: new URL(`${base}/chat/completions`), auth: bearer, maxTokensField: 'max_tokens' };
  }
}

/** Calls as the chat completions API writes them in an assistant message (the daemon's endpoint answers so too). */
export function wireToolCalls(calls: readonly ToolCall[]) {
  return calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }));
}

/** A contract message as the chat completions API writes it. */
function wireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  // An assistant turn that only called tools has null content in OpenAI's own transcripts.
  if (m.role === 'assistant' && m.toolCalls?.length) return { role: 'assistant', content: m.content || null, tool_calls: wireToolCalls(m.toolCalls) };
  if (m.images?.length) {
    return {
      role: m.role,
      content: [
        ...(m.content ? [{ type: 'text', text: m.content }] : []),
        ...m.images.map((i) => ({ type: 'image_url', image_url: { url: i.url, ...(i.detail ? { detail: i.detail } : {}) } })),
      ],
    };
  }
  return { role: m.role, content: m.content };
}

/** The request's tools, tool_choice and parallel_tool_calls in the chat completions API's shapes. */
function wireTools(req: SiteRequest): Record<string, unknown> {
  if (!req.tools?.length) return {};
  const choice = req.toolChoice;
  return {
    tools: req.tools.map((t) => ({ type: 'function', function: t })),
    ...(choice === undefined ? {} : { tool_choice: typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } } }),
    ...(req.parallelToolCalls === undefined ? {} : { parallel_tool_calls: req.parallelToolCalls }),
  };
}

/** OpenAI, Azure and the compatible servers that say (Groq, Mistral, vLLM by default) take 4; more is a 400 there. */
const OPENAI_STOPS: StopRule = { max: 4, blank: true };

function wireStops(stops: readonly string[] | undefined): Record<string, unknown> {
  const stop = upstreamStops(stops, OPENAI_STOPS);
  return stop ? { stop } : {};
}

/** JSON mode, or structured output to a schema, as the chat completions API asks for it. */
function wireResponseFormat(req: SiteRequest): Record<string, unknown> {
  const f = req.responseFormat;
  if (!f) return {};
  if (!f.schema) return { response_format: { type: 'json_object' } };
  const { name = 'response', schema, description, strict } = f;
  return { response_format: { type: 'json_schema', json_schema: { name, schema, ...(description !== undefined ? { description } : {}), ...(strict !== undefined ? { strict } : {}) } } };
}

function requestBody(site: Site, model: SiteModel, req: SiteRequest, endpoint: Endpoint, stream: boolean): string {
  return JSON.stringify({
    model: model.providerModel,
    messages: req.messages.map(wireMessage),
    [endpoint.maxTokensField]: req.maxTokens,
    ...wireSampling(req.sampling),
    ...wireStops(req.stop),
    ...wireTools(req),
    ...wireResponseFormat(req),
    ...(req.reasoningEffort ? { reasoning_effort: req.reasoningEffort } : {}),
    ...(stream ? { stream: true, ...(ASKS_FOR_USAGE(site.provider) ? { stream_options: { include_usage: true } } : {}) } : {}),
  });
}

/**
 * The number of the call each streamed piece belongs to. OpenAI numbers calls with `index` and sends the id
 * in a call's first piece only; Gemini's OpenAI compatibility and some proxies leave `index` out, or number
 * every call 0, yet still start each call with its own id. So a new id starts a new call, and a piece
 * without one goes on with the call its index names (without an index, the call before it).
 */
function streamedCallNumbers(): (call: WireToolCall) => number {
  /** Ours by the wire's index, with the id that call started with. */
  const byIndex = new Map<number | undefined, { ours: number; id?: string }>();
  let count = 0;
  let last = -1;
  return (call) => {
    const index = typeof call.index === 'number' ? call.index : undefined;
    const id = typeof call.id === 'string' && call.id ? call.id : undefined;
    const seen = byIndex.get(index);
    let ours: number;
    if (seen && (id === undefined || seen.id === undefined || seen.id === id)) {
      ours = seen.ours;
      seen.id ??= id;
    } else if (!id && index === undefined && last >= 0) {
      ours = last;
    } else {
      ours = count++;
      byIndex.set(index, { ours, id });
    }
    last = ours;
    return ours;
  };
}

/** A piece of call number `index`, streamed or whole (JSON answers number calls by their position). */
function toolCallDelta(call: WireToolCall, index: number): ToolCallDelta {
  return {
    index,
    ...(typeof call.id === 'string' && call.id ? { id: call.id } : {}),
    ...(typeof call.function?.name === 'string' && call.function.name ? { name: call.function.name } : {}),
    ...(typeof call.function?.arguments === 'string' && call.function.arguments ? { arguments: call.function.arguments } : {}),
  };
}

/** Each sampling field's name in the chat completions API (the daemon's own endpoint reads them by it too). */
export const OPENAI_SAMPLING_NAMES: Record<keyof Sampling, string> = {
  temperature: 'temperature', topP: 'top_p', presencePenalty: 'presence_penalty', frequencyPenalty: 'frequency_penalty', seed: 'seed',
};

/** The request's sampling, in the chat completions API's own names. */
function wireSampling(s: Sampling | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [field, value] of Object.entries(s ?? {})) if (value !== undefined) out[OPENAI_SAMPLING_NAMES[field as keyof Sampling]] = value;
  return out;
}

/** Content codings a server may answer with although asked for identity; each is decoded as it streams. */
const DECODERS: Record<string, () => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/** The answer's body as text comes: the body itself, or its bytes through the decoder its coding names. */
function decodedBody(body: Readable, contentEncoding: string | undefined): Readable | { unsupported: string } {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  const decoder = DECODERS[coding];
  return decoder ? body.pipe(decoder()) : { unsupported: coding };
}

function headersOf(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) if (value !== undefined) out[key] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** An HTTP error answer: the provider's own message (OpenAI's {error: {message}} or any text), its status, and when to come back. */
function statusError(status: number, body: string, headers: Record<string, string>): SiteError {
  let message = body.trim().slice(0, 500);
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const candidate = typeof parsed.error === 'object' ? parsed.error?.message : parsed.error ?? parsed.message;
    if (typeof candidate === 'string' && candidate) message = candidate;
  } catch {
    // Not JSON (a proxy's HTML page, plain text): the text itself is the message.
  }
  const error: SiteError = { status, message: message || `HTTP ${status}`, retryable: retryableStatus(status) };
  const after = retryAfterMs(headers);
  if (after !== undefined) error.retryAfterMs = after;
  return error;
}

export function createOpenAIAdapter(site: Site, options: AdapterOptions = {}): SiteAdapter {
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const streaming = options.stream ?? true;
  const now = options.now ?? (() => performance.now());
  // A site that cannot be addressed (no base URL) fails each request with the reason, not the daemon.
  let endpoint: Endpoint;
  try {
    endpoint = openAIEndpoint(site);
  } catch (error) {
    const message = (error as Error).message;
    return { send: async (req) => startAttempt(req, openAITracker(), { bytes: 0, status: null, headers: {}, stalled: false }, now, idleMs).result('error', { message, retryable: false }) };
  }
  // One kept-alive pool per site (undici, the client under Node's own fetch, without fetch's web streams):
  // a request does not pay for a TCP (and TLS) handshake. Idle sockets close after KEEP_ALIVE_MS, or
  // sooner when the server's Keep-Alive header says it closes sooner. No bytes for idleMs, before the
  // answer's headers or between its pieces, is a stall, worth another site.
  const pool = new Pool(endpoint.url.origin, { keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: idleMs, bodyTimeout: idleMs });
  const path = endpoint.url.pathname + endpoint.url.search;

  async function send(req: SiteRequest): Promise<SiteResult> {
    const stats: WireStats = { bytes: 0, status: null, headers: {}, stalled: false };
    const tracker = openAITracker();
    const attempt = startAttempt(req, tracker, stats, now, idleMs, streaming);
    if (req.signal.aborted) return attempt.result('cancelled');
    const payload = requestBody(site, req.model, req, endpoint, streaming);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: streaming ? 'text/event-stream' : 'application/json',
      // Without the header a server may pick any coding (RFC 9110). Identity costs nothing to read on
      // loopback and in-region; a server that compresses anyway is decoded (decodedBody).
      'accept-encoding': 'identity',
    };
    if (req.apiKey) {
      const [name, value] = endpoint.auth(req.apiKey);
      headers[name] = value;
    }

    /**
     * One HTTP exchange. A kept-alive socket can be closed by the server just as we reuse it (its idle
     * timeout racing ours): the request then dies unanswered, and it is sent once more instead of
     * failing the site, as browsers do. A fresh connection that dies so is the site failing.
     */
    const exchange = (first: boolean) => new Promise<SiteResult | typeof STALE>((resolve) => {
      // The pool hands a request to an idle connection when it has one: then the socket is a reused one.
      const reusing = first && pool.stats.free > 0;
      let settled = false;
      const settle = (result: SiteResult | typeof STALE) => {
        if (settled) return;
        settled = true;
        req.signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      // Aborting closes the request's socket, so the upstream stops generating (and billing) at once.
      const upstream = new AbortController();
      const onAbort = () => {
        upstream.abort();
        settle(attempt.result('cancelled'));
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      const broke = (error: Error) => {
        if (isTimeout(error)) {
          stats.stalled = true;
          return settle(attempt.ended());
        }
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (reusing && stats.status === null && UNANSWERED.has(code) && !req.signal.aborted) return settle(STALE);
        settle(attempt.failed(stats.status === null ? toSiteError(error, stats.headers) : { ...toSiteError(error, stats.headers), message: `the response broke off: ${error.message}`, retryable: true }));
      };
      pool.request({ path, method: 'POST', headers, body: payload, signal: upstream.signal }).then((res) => {
        stats.status = res.statusCode;
        stats.headers = headersOf(res.headers);
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        const source = decodedBody(res.body, stats.headers['content-encoding']);
        if ('unsupported' in source) {
          upstream.abort();
          return settle(attempt.failed({ message: `the answer is in a content coding Switchyard cannot read: ${source.unsupported}`, retryable: true }));
        }
        const decoder = new StringDecoder('utf8');
        const callNumber = streamedCallNumbers();
        let body = '';
        let streamError: SiteError | undefined;
        const parser = ok && streaming
          ? createParser({
              onEvent(event) {
                if (event.data === '[DONE]') return;
                let chunk: ChatChunk;
                try {
                  chunk = JSON.parse(event.data) as ChatChunk;
                } catch {
                  streamError ??= { message: `malformed response: an event is not JSON: ${event.data.slice(0, 120)}`, retryable: true };
                  return;
                }
                tracker.chunk(chunk);
                const delta = chunk.choices?.[0]?.delta;
                if (typeof delta?.content === 'string') attempt.delta(delta.content);
                // DeepSeek and vLLM stream a reasoning model's thinking as reasoning_content, OpenRouter and Groq as reasoning.
                const thinking = delta?.reasoning_content ?? delta?.reasoning;
                if (typeof thinking === 'string') attempt.reasoning(thinking);
                if (Array.isArray(delta?.tool_calls)) for (const call of delta.tool_calls) attempt.toolCall(toolCallDelta(call, callNumber(call)));
              },
            })
          : null;
        // Bytes are counted as they arrive on the wire (that is what egress is billed on), text as decoded.
        res.body.on('data', (data: Buffer) => (stats.bytes += data.length));
        res.body.on('error', broke);
        if (source !== res.body) {
          source.on('error', (error) => {
            upstream.abort();
            settle(attempt.failed({ message: `the answer could not be decoded (${stats.headers['content-encoding']}): ${error.message}`, retryable: true }));
          });
        }
        source.on('data', (data: Buffer) => {
          const text = decoder.write(data);
          if (parser) parser.feed(text);
          else body += text;
          // A malformed event: the rest of the stream cannot be trusted; stop reading it.
          if (streamError && !settled) {
            upstream.abort();
            settle(attempt.ended(streamError));
          }
        });
        source.on('end', () => {
          const rest = decoder.end();
          if (parser) {
            parser.feed(rest);
            return settle(attempt.ended(streamError));
          }
          body += rest;
          if (!ok) return settle(attempt.result('error', statusError(res.statusCode, body, stats.headers)));
          let answer: ChatChunk;
          try {
            answer = JSON.parse(body) as ChatChunk;
          } catch {
            return settle(attempt.failed({ message: `malformed response: the body is not JSON (${body.length} characters)`, retryable: true }));
          }
          tracker.body(answer);
          const message = answer.choices?.[0]?.message;
          if (typeof message?.content === 'string') attempt.delta(message.content);
          if (Array.isArray(message?.tool_calls)) message.tool_calls.forEach((call, i) => attempt.toolCall(toolCallDelta(call, i)));
          settle(attempt.ended());
        });
      }, broke);
    });
    const first = await exchange(true);
    return first === STALE ? ((await exchange(false)) as SiteResult) : first;
  }

  return { send };
}
