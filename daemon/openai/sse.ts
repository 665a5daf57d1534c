// Server-sent events as OpenAI streams chat completions: `data: <chunk JSON>\n\n` per chunk, then
// `data: [DONE]`. Headers go out with the first token (failovers' comments wait for it), before the cost
// is known, so the cost cannot be a header here: it rides on the final chunk (`switchyard`) and on the
// usage chunk when the client asked for include_usage.

import type { ServerResponse } from 'node:http';
import type { Receipt, ToolCallDelta } from '../protocol';
import { finishReason, switchyardInfo, usage } from './request';
import type { OpenAIError } from './errors';
import { sendError } from './http';

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

export class ChunkWriter {
  private started = false;
  private ended = false;
  private calledTools = false;
  /** Events not yet on the socket: this tick's, and the role chunk until the first event after it. */
  private pending = '';
  /** A flush is queued for this tick. */
  private scheduled = false;
  /** `base()` as JSON without its closing brace: the start of every delta chunk, made once per stream. */
  private readonly head: string;

  constructor(
    private readonly res: ServerResponse,
    private readonly id: string,
    private readonly created: number,
    private readonly model: string,
  ) {
    this.head = JSON.stringify(this.base()).slice(0, -1);
  }

  /**
   * Status and headers, then the role chunk OpenAI always sends first. Set, not written: until the first
   * event leaves, a failover can still name the site that answers, and a failure can still be an HTTP error.
   */
  start(headers: Record<string, string>): void {
    this.res.statusCode = 200;
    for (const [name, value] of Object.entries({ ...headers, ...SSE_HEADERS })) this.res.setHeader(name, value);
    this.started = true;
    // The role chunk waits for the first event after it, so that the headers, the role and the first
    // tokens reach the client in one write.
    this.pending = this.chunkText({ role: 'assistant', content: '', refusal: null });
  }

  delta(text: string): void {
    if (text) this.chunk({ content: text });
  }

  /** A piece of a tool call, as OpenAI streams one: id, type and name on its first piece, then argument text. */
  toolCall(piece: ToolCallDelta): void {
    this.calledTools = true;
    const fn = { ...(piece.name !== undefined ? { name: piece.name } : {}), arguments: piece.arguments ?? '' };
    this.chunk({ tool_calls: [{ index: piece.index, ...(piece.id !== undefined ? { id: piece.id, type: 'function' } : {}), function: fn }] });
  }

  /**
   * An SSE comment: clients skip it, a human reading the stream sees the failover. It waits, like the
   * role chunk, for the first event: until then the request can still fail as an HTTP error.
   */
  comment(text: string): void {
    if (!this.ended) this.pending += `: ${text.replace(/\n/g, ' ')}\n\n`;
  }

  /** The request moved to another site: the header says so while the headers are still to be sent. */
  movedTo(siteId: string): void {
    if (!this.res.headersSent) this.res.setHeader('x-switchyard-site', siteId);
  }

  /** The finishing chunk (with where and what it cost), the usage chunk when asked for, then [DONE]. */
  finish(receipt: Receipt, includeUsage: boolean): void {
    if (this.ended) return;
    this.write({ ...this.base(), choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason(receipt, this.calledTools) }], switchyard: switchyardInfo(receipt) });
    if (includeUsage) this.write({ ...this.base(), choices: [], usage: usage(receipt) });
    this.res.end(this.take() + 'data: [DONE]\n\n');
    this.ended = true;
  }

  /**
   * The request failed. Before anything was sent, as OpenAI does: the error's own HTTP status and a JSON
   * body (with the receipt of what was tried). After the stream began: an `{"error": ...}` event, which
   * OpenAI's SDKs raise as an APIError, preceded by the bill for what was produced when the client
   * asked for usage.
   */
  fail(error: OpenAIError, receipt: Receipt | null, includeUsage: boolean): void {
    if (this.ended) return;
    if (!this.res.headersSent) {
      this.ended = true;
      this.pending = '';
      for (const name of Object.keys(SSE_HEADERS)) this.res.removeHeader(name);
      if (receipt) error.body.error.switchyard = { receipt };
      return sendError(this.res, error);
    }
    if (receipt && includeUsage) this.write({ ...this.base(), choices: [], usage: usage(receipt), switchyard: switchyardInfo(receipt) });
    this.write({ error: error.body.error, ...(receipt ? { switchyard: switchyardInfo(receipt) } : {}) });
    this.res.end(this.take());
    this.ended = true;
  }

  get isStarted(): boolean {
    return this.started;
  }

  private base() {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, system_fingerprint: null };
  }

  /**
   * A chunk with one choice and no finish_reason: what JSON.stringify makes of `{ ...base(), choices:
   * [{ index: 0, delta, logprobs: null, finish_reason: null }] }`, with only the delta stringified per
   * chunk (one per token or so on a long answer).
   */
  private chunk(delta: Record<string, unknown>): void {
    if (!this.ended) this.send(this.chunkText(delta));
  }

  private chunkText(delta: Record<string, unknown>): string {
    return `data: ${this.head},"choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":null}]}\n\n`;
  }

  private write(value: unknown): void {
    if (!this.ended) this.send(`data: ${JSON.stringify(value)}\n\n`);
  }

  /**
   * Events written in the same tick (the pieces of one upstream read, the finish with its usage) leave
   * in one string and one socket write: one syscall and one wake-up of the client instead of one per
   * event, and no vector of small buffers to gather. Nothing waits for it: the batch is flushed before
   * any I/O is polled again.
   */
  private send(text: string): void {
    if (!this.scheduled) process.nextTick(this.flush);
    this.scheduled = true;
    this.pending += text;
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const text = this.take();
    if (text && !this.ended) this.res.write(text);
  };

  /** What is waiting to be sent, which the caller sends (or ends the response with). */
  private take(): string {
    const text = this.pending;
    this.pending = '';
    return text;
  }
}
