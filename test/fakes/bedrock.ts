// A fake AWS Bedrock runtime on 127.0.0.1: Converse (`POST /model/{id}/converse`, JSON) and ConverseStream
// (`POST /model/{id}/converse-stream`, the AWS event-stream binary framing: prelude with total and
// header lengths and its CRC32, string headers :event-type / :content-type / :message-type, JSON payload,
// message CRC32), events messageStart, contentBlockDelta, contentBlockStop, messageStop, metadata.usage.
// Errors are JSON `{message}` with x-amzn-ErrorType, as Bedrock sends them.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export interface BedrockScript {
  pieces?: string[];
  /** cacheWrite1h: the share of cacheWrite written with a 1-hour TTL, reported in cacheDetails (1h before 5m, as Bedrock sorts them). */
  usage?: { input: number; output: number; cacheRead?: number; cacheWrite?: number; cacheWrite1h?: number };
  stopReason?: string;
  /** Tool uses after the text (input as JSON text); the turn then stops with tool_use. */
  toolUses?: { id: string; name: string; input: string }[];
  fault?:
    | { kind: 'status'; status: number; type: string; message: string }
    | { kind: 'cut'; afterChunks: number }
    /** An exception message inside the stream after `afterChunks` pieces (throttlingException, validationException...), then the end. */
    | { kind: 'exception'; afterChunks: number; type: string; message: string };
}

export interface BedrockRecorded {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** The request body as sent, for checking a signature over it. */
  raw: Buffer;
  bytesSent: number;
}

function header(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const v = Buffer.from(value, 'utf8');
  const out = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
  out.writeUInt8(n.length, 0);
  n.copy(out, 1);
  out.writeUInt8(7, 1 + n.length); // string
  out.writeUInt16BE(v.length, 2 + n.length);
  v.copy(out, 4 + n.length);
  return out;
}

/** One event-stream message: an event, or an exception (`:message-type` exception, named by `:exception-type`). */
export function eventMessage(eventType: string, payload: unknown, messageType: 'event' | 'exception' = 'event'): Buffer {
  const headers = messageType === 'event'
    ? Buffer.concat([header(':event-type', eventType), header(':content-type', 'application/json'), header(':message-type', 'event')])
    : Buffer.concat([header(':exception-type', eventType), header(':content-type', 'application/json'), header(':message-type', 'exception')]);
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const total = 12 + headers.length + body.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headers.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(zlib.crc32(prelude), 0);
  const withoutCrc = Buffer.concat([prelude, preludeCrc, headers, body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(withoutCrc), 0);
  return Buffer.concat([withoutCrc, crc]);
}

/** Converse's cache-write fields: the total, and cacheDetails by TTL (empty entries left out). */
function cacheWrites(usage: BedrockScript['usage']): Record<string, unknown> {
  if (!usage?.cacheWrite) return {};
  const oneHour = usage.cacheWrite1h ?? 0;
  const details = [{ ttl: '1h', inputTokens: oneHour }, { ttl: '5m', inputTokens: usage.cacheWrite - oneHour }].filter((d) => d.inputTokens > 0);
  return { cacheWriteInputTokens: usage.cacheWrite, cacheDetails: details };
}

export class FakeBedrock {
  readonly requests: BedrockRecorded[] = [];
  private readonly scripts: BedrockScript[] = [];
  private server!: http.Server;
  port = 0;

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  enqueue(...scripts: BedrockScript[]): this {
    this.scripts.push(...scripts);
    return this;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const record: BedrockRecorded = { path: req.url ?? '', headers: req.headers, body: JSON.parse(raw.toString('utf8') || 'null'), raw, bytesSent: 0 };
    this.requests.push(record);
    const script = this.scripts.shift() ?? {};
    const send = (b: Buffer | string) => {
      record.bytesSent += Buffer.byteLength(b);
      res.write(b);
    };
    const common = { 'x-amzn-requestid': 'fake-request-id' };
    if (script.fault?.kind === 'status') {
      res.writeHead(script.fault.status, { 'content-type': 'application/json', 'x-amzn-errortype': `${script.fault.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, ...common });
      send(JSON.stringify({ message: script.fault.message }));
      return void res.end();
    }
    const pieces = script.pieces ?? ['Hello', ' from', ' Bedrock', '.'];
    const usage = { inputTokens: script.usage?.input ?? 10, outputTokens: script.usage?.output ?? pieces.length, totalTokens: (script.usage?.input ?? 10) + (script.usage?.output ?? pieces.length), ...(script.usage?.cacheRead ? { cacheReadInputTokens: script.usage.cacheRead } : {}), ...cacheWrites(script.usage) };
    const toolUses = script.toolUses ?? [];
    const stopReason = script.stopReason ?? (toolUses.length ? 'tool_use' : 'end_turn');
    if (!(req.url ?? '').endsWith('/converse-stream')) {
      res.writeHead(200, { 'content-type': 'application/json', ...common });
      const content = [{ text: pieces.join('') }, ...toolUses.map((t) => ({ toolUse: { toolUseId: t.id, name: t.name, input: JSON.parse(t.input) } }))];
      send(JSON.stringify({ output: { message: { role: 'assistant', content } }, stopReason, usage, metrics: { latencyMs: 12 } }));
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', ...common });
    send(eventMessage('messageStart', { role: 'assistant', p: 'abcd' }));
    for (let i = 0; i < pieces.length; i++) {
      if (script.fault?.kind === 'cut' && i === script.fault.afterChunks) return void res.end();
      if (script.fault?.kind === 'exception' && i === script.fault.afterChunks) {
        send(eventMessage(script.fault.type, { message: script.fault.message }, 'exception'));
        return void res.end();
      }
      send(eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { text: pieces[i] }, p: 'abcdefgh' }));
    }
    send(eventMessage('contentBlockStop', { contentBlockIndex: 0, p: 'ab' }));
    toolUses.forEach((t, i) => {
      const block = i + 1;
      send(eventMessage('contentBlockStart', { contentBlockIndex: block, start: { toolUse: { toolUseId: t.id, name: t.name } }, p: 'ab' }));
      const half = Math.ceil(t.input.length / 2);
      for (const part of [t.input.slice(0, half), t.input.slice(half)]) send(eventMessage('contentBlockDelta', { contentBlockIndex: block, delta: { toolUse: { input: part } }, p: 'abc' }));
      send(eventMessage('contentBlockStop', { contentBlockIndex: block, p: 'ab' }));
    });
    send(eventMessage('messageStop', { stopReason, p: 'abc' }));
    send(eventMessage('metadata', { usage, metrics: { latencyMs: 42 }, p: 'a' }));
    res.end();
  }
}
