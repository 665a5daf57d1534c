// Fake upstream providers on 127.0.0.1 (ephemeral port) that speak the real wire formats byte for byte as
// documented: OpenAI chat completions (JSON and SSE with the include_usage chunk), Anthropic Messages
// (JSON and its SSE event sequence) and Gemini generateContent / streamGenerateContent?alt=sse. Each
// answer follows a script: the text pieces, the usage to report, and optionally a fault: answer slowly,
// fail with a status (+ Retry-After), stall, cut mid-stream, reset the connection, send a malformed
// event or (Anthropic) an error event. Every request is recorded, including whether the client closed
// the connection before the answer was over (an abort reaching the upstream).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export type WireFormat = 'openai' | 'anthropic' | 'gemini';

export type Fault =
  | { kind: 'status'; status: number; message?: string; type?: string; retryAfter?: string; retryAfterMs?: number; headers?: Record<string, string> }
  /** Send headers and `afterChunks` text pieces, then nothing more (the socket stays open). */
  | { kind: 'stall'; afterChunks: number }
  /** End the response cleanly after `afterChunks` pieces, without any finish. */
  | { kind: 'cut'; afterChunks: number }
  /** End the response cleanly after `afterEvents` of the tool-call events (mid-arguments), without any finish. */
  | { kind: 'cut-in-tools'; afterEvents: number }
  /** Reset the TCP connection after `afterChunks` pieces. */
  | { kind: 'reset'; afterChunks: number }
  /** Send one unparseable event after `afterChunks` pieces, then end. */
  | { kind: 'malformed'; afterChunks: number }
  /** Anthropic: an `event: error` after `afterChunks` pieces; OpenAI: a `{error}` chunk. */
  | { kind: 'error-event'; afterChunks: number; type?: string; message?: string };

export interface Script {
  pieces?: string[];
  /**
   * Reported usage; input defaults to a char/4 count of the prompt, output to the number of pieces.
   * cacheWrite1h: the share of cacheWrite written to Anthropic's 1-hour cache (the rest is 5-minute).
   */
  usage?: { input?: number; cached?: number; cacheWrite?: number; cacheWrite1h?: number; output?: number; reasoning?: number };
  /** Finish as the length limit. */
  length?: boolean;
  /** Finish as the provider's content filter stopping the answer (OpenAI content_filter, Anthropic refusal, Gemini SAFETY). */
  filtered?: boolean;
  /** OpenAI: this finish_reason instead of the one the script implies (Mistral's `error` and `model_length`). */
  finishReason?: string;
  /** Gemini: the prompt itself is blocked (promptFeedback.blockReason, e.g. SAFETY): no candidates, only the prompt's usage. */
  promptBlocked?: string;
  /** Before the response headers, ms. */
  firstDelayMs?: number;
  /** Between pieces, ms. */
  delayMs?: number;
  fault?: Fault;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Tool calls after the text pieces (arguments are JSON text); the answer then ends as a tool-use turn. */
  toolCalls?: FakeToolCall[];
  /**
   * Reasoning streamed before any text (and before a fault's pieces are counted): Anthropic's thinking
   * block, OpenAI-compatible servers' `reasoning_content`.
   */
  thinking?: string[];
  /**
   * OpenAI: how streamed calls are numbered. Default: index 0, 1, ... as OpenAI does. Some compatible
   * servers and proxies (Gemini's OpenAI compatibility among them) leave `index` out, or give every call
   * index 0, each new call still starting with its own id.
   */
  toolIndex?: 'omitted' | 'zero';
  /**
   * Answer in this content coding whatever the request asked for (servers that compress regardless).
   * gzip, deflate and br are encoded, flushed per write; any other name is only sent as the header.
   */
  encoding?: string;
}

export interface FakeToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  stream: boolean;
  /** The client closed the connection before the answer was complete. */
  clientClosed: boolean;
  closed: Promise<boolean>;
  /** Response body bytes written to the socket. */
  bytesSent: number;
}

export const DEFAULT_PIECES = ['Hello', ' from', ' the', ' fake', ' upstream', '.'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakeUpstream {
  readonly requests: Recorded[] = [];
  private readonly scripts: Script[] = [];
  private defaultScript: Script = {};
  private server!: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  port = 0;

  constructor(readonly format: WireFormat) {}

  /** Base URL to put in endpoint.baseUrl (the path prefix each provider library expects). */
  get baseUrl(): string {
    const prefix = this.format === 'gemini' ? '/v1beta' : '/v1';
    return `http://127.0.0.1:${this.port}${prefix}`;
  }

  /** Scripts for the next requests, in order; then the default one. */
  enqueue(...scripts: Script[]): this {
    this.scripts.push(...scripts);
    return this;
  }

  setDefault(script: Script): this {
    this.defaultScript = script;
    return this;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: any = null;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = Buffer.concat(chunks).toString('utf8');
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const stream = this.format === 'gemini' ? url.pathname.includes(':streamGenerateContent') : body?.stream === true;
    let resolveClosed!: (v: boolean) => void;
    const record: Recorded = {
      method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body, stream, clientClosed: false, bytesSent: 0,
      closed: new Promise<boolean>((r) => (resolveClosed = r)),
    };
    this.requests.push(record);
    const rawWrite = res.write.bind(res) as (chunk: any, ...rest: any[]) => boolean;
    const rawEnd = res.end.bind(res) as (...args: any[]) => http.ServerResponse;
    res.write = ((chunk: any, ...rest: any[]) => {
      record.bytesSent += Buffer.byteLength(chunk);
      return rawWrite(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: any, ...rest: any[]) => {
      if (chunk !== undefined && typeof chunk !== 'function') record.bytesSent += Buffer.byteLength(chunk);
      return rawEnd(chunk, ...rest);
    }) as typeof res.end;
    res.on('close', () => {
      if (!res.writableFinished) record.clientClosed = true;
      resolveClosed(record.clientClosed);
    });
    const script = this.scripts.shift() ?? this.defaultScript;
    const encoder = script.encoding ? ENCODERS[script.encoding]?.() : undefined;
    if (encoder) encodeResponse(res, encoder);
    if (script.firstDelayMs) await sleep(script.firstDelayMs);
    if (res.destroyed) return;
    const fault = script.fault;
    if (fault?.kind === 'status') return this.fail(res, fault);
    if (fault?.kind === 'stall' && fault.afterChunks < 0) return; // nothing at all, not even headers

    const render = RENDER[this.format];
    const pieces = script.pieces ?? DEFAULT_PIECES;
    const text = pieces.join('');
    const usage = {
      input: script.usage?.input ?? Math.max(1, Math.ceil(JSON.stringify(body?.messages ?? body?.contents ?? '').length / 4)),
      cached: script.usage?.cached ?? 0,
      cacheWrite: script.usage?.cacheWrite ?? 0,
      cacheWrite1h: script.usage?.cacheWrite1h ?? 0,
      output: script.usage?.output ?? pieces.length,
      reasoning: script.usage?.reasoning ?? 0,
    };
    const model = this.format === 'gemini' ? decodeURIComponent(url.pathname.split('/models/')[1]?.split(':')[0] ?? 'model') : String(body?.model ?? 'model');
    const ctx: Ctx = { model, usage, length: script.length === true, filtered: script.filtered === true, includeUsage: body?.stream_options?.include_usage === true, toolCalls: script.toolCalls ?? [], toolIndex: script.toolIndex, finishReason: script.finishReason, thinking: script.thinking ?? [] };
    const headers = { ...rateLimitHeaders(this.format), ...script.headers, ...(script.encoding ? { 'content-encoding': script.encoding } : {}) };

    if (script.promptBlocked && this.format === 'gemini') {
      // A blocked prompt gets one response (or one streamed chunk) with no candidates, as Gemini sends it.
      const blocked = {
        promptFeedback: { blockReason: script.promptBlocked, safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }] },
        usageMetadata: { promptTokenCount: usage.input, totalTokenCount: usage.input },
        modelVersion: model, responseId: 'fake',
      };
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', ...headers });
      return void res.end(stream ? `data: ${JSON.stringify(blocked)}\r\n\r\n` : JSON.stringify(blocked));
    }

    if (!stream) {
      const json = JSON.stringify(render.json(ctx, text));
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      if (fault?.kind === 'reset') {
        res.write(json.slice(0, 10));
        await sleep(5);
        return void req.socket.resetAndDestroy();
      }
      if (fault?.kind === 'stall') return void res.write(json.slice(0, 10));
      if (fault?.kind === 'malformed' || fault?.kind === 'cut') return void res.end(json.slice(0, Math.floor(json.length / 2)));
      return void res.end(json);
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
    const write = (s: string) => !res.destroyed && res.write(s);
    for (const e of render.start(ctx)) write(e);
    for (let i = 0; i <= pieces.length; i++) {
      if (fault && 'afterChunks' in fault && i === fault.afterChunks) {
        switch (fault.kind) {
          case 'stall':
            return; // keep the socket open, send nothing more
          case 'cut':
            return void res.end();
          case 'reset':
            await sleep(5);
            return void req.socket.resetAndDestroy();
          case 'malformed':
            write(render.malformed());
            return void res.end();
          case 'error-event':
            write(render.errorEvent(fault.type ?? 'overloaded_error', fault.message ?? 'Overloaded'));
            return void res.end();
        }
      }
      if (i === pieces.length) break;
      if (script.delayMs && i > 0) await sleep(script.delayMs);
      if (res.destroyed) return;
      write(render.delta(ctx, pieces[i], i));
    }
    if (script.delayMs) await sleep(script.delayMs);
    for (const [j, e] of (ctx.toolCalls.length ? render.tools(ctx) : []).entries()) {
      if (fault?.kind === 'cut-in-tools' && j === fault.afterEvents) return void res.end();
      write(e);
    }
    for (const e of render.finish(ctx)) write(e);
    res.end();
  }

  private fail(res: http.ServerResponse, fault: Extract<Fault, { kind: 'status' }>): void {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...rateLimitHeaders(this.format), ...fault.headers };
    if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
    if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
    if (fault.status === 429) {
      if (this.format === 'openai') headers['x-ratelimit-remaining-requests'] = '0';
      if (this.format === 'anthropic') headers['anthropic-ratelimit-requests-remaining'] = '0';
    }
    res.writeHead(fault.status, headers);
    res.end(JSON.stringify(RENDER[this.format].error(fault.status, fault.message ?? defaultMessage(fault.status), fault.type)));
  }
}

const ENCODERS: Record<string, () => zlib.Gzip | zlib.Deflate | zlib.BrotliCompress> = {
  gzip: () => zlib.createGzip(),
  deflate: () => zlib.createDeflate(),
  br: () => zlib.createBrotliCompress(),
};

/** Routes the response body through the encoder; bytesSent (counted by the writes underneath) stays wire bytes. */
function encodeResponse(res: http.ServerResponse, encoder: zlib.Gzip | zlib.Deflate | zlib.BrotliCompress): void {
  const write = res.write.bind(res) as (chunk: Buffer) => boolean;
  const end = res.end.bind(res) as () => http.ServerResponse;
  encoder.on('data', (chunk: Buffer) => !res.destroyed && write(chunk));
  encoder.on('end', () => !res.destroyed && end());
  res.write = ((chunk: string | Buffer) => {
    encoder.write(chunk);
    // Each piece goes out as it is written, as a streaming server's would.
    encoder.flush();
    return true;
  }) as typeof res.write;
  res.end = ((chunk?: unknown) => {
    if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) encoder.write(chunk);
    encoder.end();
    return res;
  }) as typeof res.end;
}

interface Ctx {
  model: string;
  usage: { input: number; cached: number; cacheWrite: number; cacheWrite1h: number; output: number; reasoning: number };
  length: boolean;
  filtered: boolean;
  includeUsage: boolean;
  toolCalls: FakeToolCall[];
  toolIndex?: 'omitted' | 'zero';
  finishReason?: string;
  thinking: string[];
}

interface Renderer {
  json(ctx: Ctx, text: string): unknown;
  start(ctx: Ctx): string[];
  delta(ctx: Ctx, piece: string, index: number): string;
  /** The tool calls as the format streams them, between the text and the finish. */
  tools(ctx: Ctx): string[];
  finish(ctx: Ctx): string[];
  malformed(): string;
  errorEvent(type: string, message: string): string;
  error(status: number, message: string, type?: string): unknown;
}

function defaultMessage(status: number): string {
  if (status === 401) return 'Incorrect API key provided. You can find your API key at https://platform.example/account/api-keys.';
  if (status === 429) return 'Rate limit reached for requests. Please try again later.';
  if (status >= 500) return 'The server had an error while processing your request.';
  return 'Bad request.';
}

function rateLimitHeaders(format: WireFormat): Record<string, string> {
  if (format === 'openai') {
    return {
      'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-limit-tokens': '30000', 'x-ratelimit-remaining-tokens': '29900', 'x-ratelimit-reset-tokens': '200ms',
      'x-request-id': 'req_fake', 'openai-processing-ms': '12',
    };
  }
  if (format === 'anthropic') {
    return {
      'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': new Date(Date.now() + 60_000).toISOString(),
      'anthropic-ratelimit-tokens-limit': '40000', 'anthropic-ratelimit-tokens-remaining': '39000', 'request-id': 'req_fake',
    };
  }
  return { 'x-goog-fake': 'true' };
}

const sse = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const CREATED = 1_753_000_000;

function openAIUsage(ctx: Ctx) {
  return {
    prompt_tokens: ctx.usage.input + ctx.usage.cached,
    completion_tokens: ctx.usage.output,
    total_tokens: ctx.usage.input + ctx.usage.cached + ctx.usage.output,
    prompt_tokens_details: { cached_tokens: ctx.usage.cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: ctx.usage.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

const openAIChunk = (ctx: Ctx, choices: unknown[], extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: CREATED, model: ctx.model, system_fingerprint: 'fp_fake', choices, ...extra,
});

// cache_creation breaks the writes down by cache lifetime; the API sends it with zeros when nothing was written.
const anthropicUsage = (ctx: Ctx) => ({
  input_tokens: ctx.usage.input, cache_creation_input_tokens: ctx.usage.cacheWrite, cache_read_input_tokens: ctx.usage.cached,
  cache_creation: { ephemeral_5m_input_tokens: ctx.usage.cacheWrite - ctx.usage.cacheWrite1h, ephemeral_1h_input_tokens: ctx.usage.cacheWrite1h },
  output_tokens: ctx.usage.output,
});

function geminiUsage(ctx: Ctx, output: number) {
  return {
    promptTokenCount: ctx.usage.input + ctx.usage.cached,
    ...(ctx.usage.cached ? { cachedContentTokenCount: ctx.usage.cached } : {}),
    candidatesTokenCount: output,
    ...(ctx.usage.reasoning ? { thoughtsTokenCount: ctx.usage.reasoning } : {}),
    totalTokenCount: ctx.usage.input + ctx.usage.cached + output + ctx.usage.reasoning,
  };
}

/** Argument text in two pieces, as providers stream it in several. */
const halves = (text: string) => [text.slice(0, Math.ceil(text.length / 2)), text.slice(Math.ceil(text.length / 2))].filter(Boolean);
const openAIFinish = (ctx: Ctx) => ctx.finishReason ?? (ctx.length ? 'length' : ctx.filtered ? 'content_filter' : ctx.toolCalls.length ? 'tool_calls' : 'stop');
/** Anthropic numbers content blocks in order: a thinking block comes first. */
const textBlock = (ctx: Ctx) => (ctx.thinking.length ? 1 : 0);
const anthropicStop = (ctx: Ctx) => (ctx.length ? 'max_tokens' : ctx.filtered ? 'refusal' : ctx.toolCalls.length ? 'tool_use' : 'end_turn');
const geminiFinish = (ctx: Ctx) => (ctx.length ? 'MAX_TOKENS' : ctx.filtered ? 'SAFETY' : 'STOP');
const geminiCalls = (ctx: Ctx) => ctx.toolCalls.map((c) => ({ functionCall: { name: c.name, args: JSON.parse(c.arguments) } }));

const RENDER: Record<WireFormat, Renderer> = {
  openai: {
    json: (ctx, text) => ({
      id: 'chatcmpl-fake', object: 'chat.completion', created: CREATED, model: ctx.model, system_fingerprint: 'fp_fake',
      choices: [{
        index: 0,
        message: ctx.toolCalls.length
          ? { role: 'assistant', content: text || null, refusal: null, tool_calls: ctx.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }
          : { role: 'assistant', content: text, refusal: null },
        logprobs: null,
        finish_reason: openAIFinish(ctx),
      }],
      usage: openAIUsage(ctx),
    }),
    start: (ctx) => [
      sse(openAIChunk(ctx, [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }])),
      ...ctx.thinking.map((piece) => sse(openAIChunk(ctx, [{ index: 0, delta: { reasoning_content: piece }, logprobs: null, finish_reason: null }]))),
    ],
    delta: (ctx, piece) => sse(openAIChunk(ctx, [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }])),
    tools: (ctx) => ctx.toolCalls.flatMap((c, i) => {
      const index = ctx.toolIndex === 'omitted' ? {} : { index: ctx.toolIndex === 'zero' ? 0 : i };
      return [
        { ...index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } },
        ...halves(c.arguments).map((part) => ({ ...index, function: { arguments: part } })),
      ].map((call) => sse(openAIChunk(ctx, [{ index: 0, delta: { tool_calls: [call] }, logprobs: null, finish_reason: null }])));
    }),
    finish: (ctx) => [
      sse(openAIChunk(ctx, [{ index: 0, delta: {}, logprobs: null, finish_reason: openAIFinish(ctx) }])),
      ...(ctx.includeUsage ? [sse(openAIChunk(ctx, [], { usage: openAIUsage(ctx) }))] : []),
      'data: [DONE]\n\n',
    ],
    malformed: () => 'data: {"id":"chatcmpl-fake","choices":[{"index":0,"delta":{"content":"oops\n\n',
    errorEvent: (type, message) => sse({ error: { message, type, param: null, code: null } }),
    error: (status, message, type) => ({
      error: { message, type: type ?? (status === 429 ? 'requests' : status === 401 ? 'invalid_request_error' : status >= 500 ? 'server_error' : 'invalid_request_error'), param: null, code: status === 401 ? 'invalid_api_key' : status === 429 ? 'rate_limit_exceeded' : null },
    }),
  },
  anthropic: {
    json: (ctx, text) => ({
      id: 'msg_fake', type: 'message', role: 'assistant', model: ctx.model,
      content: [...(text || !ctx.toolCalls.length ? [{ type: 'text', text }] : []), ...ctx.toolCalls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: JSON.parse(c.arguments) }))],
      stop_reason: anthropicStop(ctx), stop_sequence: null, usage: anthropicUsage(ctx),
    }),
    start: (ctx) => [
      event('message_start', {
        type: 'message_start',
        message: { id: 'msg_fake', type: 'message', role: 'assistant', model: ctx.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...anthropicUsage(ctx), output_tokens: 1 } },
      }),
      ...(ctx.thinking.length ? [
        event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
        ...ctx.thinking.map((piece) => event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: piece } })),
        event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' } }),
        event('content_block_stop', { type: 'content_block_stop', index: 0 }),
      ] : []),
      event('content_block_start', { type: 'content_block_start', index: textBlock(ctx), content_block: { type: 'text', text: '' } }),
      event('ping', { type: 'ping' }),
    ],
    delta: (ctx, piece) => event('content_block_delta', { type: 'content_block_delta', index: textBlock(ctx), delta: { type: 'text_delta', text: piece } }),
    // The text block closes before the first tool_use block opens.
    tools: (ctx) => [
      event('content_block_stop', { type: 'content_block_stop', index: textBlock(ctx) }),
      ...ctx.toolCalls.flatMap((c, i) => [
        event('content_block_start', { type: 'content_block_start', index: textBlock(ctx) + i + 1, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } }),
        ...halves(c.arguments).map((part) => event('content_block_delta', { type: 'content_block_delta', index: textBlock(ctx) + i + 1, delta: { type: 'input_json_delta', partial_json: part } })),
        event('content_block_stop', { type: 'content_block_stop', index: textBlock(ctx) + i + 1 }),
      ]),
    ],
    finish: (ctx) => [
      ...(ctx.toolCalls.length ? [] : [event('content_block_stop', { type: 'content_block_stop', index: textBlock(ctx) })]),
      event('message_delta', { type: 'message_delta', delta: { stop_reason: anthropicStop(ctx), stop_sequence: null }, usage: { output_tokens: ctx.usage.output } }),
      event('message_stop', { type: 'message_stop' }),
    ],
    malformed: () => 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_d\n\n',
    errorEvent: (type, message) => event('error', { type: 'error', error: { type, message } }),
    error: (status, message, type) => ({
      type: 'error',
      error: { type: type ?? (status === 429 ? 'rate_limit_error' : status === 401 ? 'authentication_error' : status === 529 ? 'overloaded_error' : status >= 500 ? 'api_error' : 'invalid_request_error'), message },
    }),
  },
  gemini: {
    json: (ctx, text) => ({
      candidates: [{ content: { parts: [...(text || !ctx.toolCalls.length ? [{ text }] : []), ...geminiCalls(ctx)], role: 'model' }, finishReason: geminiFinish(ctx), index: 0 }],
      usageMetadata: geminiUsage(ctx, ctx.usage.output), modelVersion: ctx.model, responseId: 'fake',
    }),
    start: () => [],
    delta: (ctx, piece, index) =>
      `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: piece }], role: 'model' }, index: 0 }], usageMetadata: geminiUsage(ctx, index + 1), modelVersion: ctx.model, responseId: 'fake' })}\r\n\r\n`,
    // Gemini sends each call whole, without an id.
    tools: (ctx) => [`data: ${JSON.stringify({ candidates: [{ content: { parts: geminiCalls(ctx), role: 'model' }, index: 0 }], modelVersion: ctx.model, responseId: 'fake' })}\r\n\r\n`],
    finish: (ctx) => [
      `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: geminiFinish(ctx), index: 0 }], usageMetadata: geminiUsage(ctx, ctx.usage.output), modelVersion: ctx.model, responseId: 'fake' })}\r\n\r\n`,
    ],
    malformed: () => 'data: {"candidates": [{"content": {"parts": [{"text": "oo\r\n\r\n',
    errorEvent: (type, message) => `data: ${JSON.stringify({ error: { code: 503, message, status: type } })}\r\n\r\n`,
    error: (status, message, type) => ({
      error: { code: status, message, status: type ?? (status === 429 ? 'RESOURCE_EXHAUSTED' : status === 401 ? 'UNAUTHENTICATED' : status === 400 ? 'INVALID_ARGUMENT' : status === 503 ? 'UNAVAILABLE' : 'INTERNAL') },
    }),
  },
};

export async function startFake(format: WireFormat): Promise<FakeUpstream> {
  return new FakeUpstream(format).start();
}
